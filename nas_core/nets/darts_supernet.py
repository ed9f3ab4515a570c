"""The NAS-Bench-301 (DARTS space) weight-sharing supernet (docs/nb301.md: the supernet).

The DARTS skeleton (`nets/darts.py`) whose cells hold, on every possible edge (input j -> node k,
j in 0..k+1: 2+3+4+5 = 14 edges per cell), one copy of each of the 7 ops. Edge e of node k from
input j is e = (0, 2, 5, 9)[k] + j, NB301's own edge numbering. A forward pass takes an
architecture and runs, per node, only its two (op, input) pairs (the normal genotype in normal
cells, the reduce genotype in reduction cells), so a step costs what one architecture costs.

Every node reads two distinct inputs and node 0 can only read the two cell inputs, so both
preprocessings of every cell always run: nothing of the skeleton is ever dead.

Cell BN (preprocessing and ops) has no affine parameters by default, like the study's NB201
supernet (`affine=True` for the RQ3 variant); the stem BN is affine, as in the DARTS search
network. Pools carry no BN, as in the evaluation network, so `copy_into_standalone_darts` gives
a `DartsNetwork(affine=supernet.affine)` with exactly the supernet's function. Dropout sits
before the classifier.
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core.nets.darts import DartsSkeleton, run_nodes
from nas_core.nets.darts_ops import make_op, preprocess
from nas_core.space import nb301

EDGE_START = (0, 2, 5, 9)  # first edge of each intermediate node
N_EDGES = sum(len(nb301.allowed_inputs(k)) for k in range(nb301.N_NODES))  # 14 per cell


def edge_index(node: int, inp: int) -> int:
    """NB301's edge number of the edge input `inp` -> intermediate node `node`."""
    return EDGE_START[node] + inp


def as_arch(arch) -> nb301.Arch:
    """An Arch, its string, or its flat code (`nb301.to_flat`) -> canonical Arch."""
    if isinstance(arch, str):
        return nb301.parse(arch)
    if len(arch) == nb301.FLAT_LEN:
        return nb301.from_flat(arch)
    return nb301.canonical(arch)


class MixedEdge(nn.Module):
    def __init__(self, channels: int, stride: int, affine: bool):
        super().__init__()
        self.ops = nn.ModuleList(make_op(op, channels, stride, affine) for op in range(nb301.N_OPS))


class SuperCell(nn.Module):
    def __init__(self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, affine: bool):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = preprocess(c_pp, c, reduction_prev, affine)
        self.preprocess1 = preprocess(c_p, c, False, affine)
        self.edges = nn.ModuleList(MixedEdge(c, 2 if reduction and inp < 2 else 1, affine)
                                   for node in range(nb301.N_NODES) for inp in nb301.allowed_inputs(node))

    def genotype(self, arch: nb301.Arch) -> nb301.Cell:
        return arch[1] if self.reduction else arch[0]

    def chosen_ops(self, arch: nb301.Arch) -> list[nn.Module]:
        """The op modules a forward of `arch` runs in this cell, in pair order."""
        cell = self.genotype(arch)
        return [self.edges[edge_index(nb301.node_of(i), inp)].ops[op] for i, (op, inp) in enumerate(cell)]

    def forward(self, s0, s1, arch):
        cell, ops = self.genotype(arch), self.chosen_ops(arch)

        def pair(k, j, states):
            i = 2 * k + j
            return ops[i](states[cell[i][1]])

        return run_nodes(self.preprocess0(s0), self.preprocess1(s1), nb301.N_NODES, pair)


class DartsSupernet(DartsSkeleton):
    def __init__(self, C: int = 16, layers: int = 8, num_classes: int = 10, in_channels: int = 3,
                 stem_multiplier: int = 3, affine: bool = False, dropout: float = 0.1):
        self.affine = affine
        super().__init__(lambda i, c_pp, c_p, c, red, red_prev: SuperCell(c_pp, c_p, c, red, red_prev, affine),
                         C=C, layers=layers, num_classes=num_classes, in_channels=in_channels,
                         stem_multiplier=stem_multiplier, dropout=dropout)

    def forward(self, x, arch):
        # channels-last: CPU depthwise convolutions (every sep/dil conv) run ~1.8x faster in it
        # (measured on a C4 / 5-cell supernet step); the weights are converted by `.to()` below
        if self.stem[0].weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x, as_arch(arch))

    def used_parameters(self, arch) -> list[nn.Parameter]:
        """Parameters a forward of `arch` touches (each once), for per-parameter MC averaging."""
        arch = as_arch(arch)
        used = list(self.stem.parameters())
        for cell in self.cells:
            used += list(cell.preprocess0.parameters()) + list(cell.preprocess1.parameters())
            for op in cell.chosen_ops(arch):
                used += list(op.parameters())
        used += list(self.classifier.parameters())
        return used

    def scoring_mode(self) -> "DartsSupernet":
        """BN in train mode (batch statistics), dropout off: the study's scoring mode."""
        self.train()
        self.dropout.eval()
        return self


def copy_into_standalone_darts(supernet: DartsSupernet, arch, standalone: nn.Module) -> None:
    """Load the supernet's weights (and BN buffers) for `arch` into a `DartsNetwork` built with
    the same arch, C, layers, stem_multiplier and affine=supernet.affine."""
    arch = as_arch(arch)
    if tuple(standalone.arch) != arch:
        raise ValueError("the standalone network was built for another architecture")
    state, source = {}, supernet.state_dict()
    for name in standalone.state_dict():
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "ops":
            cell = supernet.cells[int(parts[1])].genotype(arch)
            op, inp = cell[int(parts[3])]
            parts = parts[:2] + ["edges", str(edge_index(nb301.node_of(int(parts[3])), inp)), "ops", str(op)] \
                + parts[4:]
        state[name] = source[".".join(parts)]
    standalone.load_state_dict(state)
