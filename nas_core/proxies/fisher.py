"""fisher (Turner et al. 2020, Theis et al. 2018): per output channel c of every conv/linear
output z, 0.5 * mean over the batch of (sum over space of z * dL/dz)^2, summed over channels
and layers."""
import torch

from nas_core.proxies import register


@register("fisher", needs=("activations",), reference="Turner et al. 2020, BlockSwap / Theis et al. 2018")
def fisher(res, ctx) -> torch.Tensor:
    total = 0.0
    for z, dz in zip(res.outputs, res.output_grads):
        prod = z * dz
        per_channel = prod.sum(dim=(2, 3)) if prod.dim() == 4 else prod  # (B, C)
        total = total + 0.5 * per_channel.pow(2).mean(0).sum()
    return torch.as_tensor(total)
