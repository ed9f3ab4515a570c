"""l2_norm: Σ over Conv2d/Linear layers of ‖W_l‖₂ (the Frobenius norm of each layer's weight,
not squared, summed), as the `l2_norm` measure of the zero-cost proxy libraries (Abdelfattah et
al. 2021's successors: the MeCo and GradSign authors' zero-cost-nas copies, NASLib) computes
it: a per-layer `weight.norm()`, summed over layers. No data: a baseline that tracks the size
and the initialisation of the network."""
import torch

from nas_core.proxies import register


@register("l2_norm", needs=("weights",), reference="zero-cost-nas l2_norm measure (a weight-norm baseline)")
def l2_norm(res, ctx) -> torch.Tensor:
    return sum(w.detach().norm(p=2) for w in res.weights)
