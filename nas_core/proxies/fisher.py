"""fisher (Turner et al. 2020, Theis et al. 2018), as the reference library (zero-cost-nas)
computes it: for every conv/linear output z, each output channel c gets
f_c = 0.5 * mean over the batch of (sum over space of z * dL/dz)^2; the reference broadcasts
f_c over that channel's weights and sums, so a channel counts (weights per output channel)
times: c_in/groups * k * k for a conv, in_features for a linear layer.

`fisher_channel` is the per-channel variant: sum of f_c over channels and layers (each
channel once, whatever its fan-in)."""
import torch

from nas_core.proxies import register


def _per_channel(z: torch.Tensor, dz: torch.Tensor) -> torch.Tensor:
    prod = z * dz
    per_sample = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod  # (B, C)
    return 0.5 * per_sample.pow(2).mean(0)


@register("fisher", needs=("activations",), reference="Turner et al. 2020 (BlockSwap); zero-cost-nas")
def fisher(res, ctx) -> torch.Tensor:
    total = torch.zeros(())
    for z, dz, layer in zip(res.outputs, res.output_grads, res.output_layers):
        fan_in = layer.weight[0].numel()  # weights of one output channel
        total = total + fan_in * _per_channel(z, dz).sum()
    return total


@register("fisher_channel", needs=("activations",), reference="Turner et al. 2020, per output channel")
def fisher_channel(res, ctx) -> torch.Tensor:
    total = torch.zeros(())
    for z, dz in zip(res.outputs, res.output_grads):
        total = total + _per_channel(z, dz).sum()
    return total
