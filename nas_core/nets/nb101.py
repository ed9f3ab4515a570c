"""The standalone NAS-Bench-101 network (docs/nb101.md), built as the benchmark's TensorFlow
reference builds it, in PyTorch.

stem conv3x3(3 -> 128)-BN-ReLU; 3 stacks of 3 cells; before stacks 2 and 3 a 2x2 max-pool
and twice the channels; global average pool; linear classifier.

Inside a cell (`space.nb101.vertex_channels` gives every vertex's channels):
  * a vertex sums its inputs: each predecessor op vertex (its output cut to the vertex's
    channels when it has one more, the benchmark's `truncate`) and, for an edge from the cell
    input, a 1x1 conv-BN-ReLU projection of the input to the vertex's channels;
  * the vertex then applies its op: conv3x3/conv1x1-BN-ReLU (channels kept) or a 3x3
    max-pool (stride 1, padding 1);
  * the output concatenates, in vertex order, the vertices that feed it; an input->output
    edge adds a 1x1 projection of the input to that (or is the whole output when no op
    vertex feeds the output).
Every ReLU is an `nn.ReLU` module, so activation hooks see them.
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core.space.nb101 import CONV1, CONV3, POOL, Cell, Macro, vertex_channels


class ConvBNReLU(nn.Sequential):
    """Conv (no bias, 'same' padding) -> BN -> ReLU: the benchmark's `conv_bn_relu`."""

    def __init__(self, c_in: int, c_out: int, kernel: int, affine: bool = True):
        super().__init__(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine), nn.ReLU(inplace=False))


def make_vertex_op(op: str, channels: int, affine: bool = True) -> nn.Module:
    if op == CONV3:
        return ConvBNReLU(channels, channels, 3, affine)
    if op == CONV1:
        return ConvBNReLU(channels, channels, 1, affine)
    if op == POOL:
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 op {op!r}")


class NB101Cell(nn.Module):
    def __init__(self, cell: Cell, c_in: int, c_out: int):
        super().__init__()
        m = cell.matrix
        self.n = n = cell.n_vertices
        self.channels = vertex_channels(c_in, c_out, m)
        self.preds = [[u for u in range(1, v) if m[u, v]] for v in range(n)]
        self.from_input = [bool(m[0, v]) for v in range(n)]
        self.to_output = [v for v in range(1, n - 1) if m[v, n - 1]]
        # ModuleDicts keyed by vertex: vertices without a projection have none
        self.proj = nn.ModuleDict({str(v): ConvBNReLU(c_in, self.channels[v], 1)
                                   for v in range(1, n - 1) if m[0, v]})
        self.ops = nn.ModuleDict({str(v): make_vertex_op(cell.ops[v], self.channels[v]) for v in range(1, n - 1)})
        self.out_proj = ConvBNReLU(c_in, c_out, 1) if m[0, n - 1] else None

    def forward(self, x):
        values = [x]
        for v in range(1, self.n - 1):
            c = self.channels[v]
            terms = [values[u][:, :c] for u in self.preds[v]]  # predecessors have c or c + 1 channels
            if self.from_input[v]:
                terms.append(self.proj[str(v)](x))
            total = terms[0]
            for t in terms[1:]:
                total = total + t
            values.append(self.ops[str(v)](total))
        if not self.to_output:
            return self.out_proj(x)
        out = values[self.to_output[0]] if len(self.to_output) == 1 else torch.cat(
            [values[v] for v in self.to_output], dim=1)
        if self.out_proj is not None:
            out = out + self.out_proj(x)
        return out


class NB101Network(nn.Module):
    """One NB101 cell on the benchmark's skeleton (`Macro`; the defaults are the benchmark's).
    `dropout` (before the classifier) is 0 in the benchmark."""

    def __init__(self, cell: Cell, macro: Macro = Macro(), dropout: float = 0.0):
        super().__init__()
        self.cell = cell
        self.macro = macro
        self.stem = ConvBNReLU(macro.in_channels, macro.stem_channels, 3)
        layers: list[nn.Module] = []
        size = macro.resolution
        for c_in, c_out, cell_size in macro.cell_plan():
            if cell_size != size:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))  # TF 'same' 2x2/2
                size = cell_size
            layers.append(NB101Cell(cell, c_in, c_out))
        self.cells = nn.Sequential(*layers)
        c_last = macro.cell_plan()[-1][1]
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(c_last, macro.num_classes)

    def features(self, x):
        return self.cells(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x):
        return self.classifier(self.dropout(self.features(x)))


def init_seeded(cell: Cell, seed: int, **kwargs) -> NB101Network:
    """A network whose PyTorch-default initial weights depend only on (cell, seed, kwargs);
    the global random state is left as it was."""
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return NB101Network(cell, **kwargs)
    finally:
        torch.random.set_rng_state(state)
