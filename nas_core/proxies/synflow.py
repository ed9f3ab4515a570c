"""synflow (Tanaka et al., NeurIPS 2020): sum |dR/dW * W| on |W| in float64, input one
all-ones image, R = sum of outputs. `synflow` removes BN; `synflow_bn` keeps it (train mode).
float64 keeps the huge range exact; AMP never touches it."""
import torch

from nas_core.proxies import register


@register("synflow", needs=("synflow",), reference="Tanaka et al. 2020, SynFlow")
def synflow(res, ctx) -> torch.Tensor:
    return ctx["synflow"]


@register("synflow_bn", needs=("synflow_bn",), reference="Tanaka et al. 2020, SynFlow (BN kept)")
def synflow_bn(res, ctx) -> torch.Tensor:
    return ctx["synflow_bn"]
