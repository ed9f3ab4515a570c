"""The DARTS building blocks (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019),
shared by the standalone network (`nets/darts.py`) and the supernet (`nets/darts_supernet.py`).

Written from the paper's description of its CIFAR evaluation network:
  sep_conv_k   twice (ReLU, depthwise k x k, pointwise 1x1, BN); the first depthwise conv carries
               the stride, the first pointwise keeps the channels, the second maps to C_out
  dil_conv_k   ReLU, depthwise k x k dilation 2, pointwise 1x1, BN
  max/avg_pool 3x3, padding 1 (avg pool excludes the padding from its mean); no BN after pools in
               the evaluation network (the search network appends a non-affine BN; this kit's
               supernet samples one op per edge, so it keeps the evaluation form)
  skip_connect identity at stride 1, FactorizedReduce at stride 2
  FactorizedReduce  ReLU, two 1x1 stride-2 convs (C_out/2 each), the second shifted by one pixel,
               concatenated, BN: halves the resolution without dropping every other pixel

ReLUs are `nn.ReLU` modules (the relu-counting proxies hook them); every weight is an
`nn.Conv2d`, `nn.Linear` or `nn.BatchNorm2d`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas_core.space.nb301 import OPS


class ReLUConvBN(nn.Sequential):
    """ReLU -> conv k x k (no bias) -> BN: DARTS' cell preprocessing (k=1)."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 1, stride: int = 1, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class DilConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, dilation: int, affine: bool = True):
        padding = dilation * (kernel - 1) // 2  # keeps the size at stride 1
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=padding, dilation=dilation, groups=c_in,
                      bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """Two stacked (ReLU, depthwise, pointwise, BN) blocks; the stride is taken by the first."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, affine: bool = True):
        pad = kernel // 2
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_in, 1, bias=False),
            nn.BatchNorm2d(c_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=1, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class FactorizedReduce(nn.Module):
    """Halve H and W: ReLU, then two 1x1 stride-2 convs, the second on the input shifted by one
    pixel right and down, concatenated along channels, then BN. The shifted branch is padded by
    one zero row/column at the far edge: for even sizes this samples exactly the odd pixels (the
    reference's x[:, :, 1:, 1:]), and for odd sizes it keeps both branches the same size."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True):
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x):
        x = self.relu(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1))


def make_op(op: int, channels: int, stride: int, affine: bool = True) -> nn.Module:
    """A cell edge op (channels in == out) by its id in `nb301.OPS`."""
    name = OPS[op]
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels, affine)
    if name.startswith("sep_conv_"):
        return SepConv(channels, channels, int(name[-1]), stride, affine)
    if name.startswith("dil_conv_"):
        return DilConv(channels, channels, int(name[-1]), stride, 2, affine)
    raise ValueError(f"unknown op {name!r}")


def preprocess(c_in: int, c_out: int, reduce_input: bool, affine: bool = True) -> nn.Module:
    """A cell's preprocessing of one input: FactorizedReduce when that input is at twice the
    cell's resolution (the cell before the previous one was followed by a reduction), else
    ReLUConvBN 1x1."""
    return FactorizedReduce(c_in, c_out, affine) if reduce_input else ReLUConvBN(c_in, c_out, 1, 1, affine)


class AuxiliaryHead(nn.Module):
    """DARTS' CIFAR auxiliary classifier (a training aid on the output of cell 2*layers//3, 8x8
    maps for 32x32 inputs): ReLU, avg pool 5 stride 3, conv1x1 -> 128, BN, ReLU, conv2x2 -> 768,
    BN, ReLU, Linear. Not part of the kit's networks; here so its size can be checked."""

    def __init__(self, c_in: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c_in, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
