"""grad_norm (Abdelfattah et al., ICLR 2021): sum over layers of ||dL/dW||_2."""
import torch

from nas_core.proxies import register


@register("grad_norm", needs=("grads",), reference="Abdelfattah et al. 2021, Zero-Cost Proxies")
def grad_norm(res, ctx) -> torch.Tensor:
    return sum(g.norm(p=2) for g in res.grads)
