"""The NB201 weight-sharing supernet (docs/reproduction.md: one-shot estimators).

Every edge of every cell holds separate weights for each of the 5 ops; a forward pass takes
an architecture (6 op ids) and runs only the edges that can change the output. Cell BN has
no affine parameters by default (the reference configuration; `affine=True` for RQ3), and
dropout sits before the classifier.

Which edges run: without BN affine, an edge whose source is a zero node outputs exactly 0
(ReLU, conv and non-affine BN of 0 are 0; pooling and skip of 0 are 0), so only the *live*
edges (on an input->output path) run. With BN affine, such an edge outputs BN's bias, so
every non-`none` edge that reaches the output runs, fed zeros from zero nodes.
"""
from __future__ import annotations

import numpy as np
from torch import nn

from nas_core.nets.network import Skeleton, active_edges, run_cell
from nas_core.nets.ops import make_op
from nas_core.space.nb201 import EDGES, N_OPS


class MixedEdge(nn.Module):
    def __init__(self, channels: int, affine: bool):
        super().__init__()
        self.ops = nn.ModuleList(make_op(op, channels, affine) for op in range(N_OPS))

    def forward(self, x, op: int):
        return self.ops[op](x)


class SuperCell(nn.Module):
    def __init__(self, channels: int, affine: bool):
        super().__init__()
        self.affine = affine
        self.edges = nn.ModuleList(MixedEdge(channels, affine) for _ in EDGES)

    def forward(self, x, arch):
        return run_cell(x, active_edges(tuple(arch), self.affine), lambda e, h: self.edges[e](h, arch[e]))


class Supernet(Skeleton):
    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3,
                 affine: bool = False, dropout: float = 0.1):
        self.affine = affine
        super().__init__(lambda c: SuperCell(c, affine), C=C, N=N, num_classes=num_classes,
                         in_channels=in_channels, dropout=dropout)

    def used_parameters(self, arch) -> list[nn.Parameter]:
        """Parameters a forward of `arch` touches (for per-parameter MC averaging)."""
        active = active_edges(tuple(arch), self.affine)
        used = []
        for layer in self.cells:
            if isinstance(layer, SuperCell):
                for e, edge in enumerate(layer.edges):
                    if active[e]:
                        used += list(edge.ops[arch[e]].parameters())
            else:
                used += list(layer.parameters())
        used += list(self.stem.parameters()) + list(self.lastact.parameters()) + list(self.classifier.parameters())
        return used

    def scoring_mode(self) -> "Supernet":
        """BN in train mode (batch statistics), dropout off: the study's scoring mode."""
        self.train()
        self.dropout.eval()
        return self


class SupernetArch(nn.Module):
    """A standalone view of one architecture inside a supernet (shares its weights)."""

    def __init__(self, supernet: Supernet, arch):
        super().__init__()
        self.supernet = supernet
        # NB201: 6 op ids (plain ints); other spaces pass their own hashable encoding unchanged
        nb201 = isinstance(arch, (tuple, list, np.ndarray)) and all(isinstance(o, (int, np.integer)) for o in arch)
        self.arch = tuple(int(o) for o in arch) if nb201 else arch

    def forward(self, x):
        return self.supernet(x, self.arch)

    def feature_modules(self) -> list[nn.Module]:
        return self.supernet.feature_modules()


def copy_into_standalone(supernet: Supernet, arch, standalone: nn.Module) -> None:
    """Load the supernet's weights for `arch` into an NB201Network built with the same C, N
    and cell_affine=supernet.affine."""
    state, source = {}, supernet.state_dict()
    for name in standalone.state_dict():
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "edges":
            edge = int(parts[3])
            parts = parts[:4] + ["ops", str(arch[edge])] + parts[4:]
        state[name] = source[".".join(parts)]
    standalone.load_state_dict(state)
