"""Sub-space 3 of NAS-Bench-1shot1 (Zela et al., ICLR 2020): the part of NAS-Bench-101 that a
weight-sharing supernet can cover (docs/nb101.md, "Sub-space 3").

The cell has 7 nodes: 0 the input, 1..5 choice blocks, 6 the output. Node j takes exactly
`N_PARENTS[j]` distinct parents among the nodes before it (node 1: the input; nodes 2, 3: one;
nodes 4, 5 and the output: two), and each choice block one of the 3 NB101 ops. That is
1*2*3*6*10*15 = 5,400 wirings x 3**5 op choices, always 9 edges. The benchmark evaluates the
PRUNED cell ("loose ends", blocks that do not reach the output, are dropped), so several
configurations are one NB101 architecture.

`S3Arch` is one configuration (parents of nodes 1..6, ops of blocks 1..5); `to_cell` gives its
NB101 cell. `in_subspace3(cell)` says whether an NB101 cell is the pruned cell of some
configuration; `embed(cell)` returns the kit's canonical configuration of such a cell (the one
whose supernet path scores it).

Membership, derived from the definition: every block is reachable from the input (each has a
parent before it), so a block is live iff it reaches the output, and then all its parents are
live. Hence a pruned cell is in the sub-space iff (a) the output has exactly 2 inputs, (b) every
op vertex has 1 or 2 inputs, (c) at most 3 have one input and at most 2 have two, (d) no
two-input vertex feeds a one-input vertex: then the one-input vertices fit blocks 1..3 and the
two-input ones blocks 4..5 in their own order, and unused blocks can be wired as loose ends.
(The first one-input vertex's parent is the input, as block 1 needs, because of (d).)
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nas_core.errors import BadParameter
from nas_core.space import nb101
from nas_core.space.nb101 import CONV3, INPUT, OPS, OUTPUT, Cell

N_PARENTS = (0, 1, 1, 1, 2, 2, 2)  # per node 0..6
N_BLOCKS = 5
OUTPUT_NODE = 6


def parent_choices(node: int) -> list[tuple[int, ...]]:
    """The allowed parent sets of a node, as sorted tuples (1shot1's `parent_combinations`)."""
    return list(itertools.combinations(range(node), N_PARENTS[node]))


@dataclass(frozen=True)
class S3Arch:
    """One sub-space-3 configuration: `parents[j - 1]` are node j's parents (j = 1..6, the last
    the output's), `ops[j - 1]` the op of block j (j = 1..5)."""
    parents: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    def __post_init__(self):
        if len(self.parents) != OUTPUT_NODE or len(self.ops) != N_BLOCKS:
            raise BadParameter(f"a sub-space-3 architecture has parents for nodes 1..6 and ops for blocks 1..5; "
                               f"got {len(self.parents)} parent sets and {len(self.ops)} ops")
        for node, ps in enumerate(self.parents, start=1):
            if tuple(ps) not in parent_choices(node):
                raise BadParameter(f"node {node} of sub-space 3 takes {N_PARENTS[node]} distinct parent(s) among "
                                   f"nodes 0..{node - 1}; got {ps}")
        for op in self.ops:
            if op not in OPS:
                raise BadParameter(f"unknown op {op!r}", fix=f"valid ops are {', '.join(OPS)}")

    def matrix(self) -> np.ndarray:
        m = np.zeros((OUTPUT_NODE + 1, OUTPUT_NODE + 1), dtype=np.uint8)
        for node, ps in enumerate(self.parents, start=1):
            m[list(ps), node] = 1
        return m


def to_cell(arch: S3Arch) -> Cell:
    """The NB101 cell of a configuration (pruned: loose ends dropped)."""
    return nb101.make_cell(arch.matrix(), (INPUT,) + arch.ops + (OUTPUT,))


@lru_cache(maxsize=100_000)
def live_blocks(arch: S3Arch) -> tuple[int, ...]:
    """The blocks (1..5) on an input->output path, i.e. those a forward pass must run."""
    live = nb101.live_vertices(arch.matrix())
    return tuple(j for j in range(1, OUTPUT_NODE) if live[j])


def all_wirings() -> list[tuple[tuple[int, ...], ...]]:
    """The 5,400 parent configurations (nodes 1..6), in lexicographic order."""
    return [tuple(w) for w in itertools.product(*(parent_choices(j) for j in range(1, OUTPUT_NODE + 1)))]


def in_subspace3(cell: Cell) -> bool:
    """Whether an NB101 (pruned) cell is the cell of some sub-space-3 configuration (rule in
    the module docstring)."""
    m = cell.matrix
    n = cell.n_vertices
    if int(m[:, n - 1].sum()) != 2:
        return False
    indeg = m.sum(axis=0)
    inner = range(1, n - 1)
    ones = [v for v in inner if indeg[v] == 1]
    twos = [v for v in inner if indeg[v] == 2]
    if len(ones) + len(twos) != n - 2 or len(ones) > 3 or len(twos) > 2:
        return False
    return not any(m[u, v] for u in twos for v in ones)


# Wiring of an unused (loose-end) block in `embed`: the first allowed parent set. It never
# feeds a live node, so it does not change the cell.
_LOOSE_PARENTS = {j: parent_choices(j)[0] for j in range(2, OUTPUT_NODE)}


def embed(cell: Cell) -> S3Arch:
    """The kit's canonical configuration of an NB101 cell of the sub-space: one-input vertices
    take blocks 1, 2, 3 and two-input vertices blocks 4, 5, each group in vertex order; unused
    blocks are loose ends (first allowed parents, op conv3x3). BadParameter when the cell is
    not in the sub-space."""
    if not in_subspace3(cell):
        raise BadParameter(f"the NB101 cell {nb101.format_arch(cell)} is not in NAS-Bench-1shot1 sub-space 3",
                           fix="sub-space 3 cells have op vertices with 1 or 2 inputs (at most 3 and 2 of them), "
                               "2 inputs to the output, and no 2-input vertex feeding a 1-input vertex")
    m = cell.matrix
    n = cell.n_vertices
    indeg = m.sum(axis=0)
    ones = [v for v in range(1, n - 1) if indeg[v] == 1]
    twos = [v for v in range(1, n - 1) if indeg[v] == 2]
    slot = {0: 0, n - 1: OUTPUT_NODE}
    slot.update({v: 1 + i for i, v in enumerate(ones)})
    slot.update({v: 4 + i for i, v in enumerate(twos)})
    parents, ops = [(0,)] * OUTPUT_NODE, [CONV3] * N_BLOCKS
    for j in range(2, OUTPUT_NODE):
        parents[j - 1] = _LOOSE_PARENTS[j]
    for v in list(ones) + list(twos) + [n - 1]:
        parents[slot[v] - 1] = tuple(sorted(slot[u] for u in range(v) if m[u, v]))
        if v != n - 1:
            ops[slot[v] - 1] = cell.ops[v]
    return S3Arch(tuple(parents), tuple(ops))


def sample(n: int, seed: int) -> list[S3Arch]:
    """`n` configurations, each node's parent set and each block's op uniform and independent
    (1shot1's random sampling "with loose ends"). Deterministic for a seed; repeats allowed."""
    rng = np.random.default_rng(seed)
    return [random_arch(rng) for _ in range(n)]


def random_arch(rng: np.random.Generator) -> S3Arch:
    parents = []
    for j in range(1, OUTPUT_NODE + 1):
        choices = parent_choices(j)
        parents.append(choices[int(rng.integers(len(choices)))])
    ops = tuple(OPS[int(i)] for i in rng.integers(0, len(OPS), size=N_BLOCKS))
    return S3Arch(tuple(parents), ops)


def structure_hash(cell: Cell) -> str:
    """The benchmark hash with every op vertex given the same label: equal for cells that
    differ only in their ops (membership depends on the wiring alone)."""
    return nb101.hash_module(cell.matrix, [nb101.INPUT_LABEL] + [0] * (cell.n_vertices - 2) + [nb101.OUTPUT_LABEL])


@lru_cache(maxsize=1)
def wiring_structures() -> frozenset[str]:
    """Structure hashes of the pruned cells of all 5,400 wirings (about 1 s)."""
    ops = (CONV3,) * N_BLOCKS
    return frozenset(structure_hash(to_cell(S3Arch(w, ops))) for w in all_wirings())
