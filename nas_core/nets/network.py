"""The standalone NAS-Bench-201 network (docs/reproduction.md: the NB201 space).

stem conv3x3(in->C)+BN, 3 stages of N cells (C, 2C, 4C channels) with a residual reduction
block between stages, then BN -> ReLU -> global average pool -> Linear. Every edge op is
instantiated (dead edges too) so the parameter count equals the benchmark's, but a forward
pass runs only the edges that can change the output (`active_edges`, the supernet's rule), so
no proxy ever sees a dead edge (its ReLU, its activations).
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from nas_core.nets.ops import ResidualReduction, make_op
from nas_core.space.nb201 import EDGES, NONE, live_edges


@lru_cache(maxsize=None)
def active_edges(arch: tuple[int, ...], affine: bool) -> tuple[bool, ...]:
    """The edges a forward pass runs. Without BN affine, an edge fed by a zero node outputs
    exactly 0, so only the live edges (input->output path) run. With BN affine such an edge
    outputs BN's bias, so every non-`none` edge that reaches node 3 runs (fed zeros). An edge
    that never reaches node 3 (dead) never runs: it cannot change the output."""
    if not affine:
        return live_edges(arch)
    reach_out = {3}
    for f in (2, 1, 0):
        if any(arch[e] != NONE and t in reach_out for e, (t, ff) in enumerate(EDGES) if ff == f):
            reach_out.add(f)
    return tuple(arch[e] != NONE and t in reach_out for e, (t, f) in enumerate(EDGES))


def run_cell(x, active, edge_fn):
    """Node j = sum of its active incoming edges (zeros if none); output = node 3."""
    nodes = [x]
    for to_node in (1, 2, 3):
        total = None
        for e, (t, f) in enumerate(EDGES):
            if t == to_node and active[e]:
                y = edge_fn(e, nodes[f])
                total = y if total is None else total + y
        nodes.append(torch.zeros_like(x) if total is None else total)
    return nodes[3]


class Cell(nn.Module):
    """Node j = sum of its incoming edges; output = node 3. Dead edges keep their modules
    (#params) but do not run."""

    def __init__(self, ops, channels: int, affine: bool = True):
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, channels, affine) for op in ops)
        self.active = active_edges(tuple(int(o) for o in ops), affine)

    def forward(self, x):
        return run_cell(x, self.active, lambda e, h: self.edges[e](h))


class Skeleton(nn.Module):
    """The macro skeleton with a factory for the cells (shared with the supernet)."""

    def __init__(self, make_cell, C: int = 16, N: int = 5, num_classes: int = 10,
                 in_channels: int = 3, dropout: float = 0.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        layers = []
        for stage in range(3):
            c = C * 2 ** stage
            if stage > 0:
                layers.append(ResidualReduction(c // 2, c))
            layers.extend(make_cell(c) for _ in range(N))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=False))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(4 * C, num_classes)

    def feature_modules(self) -> list[nn.Module]:
        """The blocks whose outputs are the network's stage features, in order (stem, every
        cell and reduction block): AZ-NAS's `extract_cell_features` on NB201."""
        return [self.stem, *self.cells]

    def features(self, x, *cell_args):
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x) if isinstance(layer, ResidualReduction) else layer(x, *cell_args)
        return self.lastact(x).mean(dim=(2, 3))

    def forward(self, x, *cell_args):
        return self.classifier(self.dropout(self.features(x, *cell_args)))


class NB201Network(Skeleton):
    """One architecture (6 op ids in edge order) on the NB201 skeleton."""

    def __init__(self, ops, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3,
                 dropout: float = 0.0, cell_affine: bool = True):
        self.arch = tuple(int(o) for o in ops)
        assert len(self.arch) == len(EDGES)
        super().__init__(lambda c: Cell(self.arch, c, affine=cell_affine), C=C, N=N, num_classes=num_classes,
                         in_channels=in_channels, dropout=dropout)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def init_seeded(ops, seed: int, **kwargs) -> NB201Network:
    """A network whose PyTorch-default initial weights depend only on (ops, seed, kwargs)."""
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return NB201Network(ops, **kwargs)
    finally:
        torch.random.set_rng_state(gen_state)
