"""snip (Lee et al., ICLR 2019): sum |dL/dW * W| (connection sensitivity)."""
import torch

from nas_core.proxies import register


@register("snip", needs=("grads",), reference="Lee et al. 2019, SNIP")
def snip(res, ctx) -> torch.Tensor:
    return sum((g * w).abs().sum() for g, w in zip(res.grads, res.weights))
