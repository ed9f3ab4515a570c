"""The CIFAR networks of the NDS ResNet / ResNeXt-A design spaces (docs/nds.md), as pycls's
AnyNet builds them: stem conv3x3(3 -> 16)-BN-ReLU; 3 stages of residual blocks (strides 1, 2,
2; the stride sits on the first block's 3x3 conv); global average pool; linear classifier.

  basic block       x + [3x3 conv-BN-ReLU, 3x3 conv-BN](x), then ReLU
  bottleneck block  x + [1x1 conv-BN-ReLU, 3x3 grouped conv (stride) -BN-ReLU, 1x1 conv-BN](x), then ReLU,
                    inner width round(w * bottleneck multiplier), `groups` groups
The shortcut is a 1x1 conv (stride s)-BN projection when the width or the resolution changes,
the identity otherwise. `bn_affine=False` drops BN's scale and shift (the supernet's setting).
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core.space.nds import STEM_WIDTH, NDSArch, bottleneck_width, get_space


def conv_bn(c_in, c_out, k, stride=1, groups=1, affine=True) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, affine=affine)]


class ResBlock(nn.Module):
    def __init__(self, w_in: int, w_out: int, stride: int, bottleneck: bool, bot_mul: float = 1.0,
                 groups: int = 1, affine: bool = True):
        super().__init__()
        if bottleneck:
            wb = bottleneck_width(w_out, bot_mul)
            layers = (conv_bn(w_in, wb, 1, affine=affine) + [nn.ReLU()]
                      + conv_bn(wb, wb, 3, stride, groups, affine) + [nn.ReLU()]
                      + conv_bn(wb, w_out, 1, affine=affine))
        else:
            layers = (conv_bn(w_in, w_out, 3, stride, affine=affine) + [nn.ReLU()]
                      + conv_bn(w_out, w_out, 3, affine=affine))
        self.f = nn.Sequential(*layers)
        self.proj = nn.Sequential(*conv_bn(w_in, w_out, 1, stride, affine=affine)) \
            if (w_in != w_out or stride != 1) else None
        self.relu = nn.ReLU()

    def forward(self, x):
        shortcut = self.proj(x) if self.proj is not None else x
        return self.relu(shortcut + self.f(x))


class NDSNetwork(nn.Module):
    def __init__(self, arch: NDSArch, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.0,
                 bn_affine: bool = True):
        super().__init__()
        self.arch = arch
        bottleneck = get_space(arch.space).bottleneck
        self.stem = nn.Sequential(*conv_bn(in_channels, STEM_WIDTH, 3, affine=bn_affine), nn.ReLU())
        stages, w_in = [], STEM_WIDTH
        for d, w, stride, bm, g in arch.stages():
            blocks = [ResBlock(w_in if b == 0 else w, w, stride if b == 0 else 1, bottleneck, bm, g, bn_affine)
                      for b in range(d)]
            stages.append(nn.Sequential(*blocks))
            w_in = w
        self.stages = nn.Sequential(*stages)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(w_in, num_classes)

    def features(self, x):
        return self.stages(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x):
        return self.classifier(self.dropout(self.features(x)))


def init_seeded(arch: NDSArch, seed: int, **kwargs) -> NDSNetwork:
    """A network whose PyTorch-default initial weights depend only on (arch, seed, kwargs); the
    global random state is left as it was."""
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return NDSNetwork(arch, **kwargs)
    finally:
        torch.random.set_rng_state(state)
