"""The NB201 building blocks (shared by the standalone network and the supernet)."""
from __future__ import annotations

from torch import nn

from nas_core.space.nb201 import CONV1, CONV3, NONE, POOL, SKIP


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


def make_op(op: int, channels: int, affine: bool = True) -> nn.Module:
    """An edge op of a cell (stride 1, channels in == out), as in NAS-Bench-201."""
    if op == NONE:
        return Zero()
    if op == SKIP:
        return nn.Identity()
    if op == CONV1:
        return ReLUConvBN(channels, channels, 1, affine=affine)
    if op == CONV3:
        return ReLUConvBN(channels, channels, 3, affine=affine)
    if op == POOL:
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown op id {op}")


class ResidualReduction(nn.Module):
    """NB201's ResNet basic block between stages: stride-2 ReLUConvBN 3x3 -> ReLUConvBN 3x3,
    shortcut AvgPool2d(2) + conv1x1."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))
