"""gradsign (Zhang & Jia, ICLR 2022, "GradSign: Model Performance Inference with Theoretical
Insights").

g_i = the gradient of the cross-entropy loss of image i alone (a forward of a one-image batch,
train mode, so BN normalises over that image's positions) with respect to the Conv2d/Linear
weights; for every weight θ,

    gradsign = Σ_θ | Σ_i sign(g_i,θ) |        (NaN terms skipped, as `np.nansum`)

Source: the authors' code (cmu-catalyst/GradSign: naswot-code/gradsign.py, the Kendall-τ
experiments, and the `grad_conflict` measure of their zero-cost-nas pruners), which matches
the paper's sum. Their Spearman script (zero-cost-nas-code/gradsign.py) and AZ-NAS's NB201 port
take the mean over weights instead (`np.nanmean`), which divides by the number of weights and
so changes the ranking across architectures of different size; the kit follows the sum.
Per-image gradients: one forward/backward per image, as the code does (on a CPU measured faster
than `torch.func.vmap` over the images); an unused layer's gradient counts as zeros.
"""
import torch
from torch.nn import functional as F

from nas_core.proxies import register, register_pass
from nas_core.proxies.passes import scored_layers


@register_pass("gradsign")
def sign_sums(net, x, y, context) -> list[torch.Tensor]:
    """Per scored layer, Σ_i sign(g_i) over the images (NaN where a gradient was NaN)."""
    net.train()
    weights = [m.weight for m in scored_layers(net)]
    sums = [torch.zeros_like(w) for w in weights]
    for i in range(len(x)):
        loss = F.cross_entropy(net(x[i:i + 1]), y[i:i + 1])
        grads = torch.autograd.grad(loss, weights, allow_unused=True)
        for s, g in zip(sums, grads):
            if g is not None:
                s.add_(torch.sign(g))
    return sums


@register("gradsign", needs=("gradsign",), reference="Zhang & Jia 2022, GradSign (ICLR)")
def gradsign(res, ctx) -> torch.Tensor:
    return sum(torch.nansum(s.double().abs()) for s in ctx["gradsign"])
