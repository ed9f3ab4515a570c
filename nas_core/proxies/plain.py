"""plain (Mozer & Smolensky 1989, as in Abdelfattah et al. 2021): sum dL/dW * W (signed)."""
import torch

from nas_core.proxies import register


@register("plain", needs=("grads",), reference="Abdelfattah et al. 2021, Zero-Cost Proxies")
def plain(res, ctx) -> torch.Tensor:
    return sum((g * w).sum() for g, w in zip(res.grads, res.weights))
