"""zico (Li, Shu, Wang et al., ICLR 2023, "ZiCo: Zero-shot NAS via inverse Coefficient of
Variation on gradients").

For every Conv2d/Linear layer l, the gradients g_θ,k of the cross-entropy loss with respect to
its weights θ on K mini-batches k:

    zico = Σ_l log( Σ_{θ ∈ l, σ_θ > 0} mean_k |g_θ,k| / σ_θ ),   σ_θ = std_k g_θ,k  (population std)

Source: the authors' code (SLDGroup/ZiCo, ZeroShotProxy/compute_zico.py). The paper writes the
same sum; the code adds two rules followed here: weights whose gradient does not vary across
the batches (σ_θ = 0, e.g. an unused layer) are left out, and a layer whose sum is 0 adds
nothing (instead of log 0). The mini-batches: the kit scores one batch, so it is split into
K = 2 halves, each with its own forward (BN statistics of that half) and backward, as the MeCo
authors' zero-cost-nas port of ZiCo does (`split_data = 2`; AZ-NAS's NB201 port takes two
loader batches, the same thing). `context["zico_splits"]` changes K.

Numerics: with K = 2, σ_θ = |g_θ,1 − g_θ,2| / 2, so a few weights whose two gradients agree to
float32 rounding get ratios of 10^5 and dominate their layer's sum (measured on NB201 C8/N1: one
weight of 9216 held 89 % of a layer's sum). The value therefore moves by up to ~4e-4 relative
with the float32 summation order (e.g. the thread count).
"""
import torch
from torch.nn import functional as F

from nas_core.errors import BadParameter
from nas_core.proxies import register, register_pass
from nas_core.proxies.passes import scored_layers


@register_pass("zico")
def split_gradients(net, x, y, context) -> list[torch.Tensor]:
    """Per scored layer, the (K, weights) gradients of the K split losses (zeros if unused)."""
    splits = int(context.get("zico_splits", 2))
    if not 2 <= splits <= len(x):
        raise BadParameter(f"zico needs 2 <= zico_splits <= batch size, got {splits} for a batch of {len(x)}",
                           fix="use a batch of at least 2 images (ZiCo compares gradients across them)")
    net.train()
    weights = [m.weight for m in scored_layers(net)]
    per_split = []
    for k in range(splits):
        lo, hi = k * len(x) // splits, (k + 1) * len(x) // splits
        loss = F.cross_entropy(net(x[lo:hi]), y[lo:hi])
        grads = torch.autograd.grad(loss, weights, allow_unused=True)
        per_split.append([torch.zeros_like(w) if g is None else g.detach() for w, g in zip(weights, grads)])
    return [torch.stack([s[i].reshape(-1) for s in per_split]) for i in range(len(weights))]


@register("zico", needs=("zico",), reference="Li et al. 2023, ZiCo (ICLR)")
def zico(res, ctx) -> torch.Tensor:
    total = torch.zeros((), dtype=torch.float64)
    for g in ctx["zico"]:
        g = g.double()  # the code's float32 numpy statistics, in float64
        std = g.std(dim=0, unbiased=False)
        varies = std != 0
        ratio_sum = (g.abs().mean(dim=0)[varies] / std[varies]).sum()
        # torch.where, not `if`: no host sync per layer on a GPU
        total = total.to(ratio_sum.device) + torch.where(ratio_sum != 0, torch.log(ratio_sum), 0.0)
    return total
