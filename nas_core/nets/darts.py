"""The DARTS CIFAR network of one NAS-Bench-301 architecture (docs/nb301.md: the network).

  stem     conv 3x3 (in -> stem_multiplier*C, no bias) + BN
  cells    `layers` cells; cells layers//3 and 2*layers//3 are reduction cells (channels doubled,
           the ops reading the two cell inputs have stride 2), the others normal cells.
           A cell's inputs are the outputs of the previous two cells (the stem's output stands in
           for missing ones), preprocessed to C channels: FactorizedReduce when the input is at
           twice the cell's resolution (the previous cell was a reduction), else ReLUConvBN 1x1.
           Node k = op_a(input_a) + op_b(input_b); output = concat of the 4 nodes (4C channels).
  head     global average pool -> Linear (no BN/ReLU before the pool)

Deliberately left out of the zero-shot network: drop-path (a training regulariser; with it,
two forward passes of one network would differ) and the auxiliary head (a training aid; it is
not part of the network whose output is scored). NB301's training runs used both (drop-path
0.2, auxiliary weight on); `params_flops(..., auxiliary=True)` gives the size with the head.
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core.errors import BadParameter
from nas_core.nets.darts_ops import make_op, preprocess
from nas_core.space import nb301
from nas_core.space.nb301_cost import cell_plan


def run_nodes(s0, s1, n_nodes: int, pair_fn):
    """states = [s0, s1]; node k = pair_fn(k, 0, states) + pair_fn(k, 1, states); returns the
    concatenation of the intermediate nodes along channels."""
    states = [s0, s1]
    for k in range(n_nodes):
        states.append(pair_fn(k, 0, states) + pair_fn(k, 1, states))
    return torch.cat(states[2:], dim=1)


class DartsCell(nn.Module):
    def __init__(self, cell, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool,
                 affine: bool = True, preprocess_affine: bool = True):
        super().__init__()
        self.cell = tuple(cell)
        self.reduction = reduction
        self.preprocess0 = preprocess(c_pp, c, reduction_prev, preprocess_affine)
        self.preprocess1 = preprocess(c_p, c, False, preprocess_affine)
        self.ops = nn.ModuleList(make_op(op, c, 2 if reduction and inp < 2 else 1, affine)
                                 for op, inp in self.cell)

    def forward(self, s0, s1):
        def pair(k, j, states):
            i = 2 * k + j
            return self.ops[i](states[self.cell[i][1]])

        return run_nodes(self.preprocess0(s0), self.preprocess1(s1), nb301.N_NODES, pair)


class DartsSkeleton(nn.Module):
    """Stem, a list of cells built by `make_cell(i, c_pp, c_p, c, reduction, reduction_prev)`,
    global pool, dropout, classifier (shared with the supernet)."""

    def __init__(self, make_cell, C: int, layers: int = 8, num_classes: int = 10, in_channels: int = 3,
                 stem_multiplier: int = 3, dropout: float = 0.0):
        super().__init__()
        if C < 1 or C % 2 or layers < 1:
            raise BadParameter(f"DARTS network needs an even C >= 2 and layers >= 1, got C={C}, "
                               f"layers={layers}", fix="e.g. C=16 (supernet) or C=32 (NB301), layers=8")
        self.C, self.layers, self.stem_multiplier = C, layers, stem_multiplier
        c_stem = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
        plan = cell_plan(C, layers, stem_multiplier)
        self.cells = nn.ModuleList(make_cell(i, *p) for i, p in enumerate(plan))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(nb301.N_NODES * plan[-1][2], num_classes)

    def features(self, x, *cell_args):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, *cell_args)
        return self.global_pooling(s1).flatten(1)

    def forward(self, x, *cell_args):
        return self.classifier(self.dropout(self.features(x, *cell_args)))


class DartsNetwork(DartsSkeleton):
    """One NB301 architecture (Arch or its string) on the DARTS CIFAR skeleton.

    `affine`: BN of the cell ops with affine parameters (True: DARTS' evaluation network);
    `preprocess_affine` (default: `affine`): the same for the cells' preprocessing. The network
    on which the NB301 sample's params were counted is affine=False, preprocess_affine=True."""

    def __init__(self, arch, C: int = 32, layers: int = 8, num_classes: int = 10, in_channels: int = 3,
                 stem_multiplier: int = 3, affine: bool = True, preprocess_affine: bool | None = None,
                 dropout: float = 0.0):
        self.arch = nb301.parse(arch) if isinstance(arch, str) else nb301.canonical(arch)
        normal, reduce = self.arch
        pre_affine = affine if preprocess_affine is None else preprocess_affine
        super().__init__(
            lambda i, c_pp, c_p, c, red, red_prev: DartsCell(reduce if red else normal, c_pp, c_p, c, red, red_prev,
                                                             affine, pre_affine),
            C=C, layers=layers, num_classes=num_classes, in_channels=in_channels,
            stem_multiplier=stem_multiplier, dropout=dropout)


def init_seeded(arch, seed: int, **kwargs) -> DartsNetwork:
    """A network whose PyTorch-default initial weights depend only on (arch, seed, kwargs); the
    global torch RNG state is restored afterwards (the rule of `nets.network.init_seeded`)."""
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return DartsNetwork(arch, **kwargs)
    finally:
        torch.random.set_rng_state(gen_state)
