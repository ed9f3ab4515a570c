"""relu: number of ReLU module calls in one forward pass (a depth/complexity count; every
edge op of the NB201 cell executes, so it counts the conv ops and the skeleton's ReLUs)."""
import torch

from nas_core.proxies import register


@register("relu", needs=("relu",), reference="Ning et al. 2021 (complexity baseline)")
def relu(res, ctx) -> torch.Tensor:
    return torch.tensor(float(res.relu_calls))
