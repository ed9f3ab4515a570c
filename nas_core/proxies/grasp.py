"""grasp (Wang et al., ICLR 2020): sum -(H g) * W, H g by a second backward through g.stop_grad(g)."""
import torch

from nas_core.proxies import register


@register("grasp", needs=("hvp",), reference="Wang et al. 2020, GraSP")
def grasp(res, ctx) -> torch.Tensor:
    return sum((-h * w).sum() for h, w in zip(res.hvp, res.weights))
