"""zen (Lin, Wang, Sun et al., ICCV 2021, "Zen-NAS: A Zero-Shot NAS for High-Performance Image
Recognition"): the Zen-score.

On a copy of the network with every Conv2d/Linear weight re-drawn from N(0, 1) (biases 0, BN
and GroupNorm scales 1 and shifts 0), train mode, two Gaussian batches x, e ~ N(0, 1) shaped
like the scored batch, and f(·) = the feature map before global average pooling:

    Δ = mean_i Σ_{c,h,w} |f(x)_i - f(x + γ e)_i|,  γ = 0.01
    zen = log Δ + Σ_{BatchNorm2d b} log sqrt(mean_channels running_var_b)

Source: the authors' code (idstcv/ZenNAS, ZeroShotProxy/compute_zen_score.py; the same in
AZ-NAS's NB201 port), followed where it differs from the paper: the paper's BN term is the
batch's standard deviation, the code reads `running_var` after the two train-mode forwards
(momentum blend of the start value and both batches' variances). The kit resets every BN's
running statistics of the copy first (mean 0, var 1: a fresh network, as in the code), so the
value does not depend on what ran before; the caller's network is never changed. `repeat`
(the code's default 1 in the NB201 port; 32 in Zen-NAS's command line) is
`context["zen_repeats"]`, the mean over repeats. The draws (weights in module order, then x,
then e) are seeded from `context["seed"]`.

Pre-GAP features of any module: the output of the last module call that returns a 4-D map
with more than one position (NB201: `lastact`, BN + ReLU after the last cell; a DARTS
network: the last cell). BN modules that never run keep var 1 and add log 1 = 0. On trained
(supernet) weights the score is the same as on random ones: the method re-draws all weights.
"""
import copy

import torch
from torch import nn

from nas_core.errors import BadParameter
from nas_core.proxies import register, register_pass
from nas_core.proxies.passes import gaussian, seeded_generator

MIXUP_GAMMA = 1e-2  # the code's default mixup_gamma
SALT = 1


def gaussian_reinit_(net: nn.Module, generator: torch.Generator) -> None:
    """Zen-NAS's `network_weight_gaussian_init`, drawn from `generator` in module order."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(gaussian(m.weight.shape, generator, m.weight))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()


def reset_bn_statistics_(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            if m.running_var is None:
                raise BadParameter("zen reads the BN running variances, and this network has a BatchNorm2d with "
                                   "track_running_stats=False",
                                   fix="build the network's BatchNorm2d layers with track_running_stats=True, "
                                       "or drop 'zen'")
            m.reset_running_stats()


def pre_gap_features(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The last 4-D module output with more than one position, of one forward of x."""
    last = []

    def keep(module, inputs, output):
        if torch.is_tensor(output) and output.dim() == 4 and output.shape[2] * output.shape[3] > 1:
            last[:] = [output]
    handles = [m.register_forward_hook(keep) for m in net.modules()]
    try:
        net(x)
    finally:
        for h in handles:
            h.remove()
    if not last:
        raise BadParameter("zen compares feature maps before global pooling; no module of this network returns a "
                           "4-D map with more than one position", fix="zen applies to convolutional networks only")
    return last[0]


@register_pass("zen")
def zen_score(net, x, y, context) -> torch.Tensor:
    repeats = int(context.get("zen_repeats", 1))
    generator = seeded_generator(context, SALT)
    twin = copy.deepcopy(net)
    scores = []
    for _ in range(repeats):
        gaussian_reinit_(twin, generator)
        reset_bn_statistics_(twin)
        twin.train()
        x1 = gaussian(x.shape, generator, x)
        x2 = gaussian(x.shape, generator, x)
        with torch.no_grad():
            f1 = pre_gap_features(twin, x1)
            f2 = pre_gap_features(twin, x1 + MIXUP_GAMMA * x2)
        delta = (f1 - f2).abs().sum(dim=(1, 2, 3)).mean().double()
        log_bn = sum((torch.log(torch.sqrt(m.running_var.double().mean())) for m in twin.modules()
                      if isinstance(m, nn.BatchNorm2d)), torch.zeros((), dtype=torch.float64, device=x.device))
        scores.append(torch.log(delta) + log_bn)
    return torch.stack(scores).mean()


@register("zen", needs=("zen",), reference="Lin et al. 2021, Zen-NAS (ICCV)")
def zen(res, ctx) -> torch.Tensor:
    return ctx["zen"]
