"""The ordinal weight-sharing supernet of an NDS design space (docs/nds.md, "Supernet").

One network of the largest size of every choice; an architecture uses a prefix of it:
  * depth: stage i runs its first d_i blocks;
  * width: every conv uses the first c_out output and first c_in input channels of its weight
    (the classifier its first w_3 inputs), every BN its first channels;
  * groups (ResNeXt-A): a g-group 3x3 conv on c channels takes, for group k, the diagonal block
    [k*c/g:(k+1)*c/g, k*c/g:(k+1)*c/g] of the first c x c weights, so g = 1 uses the whole
    c x c slice and more groups use sub-blocks of it;
  * bottleneck multiplier: the inner width round(w_i * b_i) is a prefix like any width.
A block's projection shortcut runs when that architecture's block needs one (its width or
resolution changes), exactly as in the standalone network, so `extract_standalone` gives an
`NDSNetwork` computing the same function. BN has no affine parameters by default (the study's
setting; `affine=True` gives them back). Dropout sits before the classifier.

`clip=True` (a supernet smaller than the space, for small profiles) runs an architecture that is
larger than the supernet on its clipped form (`space.nds.clip`: each stage's depth and width
capped to the largest choice the supernet holds) instead of refusing it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas_core.errors import BadParameter
from nas_core.nets.nds import NDSNetwork
from nas_core.space.nds import STEM_WIDTH, STRIDES, NDSArch, bottleneck_width, get_space
from nas_core.space.nds import clip as nds_clip


class SlicedConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1):
        super().__init__()
        self.stride, self.padding = stride, k // 2
        self.weight = nn.Parameter(torch.empty(c_out, c_in, k, k))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)  # nn.Conv2d's default

    def sliced_weight(self, c_in: int, c_out: int, groups: int = 1) -> torch.Tensor:
        if groups == 1:
            return self.weight[:c_out, :c_in]
        gi, go = c_in // groups, c_out // groups
        return torch.cat([self.weight[k * go:(k + 1) * go, k * gi:(k + 1) * gi] for k in range(groups)], dim=0)

    def forward(self, x, c_out: int, groups: int = 1):
        w = self.sliced_weight(x.shape[1], c_out, groups)
        return F.conv2d(x, w, stride=self.stride, padding=self.padding, groups=groups)


class SlicedBN(nn.Module):
    """BatchNorm over the first channels of a maximal BN (running statistics sliced too)."""

    def __init__(self, channels: int, affine: bool):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=affine)

    def forward(self, x):
        c, bn = x.shape[1], self.bn
        w = bn.weight[:c] if bn.affine else None
        b = bn.bias[:c] if bn.affine else None
        return F.batch_norm(x, bn.running_mean[:c], bn.running_var[:c], w, b, self.training, bn.momentum, bn.eps)


class SuperBlock(nn.Module):
    def __init__(self, w_in: int, w_out: int, stride: int, bottleneck: bool, wb: int, affine: bool, first: bool):
        super().__init__()
        self.stride, self.bottleneck = stride, bottleneck
        if bottleneck:
            self.convs = nn.ModuleList([SlicedConv(w_in, wb, 1), SlicedConv(wb, wb, 3, stride), SlicedConv(wb, w_out, 1)])
            self.bns = nn.ModuleList([SlicedBN(wb, affine), SlicedBN(wb, affine), SlicedBN(w_out, affine)])
        else:
            self.convs = nn.ModuleList([SlicedConv(w_in, w_out, 3, stride), SlicedConv(w_out, w_out, 3)])
            self.bns = nn.ModuleList([SlicedBN(w_out, affine), SlicedBN(w_out, affine)])
        # only a stage's first block can change width or resolution
        self.proj = SlicedConv(w_in, w_out, 1, stride) if first else None
        self.proj_bn = SlicedBN(w_out, affine) if first else None

    def needs_proj(self, c_in: int, w: int) -> bool:
        return c_in != w or self.stride != 1

    def forward(self, x, w: int, bm: float, g: int):
        h = x
        if self.bottleneck:
            wb = bottleneck_width(w, bm)
            for i, (conv, bn, c, grp) in enumerate(zip(self.convs, self.bns, (wb, wb, w), (1, g, 1))):
                h = bn(conv(h, c, grp))
                h = F.relu(h) if i < 2 else h
        else:
            h = F.relu(self.bns[0](self.convs[0](h, w)))
            h = self.bns[1](self.convs[1](h, w))
        shortcut = self.proj_bn(self.proj(x, w)) if self.needs_proj(x.shape[1], w) else x
        return F.relu(shortcut + h)

    def used_parameters(self, c_in: int, w: int) -> list[nn.Parameter]:
        mods = list(self.convs) + list(self.bns)
        if self.needs_proj(c_in, w):
            mods += [self.proj, self.proj_bn]
        return [p for m in mods for p in m.parameters()]


class NDSSupernet(nn.Module):
    """Ordinal supernet of `space` ('resnet' or 'resnexta'). `depths`, `widths`, `bot_muls`
    override the space's choice lists (to build a smaller supernet, e.g. for tests); the
    supernet is as large as their maxima."""

    def __init__(self, space: str, depths=None, widths=None, bot_muls=None, num_classes: int = 10,
                 in_channels: int = 3, affine: bool = False, dropout: float = 0.0, clip: bool = False):
        super().__init__()
        self.space = get_space(space)
        self.clip = clip
        self.affine = affine
        self.max_depth = max(depths or self.space.depths)
        self.max_width = max(widths or self.space.widths)
        bottleneck = self.space.bottleneck
        max_bm = max(bot_muls or self.space.bot_muls) if bottleneck else 1.0
        wb = bottleneck_width(self.max_width, max_bm)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, STEM_WIDTH, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(STEM_WIDTH, affine=affine), nn.ReLU())
        self.stages = nn.ModuleList()
        w_in = STEM_WIDTH
        for stride in STRIDES:
            self.stages.append(nn.ModuleList(
                SuperBlock(w_in if b == 0 else self.max_width, self.max_width, stride if b == 0 else 1,
                           bottleneck, wb, affine, first=(b == 0))
                for b in range(self.max_depth)))
            w_in = self.max_width
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(self.max_width, num_classes)

    def _check(self, arch: NDSArch) -> None:
        if arch.space != self.space.name:
            raise BadParameter(f"an NDS {self.space.label} supernet cannot run a {arch.space} architecture")
        if max(arch.ds) > self.max_depth or max(arch.ws) > self.max_width:
            raise BadParameter(f"{arch} is larger than this supernet (depth <= {self.max_depth}, "
                               f"width <= {self.max_width})")

    def fit(self, arch: NDSArch) -> NDSArch:
        """The architecture this supernet runs for `arch`: itself, or with `clip` its clipped form."""
        return nds_clip(arch, self.max_depth, self.max_width) if self.clip else arch

    def forward(self, x, arch: NDSArch):
        arch = self.fit(arch)
        self._check(arch)
        x = self.stem(x)
        for stage, (d, w, _, bm, g) in zip(self.stages, arch.stages()):
            for block in stage[:d]:
                x = block(x, w, bm, g)
        x = x.mean(dim=(2, 3))
        w_last = arch.ws[-1]
        return F.linear(self.dropout(x), self.classifier.weight[:, :w_last], self.classifier.bias)

    def used_parameters(self, arch: NDSArch) -> list[nn.Parameter]:
        """Parameters a forward of `arch` touches (whole tensors, of which it uses a slice)."""
        arch = self.fit(arch)
        used = list(self.stem.parameters())
        c_in = STEM_WIDTH
        for stage, (d, w, _, _, _) in zip(self.stages, arch.stages()):
            for block in stage[:d]:
                used += block.used_parameters(c_in, w)
                c_in = w
        return used + list(self.classifier.parameters())

    def standalone(self, arch: NDSArch) -> NDSNetwork:
        """`extract_standalone(self, arch)`: the architecture with this supernet's weights as an
        `NDSNetwork` of nn.Conv2d / nn.BatchNorm2d / nn.Linear modules, so that zero-shot proxies,
        which look for those layers, see every layer of it (RQ4: ZSEs on supernet weights)."""
        return extract_standalone(self, arch)

    def scoring_mode(self) -> "NDSSupernet":
        """BN in train mode (batch statistics), dropout off: the study's scoring mode."""
        self.train()
        self.dropout.eval()
        return self


def extract_standalone(supernet: NDSSupernet, arch: NDSArch) -> NDSNetwork:
    """An `NDSNetwork` (BN affine as the supernet's) holding the supernet's weights for
    `arch`: it computes the same function as `supernet(x, arch)` (with `clip`, the network of
    the clipped architecture)."""
    arch = supernet.fit(arch)
    supernet._check(arch)
    net = NDSNetwork(arch, num_classes=supernet.classifier.out_features,
                     in_channels=supernet.stem[0].in_channels, bn_affine=supernet.affine)
    net.stem.load_state_dict(supernet.stem.state_dict())
    c_in = STEM_WIDTH
    for stage_net, stage_sup, (d, w, _, bm, g) in zip(net.stages, supernet.stages, arch.stages()):
        for block_net, block_sup in zip(stage_net, stage_sup[:d]):
            convs = [m for m in block_net.f if isinstance(m, nn.Conv2d)]
            bns = [m for m in block_net.f if isinstance(m, nn.BatchNorm2d)]
            for conv, sconv in zip(convs, block_sup.convs):
                conv.weight.data.copy_(sconv.sliced_weight(conv.in_channels, conv.out_channels, conv.groups))
            for bn, sbn in zip(bns, block_sup.bns):
                _copy_bn(bn, sbn.bn)
            if block_net.proj is not None:
                block_net.proj[0].weight.data.copy_(block_sup.proj.sliced_weight(c_in, w))
                _copy_bn(block_net.proj[1], block_sup.proj_bn.bn)
            c_in = w
    net.classifier.weight.data.copy_(supernet.classifier.weight[:, :arch.ws[-1]])
    net.classifier.bias.data.copy_(supernet.classifier.bias)
    return net


def _copy_bn(bn: nn.BatchNorm2d, source: nn.BatchNorm2d) -> None:
    c = bn.num_features
    bn.running_mean.copy_(source.running_mean[:c])
    bn.running_var.copy_(source.running_var[:c])
    if bn.affine:
        bn.weight.data.copy_(source.weight[:c])
        bn.bias.data.copy_(source.bias[:c])
