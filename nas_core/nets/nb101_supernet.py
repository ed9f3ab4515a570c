"""The weight-sharing supernet of NAS-Bench-1shot1 sub-space 3 (docs/nb101.md, "Sub-space 3").

The one-shot model of NAS-Bench-1shot1, run with one architecture at a time (its "random
search with weight sharing" mode): the NB101 skeleton (stem conv3x3-BN-ReLU of C channels,
3 stacks of 3 cells, 2x2 max-pool and 2x channels between stacks), with every cell holding

  * 5 choice blocks of C_s channels, each with separate weights for the 3 ops (conv3x3-BN-ReLU,
    conv1x1-BN-ReLU, maxpool3x3);
  * 6 1x1 conv-BN-ReLU projections of the cell input: one per block (used when the block's
    parents include the input) and one for the output;
  * the output: the concatenation [input projection, block 1, ..., block 5], each part
    present when the configuration makes it a parent of the output and zeros otherwise, so
    a cell always has 6*C_s output channels and the next cell's projections read all of them.

A block sums its parents (the input through its projection, other blocks directly) and applies
its op. Only the blocks on an input->output path run: a loose end cannot change the output.
After the last cell a ReLU-conv1x1-BN (6*C -> C) merges the concatenation; then global average
pool, dropout and the classifier. Cell BN has no affine parameters by default.

`forward` and `used_parameters` take an `S3Arch` or an NB101 `Cell` of the sub-space; a cell
runs on its canonical configuration (`nb1shot1.embed`), the path that scores it.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from nas_core.nets.nb101 import ConvBNReLU
from nas_core.space.nb101 import CONV1, CONV3, POOL, Cell
from nas_core.space.nb1shot1 import N_BLOCKS, OUTPUT_NODE, S3Arch, embed, live_blocks


@lru_cache(maxsize=100_000)
def _embedded(cell: Cell) -> S3Arch:
    return embed(cell)


def as_config(arch) -> S3Arch:
    """The sub-space-3 configuration a supernet forward runs: the given one, or a cell's
    canonical configuration (BadParameter for a cell outside the sub-space)."""
    return _embedded(arch) if isinstance(arch, Cell) else arch


class ChoiceBlock(nn.Module):
    def __init__(self, channels: int, affine: bool):
        super().__init__()
        self.ops = nn.ModuleDict({
            CONV3: ConvBNReLU(channels, channels, 3, affine),
            CONV1: ConvBNReLU(channels, channels, 1, affine),
            POOL: nn.MaxPool2d(3, stride=1, padding=1),
        })

    def forward(self, x, op: str):
        return self.ops[op](x)


class SuperCell(nn.Module):
    def __init__(self, c_in: int, channels: int, affine: bool):
        super().__init__()
        self.channels = channels
        self.proj = nn.ModuleList(ConvBNReLU(c_in, channels, 1, affine) for _ in range(N_BLOCKS + 1))
        self.blocks = nn.ModuleList(ChoiceBlock(channels, affine) for _ in range(N_BLOCKS))

    def forward(self, x, arch: S3Arch):
        states = {}
        for j in live_blocks(arch):
            terms = [self.proj[j - 1](x) if p == 0 else states[p] for p in arch.parents[j - 1]]
            total = terms[0] if len(terms) == 1 else terms[0] + terms[1]
            states[j] = self.blocks[j - 1](total, arch.ops[j - 1])
        out_parents = arch.parents[OUTPUT_NODE - 1]
        zeros = None
        parts = []
        for node in range(OUTPUT_NODE):  # node 0 = the input's projection, then blocks 1..5
            if node in out_parents:
                parts.append(self.proj[N_BLOCKS](x) if node == 0 else states[node])
            else:
                if zeros is None:
                    zeros = x.new_zeros(x.shape[0], self.channels, x.shape[2], x.shape[3])
                parts.append(zeros)
        return torch.cat(parts, dim=1)

    def used_parameters(self, arch: S3Arch) -> list[nn.Parameter]:
        used = []
        for j in live_blocks(arch):
            if 0 in arch.parents[j - 1]:
                used += list(self.proj[j - 1].parameters())
            used += list(self.blocks[j - 1].ops[arch.ops[j - 1]].parameters())
        if 0 in arch.parents[OUTPUT_NODE - 1]:
            used += list(self.proj[N_BLOCKS].parameters())
        return used


class NB101Supernet(nn.Module):
    """Sub-space-3 supernet; `forward(x, arch)` with an `S3Arch` (`nb1shot1.embed` gives the
    one of an NB101 cell)."""

    def __init__(self, C: int = 16, stacks: int = 3, cells_per_stack: int = 3, num_classes: int = 10,
                 in_channels: int = 3, affine: bool = False, dropout: float = 0.1):
        super().__init__()
        self.affine = affine
        self.stem = ConvBNReLU(in_channels, C, 3)
        layers: list[nn.Module] = []
        c_in, c = C, C
        for s in range(stacks):
            if s > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                c *= 2
            for _ in range(cells_per_stack):
                layers.append(SuperCell(c_in, c, affine))
                c_in = (N_BLOCKS + 1) * c
        self.cells = nn.ModuleList(layers)
        self.postprocess = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x, arch: S3Arch | Cell):
        arch = as_config(arch)
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x, arch) if isinstance(layer, SuperCell) else layer(x)
        x = self.postprocess(x).mean(dim=(2, 3))
        return self.classifier(self.dropout(x))

    def used_parameters(self, arch: S3Arch | Cell) -> list[nn.Parameter]:
        """Parameters a forward of `arch` touches (for per-parameter MC averaging)."""
        arch = as_config(arch)
        used = list(self.stem.parameters())
        for layer in self.cells:
            if isinstance(layer, SuperCell):
                used += layer.used_parameters(arch)
        return used + list(self.postprocess.parameters()) + list(self.classifier.parameters())

    def scoring_mode(self) -> "NB101Supernet":
        """BN in train mode (batch statistics), dropout off: the study's scoring mode."""
        self.train()
        self.dropout.eval()
        return self

