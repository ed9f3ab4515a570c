"""The NAS-Bench-301 search space: the DARTS cell space (Liu et al., ICLR 2019; Siems et al.,
"NAS-Bench-301 and the case for surrogate benchmarks", 2020).

An architecture is a (normal, reduce) pair of cells. A cell has two inputs (0 and 1: the outputs
of the previous two cells) and N_NODES = 4 intermediate nodes; intermediate node k (0-based)
sums two (op, input) pairs whose inputs are two DIFFERENT nodes among 0..k+1 (the cell inputs
and the earlier intermediate nodes, numbered 2..5). Ops come from `OPS` (no `none`). The cell's
output concatenates the 4 intermediate nodes.

Held in the kit as `Arch = (normal, reduce)`, each a tuple of 8 `(op_id, input)` pairs, two per
node in node order. The string form is the one of the NB301 sample and of DARTS genotypes:
`"<normal>|<reduce>"`, each cell `op~input` pairs joined by `;`.

The two pairs of a node are summed, so their order is irrelevant: `canonical` sorts them (by
input, then op). Every function returning architectures returns canonical ones. No wider
isomorphism is applied (e.g. renumbering two intermediate nodes with the same inputs); NB301
itself does not merge those either.

Size of the space: per cell prod_k C(k+2, 2) * 7**2 = 1*3*6*10 * 7**8 ~ 1.04e9 cells, so
~1.1e18 (normal, reduce) pairs, without the order of the pairs in a node.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.errors import BadParameter

OPS: tuple[str, ...] = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                        "dil_conv_3x3", "dil_conv_5x5")
OP_ID = {op: i for i, op in enumerate(OPS)}
N_OPS = len(OPS)
N_NODES = 4
PAIRS_PER_NODE = 2
N_PAIRS = N_NODES * PAIRS_PER_NODE  # 8 per cell
CELLS = ("normal", "reduce")

Pair = tuple[int, int]
Cell = tuple[Pair, ...]
Arch = tuple[Cell, Cell]

# DARTS' own result (DARTS_V2 of its code, second-order search), in canonical order
EXAMPLE = ("sep_conv_3x3~0;sep_conv_3x3~1;sep_conv_3x3~0;sep_conv_3x3~1;skip_connect~0;sep_conv_3x3~1;"
           "skip_connect~0;dil_conv_3x3~2|max_pool_3x3~0;max_pool_3x3~1;max_pool_3x3~1;skip_connect~2;"
           "max_pool_3x3~0;skip_connect~2;max_pool_3x3~1;skip_connect~2")


def node_of(pair_index: int) -> int:
    return pair_index // PAIRS_PER_NODE


def allowed_inputs(node: int) -> range:
    """Inputs of intermediate node k: the two cell inputs (0, 1) and nodes 2..k+1."""
    return range(node + 2)


# ----------------------------------------------------------------------------- parsing / checking

def _cell_error(text: str, what: str) -> BadParameter:
    return BadParameter(f"malformed NAS-Bench-301 cell {text!r}: {what}",
                        fix=f"a cell is {N_PAIRS} 'op~input' pairs joined by ';' (two per node, node k reading "
                            f"two different inputs among 0..k+1), e.g. {EXAMPLE.split('|')[0]}")


def _check_cell(cell, text) -> Cell:
    """Validate a cell given as pairs (op id or name, input); returns it with op ids."""
    try:
        pairs = [(OP_ID[op] if isinstance(op, str) else int(op), int(inp)) for op, inp in cell]
    except KeyError as exc:
        raise BadParameter(f"unknown op {exc.args[0]!r} in NAS-Bench-301 cell {text!r}",
                           fix=f"valid ops are {', '.join(OPS)}") from None
    except (TypeError, ValueError):
        raise _cell_error(text, "each pair must be (op, input)") from None
    if len(pairs) != N_PAIRS:
        raise _cell_error(text, f"expected {N_PAIRS} pairs, got {len(pairs)}")
    for i, (op, inp) in enumerate(pairs):
        node = node_of(i)
        if not 0 <= op < N_OPS:
            raise BadParameter(f"op id {op} out of range in NAS-Bench-301 cell {text!r}",
                               fix=f"op ids index {OPS}")
        if inp not in allowed_inputs(node):
            raise _cell_error(text, f"pair {i + 1} (node {node}) reads input {inp}; node {node} may only read "
                                    f"inputs 0..{node + 1}")
    for node in range(N_NODES):
        a, b = pairs[2 * node], pairs[2 * node + 1]
        if a[1] == b[1]:
            raise _cell_error(text, f"node {node} reads input {a[1]} twice; its two inputs must differ")
    return tuple(pairs)


def parse_cell(text: str) -> Cell:
    """'op~input;...' (8 pairs) -> tuple of (op_id, input)."""
    if not isinstance(text, str):
        raise BadParameter(f"a NAS-Bench-301 cell string was expected, got {type(text).__name__}")
    tokens = text.strip().split(";")
    if len(tokens) != N_PAIRS:
        raise _cell_error(text, f"expected {N_PAIRS} pairs, got {len(tokens)}")
    pairs = []
    for token in tokens:
        op, sep, inp = token.strip().partition("~")
        if not sep or not inp.isdigit():
            raise _cell_error(text, f"token {token!r} is not 'op~input'")
        if op not in OP_ID:
            raise BadParameter(f"unknown op {op!r} in NAS-Bench-301 cell {text!r}",
                               fix=f"valid ops are {', '.join(OPS)}")
        pairs.append((op, int(inp)))
    return _check_cell(pairs, text)


def from_genotypes(normal: str, reduce: str) -> Arch:
    """The two cell strings of the NB301 sample (`normal_genotype`, `reduce_genotype`) -> Arch."""
    return canonical((parse_cell(normal), parse_cell(reduce)))


def parse(arch_str: str) -> Arch:
    """'<normal>|<reduce>' -> canonical Arch. Raises BadParameter saying what is wrong."""
    if not isinstance(arch_str, str):
        raise BadParameter(f"a NAS-Bench-301 architecture string was expected, got {type(arch_str).__name__}")
    cells = arch_str.strip().split("|")
    if len(cells) != 2:
        raise BadParameter(f"malformed NAS-Bench-301 architecture {arch_str!r}: expected a normal and a reduce "
                           f"cell joined by '|', got {len(cells)} part(s)", fix=f"e.g. {EXAMPLE}")
    return from_genotypes(*cells)


def check_arch(arch) -> Arch:
    """Validate an Arch-like value ((normal, reduce) of 8 (op, input) pairs); returns it with op ids
    (order of pairs kept)."""
    try:
        normal, reduce = arch
    except (TypeError, ValueError):
        raise BadParameter(f"a NAS-Bench-301 architecture is (normal, reduce), got {arch!r}") from None
    return (_check_cell(normal, normal), _check_cell(reduce, reduce))


def format_cell(cell) -> str:
    return ";".join(f"{OPS[op]}~{inp}" for op, inp in cell)


def format_arch(arch) -> str:
    """Arch -> '<normal>|<reduce>' (pairs in the given order; `parse` returns the canonical order)."""
    normal, reduce = check_arch(arch)
    return f"{format_cell(normal)}|{format_cell(reduce)}"


FLAT_LEN = 2 * N_PAIRS * 2  # 32 ints


def to_flat(arch) -> tuple[int, ...]:
    """Arch -> 32 ints (op, input of each pair, normal cell first): a form for code that needs a
    flat tuple of ints (e.g. `nets.supernet.SupernetArch`, which calls int() on each element)."""
    return tuple(int(v) for cell in canonical(arch) for pair in cell for v in pair)


def from_flat(code) -> Arch:
    """Inverse of `to_flat` (validated, canonical)."""
    values = [int(v) for v in code]
    if len(values) != FLAT_LEN:
        raise BadParameter(f"a flat NAS-Bench-301 code has {FLAT_LEN} ints, got {len(values)}")
    pairs = list(zip(values[0::2], values[1::2]))
    return canonical((tuple(pairs[:N_PAIRS]), tuple(pairs[N_PAIRS:])))


# ----------------------------------------------------------------------------- canonical form

def _canonical_cell(cell: Cell) -> Cell:
    out: list[Pair] = []
    for node in range(N_NODES):
        out += sorted(cell[2 * node: 2 * node + 2], key=lambda p: (p[1], p[0]))
    return tuple(out)


def canonical(arch) -> Arch:
    """The two pairs of each node sorted by (input, op): equal canonical forms = same network."""
    normal, reduce = check_arch(arch)
    return (_canonical_cell(normal), _canonical_cell(reduce))


def is_canonical(arch) -> bool:
    return tuple(tuple(tuple(p) for p in cell) for cell in arch) == canonical(arch)


# ----------------------------------------------------------------------------- sampling, mutation

def _sample_cell(rng: np.random.Generator) -> Cell:
    pairs: list[Pair] = []
    for node in range(N_NODES):
        inputs = rng.choice(node + 2, size=2, replace=False)
        ops = rng.integers(0, N_OPS, size=2)
        pairs += [(int(ops[0]), int(inputs[0])), (int(ops[1]), int(inputs[1]))]
    return tuple(pairs)


def draw(rng: np.random.Generator) -> Arch:
    """One uniform architecture from `rng` (per node: 2 distinct inputs uniform among the allowed
    ones, each op uniform; normal cell first); canonical."""
    return canonical((_sample_cell(rng), _sample_cell(rng)))


def sample(n: int, seed: int) -> list[Arch]:
    """n uniform architectures (`draw`) from numpy's default Generator seeded with `seed`."""
    if int(n) < 0:
        raise BadParameter(f"sample size must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    return [draw(rng) for _ in range(int(n))]


def _cell_neighbours(cell: Cell):
    for i, (op, inp) in enumerate(cell):
        other_input = cell[i ^ 1][1]  # the other pair of the same node
        for new_op in range(N_OPS):
            if new_op != op:
                yield cell[:i] + ((new_op, inp),) + cell[i + 1:]
        for new_inp in allowed_inputs(node_of(i)):
            if new_inp not in (inp, other_input):
                yield cell[:i] + ((op, new_inp),) + cell[i + 1:]


def neighbours(arch) -> list[Arch]:
    """Every architecture one mutation away: one pair's op or one pair's input changed, in one cell.
    Canonical, deduplicated, without `arch` itself. 2 cells x (8 pairs x 6 other ops + 12 input
    moves) = 120 for every arch (node k's pair can move to k inputs: 2 x (0+1+2+3))."""
    normal, reduce = canonical(arch)
    out = {canonical((c, reduce)) for c in _cell_neighbours(normal)}
    out |= {canonical((normal, c)) for c in _cell_neighbours(reduce)}
    out.discard((normal, reduce))
    return sorted(out)


def mutation_kind(a, b) -> str | None:
    """'op' or 'input' when b is a one-mutation neighbour of a (see `neighbours`), else None."""
    a, b = canonical(a), canonical(b)
    changed = [(ca[2 * k: 2 * k + 2], cb[2 * k: 2 * k + 2]) for ca, cb in zip(a, b)
               for k in range(N_NODES) if set(ca[2 * k: 2 * k + 2]) != set(cb[2 * k: 2 * k + 2])]
    if len(changed) != 1:
        return None
    node_a, node_b = (set(x) for x in changed[0])
    only_a, only_b = node_a - node_b, node_b - node_a
    if len(only_a) != 1 or len(only_b) != 1:
        return None
    (op_a, in_a), (op_b, in_b) = only_a.pop(), only_b.pop()
    if in_a == in_b:
        return "op"
    if op_a == op_b:
        return "input"
    return None


# ----------------------------------------------------------------------------- features

def cell_depth(cell) -> int:
    """Longest path from a cell input to an intermediate node, counted in intermediate nodes
    (1 when every node reads only the cell inputs, 4 for a chain)."""
    depth = [0, 0]
    for node in range(N_NODES):
        depth.append(1 + max(depth[inp] for _, inp in cell[2 * node: 2 * node + 2]))
    return max(depth[2:])


def features(archs) -> pd.DataFrame:
    """One row per arch: `<cell>_<op>` op counts, `<cell>_input_pairs` (pairs reading a cell
    input 0/1), `<cell>_depth` (`cell_depth`), and the analytic `params_M` / `flops_M` of the
    NB301 training network (`params_flops` with its defaults)."""
    archs = [canonical(a) for a in archs]
    rows = []
    for arch in archs:
        row = {}
        for name, cell in zip(CELLS, arch):
            counts = np.bincount([op for op, _ in cell], minlength=N_OPS)
            row.update({f"{name}_{op}": int(c) for op, c in zip(OPS, counts)})
            row[f"{name}_input_pairs"] = sum(inp < 2 for _, inp in cell)
            row[f"{name}_depth"] = cell_depth(cell)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[f"{c}_{x}" for c in CELLS for x in (*OPS, "input_pairs", "depth")])
    frame["params_M"], frame["flops_M"] = params_flops(archs)
    return frame



def params_flops(archs, **kwargs):
    """Analytic (params_M, flops_M) of the NB301 network; see `nb301_cost.params_flops` (its
    defaults reproduce the NB301 sample's `params` / `flops` columns)."""
    from nas_core.space.nb301_cost import params_flops as closed_form  # nb301_cost imports this module

    return closed_form(archs, **kwargs)
