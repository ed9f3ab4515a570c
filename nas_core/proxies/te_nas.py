"""TE-NAS (Chen, Gong & Wang, ICLR 2021, "Neural Architecture Search on ImageNet in Four GPU
Hours: A Theoretically Inspired Perspective"): two indicators, ranked and summed by TE-NAS.

te_nas_ntk = -κ,  κ = λ_max / λ_min of the empirical NTK K_ij = <∂f_i/∂W, ∂f_j/∂W>,
             f_i = Σ_c logits_ic of image i in one train-mode forward of the batch, W = every
             parameter whose name contains "weight" (conv, linear and BN scales);
             κ = NaN (singular K) becomes 100000 as in the code. A lower κ is better, so the
             score is negated (the NB201 ports of Zen-NAS and AZ-NAS return -κ too).
te_nas_lr  = number of linear regions R = Σ_i 1 / #{j : code_j = code_i} = the number of
             distinct activation codes among the inputs, code_i = [sign(ReLU output)] of every
             unit of every ReLU applied to a 4-D map, concatenated.

Sources: the authors' code (VITA-Group/TENAS, lib/procedures/ntk.py and
linear_region_counter.py). The NTK follows it exactly (one backward of `logit[i]` with ones per
image, `'weight' in name`, float64 eigenvalues here instead of float32 `symeig`). The region
count in TE-NAS runs on a thin copy of a DARTS supernet (1 channel, no stem) fed 3 x 1000
real 3x3 crops, which cannot be built from an arbitrary network; the kit follows the ports
that rank whole NB201 networks (Zen-NAS's `compute_te_nas_score` and AZ-NAS's NB201 port):
the network as it is, train mode, fed its own seeded Gaussian batch of the scored batch's
shape (`torch.randn(input_size)` there; here seeded from `context["seed"]`). On a full-size
network with a batch of B images the codes of different images almost never coincide, so R
is at or near B for most architectures: it separates little (a measured fact, not a bug).
"""
import torch

from nas_core.errors import BadParameter
from nas_core.proxies import register, register_pass
from nas_core.proxies.passes import gaussian, seeded_generator

NAN_CONDITION = 100000.0  # TE-NAS: np.nan_to_num(cond, nan=100000.0)
LR_SALT = 3


@register("te_nas_ntk", needs=("ntk",), reference="Chen et al. 2021, TE-NAS (ICLR), NTK condition number")
def te_nas_ntk(res, ctx) -> torch.Tensor:
    eig = torch.linalg.eigvalsh(res.ntk)  # ascending
    cond = eig[-1] / eig[0]
    return -torch.nan_to_num(cond, nan=NAN_CONDITION, posinf=torch.inf, neginf=-torch.inf)


@register_pass("te_nas_lr")
def sample_codes(net, x, y, context) -> torch.Tensor:
    """(B, N) uint8 activation codes of a seeded Gaussian batch shaped like x (no grad)."""
    codes = []

    def keep(module, inputs, output):
        if inputs[0].dim() == 4:
            codes.append((output.detach() > 0).reshape(output.shape[0], -1))
    relus = [m for m in net.modules() if isinstance(m, torch.nn.ReLU)]
    handles = [m.register_forward_hook(keep) for m in relus]
    try:
        net.train()
        with torch.no_grad():
            net(gaussian(x.shape, seeded_generator(context, LR_SALT), x))
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise BadParameter("te_nas_lr counts activation codes of ReLUs applied to 4-D feature maps; this network "
                           "has no nn.ReLU module applied to a 4-D tensor",
                           fix="use nn.ReLU modules in the convolutional part, or drop 'te_nas_lr'")
    return torch.cat(codes, dim=1).to(torch.uint8)


@register("te_nas_lr", needs=("te_nas_lr",), reference="Chen et al. 2021, TE-NAS (ICLR), linear regions")
def te_nas_lr(res, ctx) -> torch.Tensor:
    # Σ_i 1/multiplicity_i of the codes is exactly the number of distinct codes
    return torch.tensor(float(torch.unique(ctx["te_nas_lr"], dim=0).shape[0]), dtype=torch.float64)
