"""#params and #FLOPs (millions) of the scored network, analytic (nas_core.space.complexity)."""
import torch

from nas_core.proxies import register


@register("params", needs=("analytic",), reference="complexity baseline")
def params(res, ctx) -> torch.Tensor:
    return torch.tensor(ctx["params_M"], dtype=torch.float64)


@register("flops", needs=("analytic",), reference="complexity baseline")
def flops(res, ctx) -> torch.Tensor:
    return torch.tensor(ctx["flops_M"], dtype=torch.float64)
