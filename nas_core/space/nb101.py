"""The NAS-Bench-101 cell search space (Ying et al., ICML 2019).

A cell is a DAG of at most 7 vertices: vertex 0 is the input, the last vertex the output, and
each vertex in between carries one op of `OPS`. It is written as an upper-triangular 0/1
adjacency matrix (row = source, column = destination) and the list of vertex labels, e.g.

    adjacency "0110000" "0001000" ... (7x7 flattened row by row, 49 characters)
    ops       "input,conv3x3-bn-relu,...,output"

and the kit's architecture string is f"{adjacency}|{ops}".

The benchmark's own rules, as its reference code (`ModelSpec`, `NASBench._check_spec`) sets them:
  * pruning: a vertex that is not on some input->output path does not compute anything that
    reaches the output; it is deleted (rows, columns and label). A cell whose input does not
    reach its output has no network at all and is invalid;
  * the limits (at most 7 vertices, at most 9 edges) apply to the PRUNED cell;
  * two cells are the same architecture when their pruned graphs have the same hash
    (`graph_hash`: an md5-based iterated neighbourhood hash of the labelled DAG, invariant
    to the order in which vertices are numbered).

`Cell` always holds the pruned cell. `parse`/`make_cell` validate and prune; `format_arch`
writes the pruned cell (an n-vertex cell has an n*n-character adjacency string).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from nas_core.errors import BadParameter

INPUT, OUTPUT = "input", "output"
CONV3, CONV1, POOL = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
# The benchmark's `available_ops` order: an op's position is its integer label in the hash.
OPS: tuple[str, ...] = (CONV3, CONV1, POOL)
OP_LABEL = {op: i for i, op in enumerate(OPS)}
INPUT_LABEL, OUTPUT_LABEL = -1, -2
MAX_VERTICES = 7
MAX_EDGES = 9
# The Inception-like cell of the benchmark's README (2,694,282 parameters there).
EXAMPLE = ("0111100000000100000010000001000001000000010000000"
           "|input,conv3x3-bn-relu,conv1x1-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output")
_FORMAT_HELP = ("an NB101 cell is '<adjacency>|<ops>': the upper-triangular adjacency matrix flattened row "
                "by row as n*n characters 0/1 (n <= 7 vertices, 49 characters for 7), then the n vertex "
                f"labels joined by ',' starting with 'input' and ending with 'output'; e.g. {EXAMPLE}")


@dataclass(frozen=True, eq=False)
class Cell:
    """A pruned, validated NB101 cell. Equality and hashing compare the exact matrix and ops
    (use `graph_hash` / `Cell.hash` to compare architectures up to vertex renumbering)."""
    matrix: np.ndarray      # (n, n) uint8, read-only, upper triangular
    ops: tuple[str, ...]    # n labels: input, ..., output

    def _key(self):
        return self.matrix.shape[0], self.matrix.tobytes(), self.ops

    def __eq__(self, other):
        return isinstance(other, Cell) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"Cell({format_arch(self)!r})"

    @property
    def n_vertices(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_edges(self) -> int:
        return int(self.matrix.sum())

    @property
    def hash(self) -> str:
        return _hash_pruned(self._key())


# ---- validation, pruning ------------------------------------------------------------------------

def _bad(what: str, fix: str = _FORMAT_HELP) -> BadParameter:
    return BadParameter(f"invalid NAS-Bench-101 cell: {what}", fix=fix)


def _check_labels(ops, n: int) -> tuple[str, ...]:
    ops = tuple(str(o).strip() for o in ops)
    if len(ops) != n:
        raise _bad(f"the adjacency matrix has {n} vertices but {len(ops)} ops were given {list(ops)}",
                   fix="give one label per vertex, 'input' first and 'output' last")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise _bad(f"the first label must be 'input' and the last 'output', got {ops[0]!r} ... {ops[-1]!r}",
                   fix="list the vertices in matrix order: input, the intermediate ops, output")
    for i, op in enumerate(ops[1:-1], start=1):
        if op in (INPUT, OUTPUT):
            raise _bad(f"vertex {i} is labelled {op!r}; only vertex 0 is the input and only the last vertex "
                       "the output", fix=f"intermediate vertices take one of {', '.join(OPS)}")
        if op not in OP_LABEL:
            raise _bad(f"unknown op {op!r} at vertex {i}", fix=f"valid ops are {', '.join(OPS)}")
    return ops


def _check_matrix(matrix) -> np.ndarray:
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise _bad(f"the adjacency matrix must be square, got shape {m.shape}")
    n = m.shape[0]
    if n > MAX_VERTICES:
        raise _bad(f"{n} vertices; NAS-Bench-101 cells have at most {MAX_VERTICES} (input, up to 5 ops, output)",
                   fix="use a matrix of at most 7x7")
    if n < 2:
        raise _bad(f"{n} vertex; a cell needs at least an input and an output vertex")
    if not np.isin(m, (0, 1)).all():
        raise _bad("the adjacency matrix may only hold 0 and 1")
    m = m.astype(np.uint8)
    if np.tril(m).any():
        i, j = np.argwhere(np.tril(m))[0]
        raise _bad(f"the adjacency matrix must be upper triangular (edges go from a lower to a higher vertex), "
                   f"but it has an entry at row {i}, column {j}",
                   fix="number the vertices in topological order so that every edge i->j has i < j")
    return m


def live_vertices(matrix: np.ndarray) -> np.ndarray:
    """Boolean mask of the vertices on some input->output path (the benchmark's pruning rule:
    reachable from vertex 0 AND reaching the last vertex)."""
    n = matrix.shape[0]
    fwd = np.zeros(n, dtype=bool)
    fwd[0] = True
    for v in range(1, n):  # upper triangular: one pass in vertex order is a full search
        fwd[v] = bool((matrix[:v, v].astype(bool) & fwd[:v]).any())
    bwd = np.zeros(n, dtype=bool)
    bwd[n - 1] = True
    for v in range(n - 2, -1, -1):
        bwd[v] = bool((matrix[v, v + 1:].astype(bool) & bwd[v + 1:]).any())
    return fwd & bwd


def prune(matrix, ops) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Delete the vertices that are not on an input->output path; None if the input does not
    reach the output (then the cell has no network)."""
    m = np.asarray(matrix, dtype=np.uint8)
    keep = live_vertices(m)
    if not (keep[0] and keep[-1]):
        return None
    idx = np.flatnonzero(keep)
    return m[np.ix_(idx, idx)].copy(), tuple(ops[i] for i in idx)


def make_cell(matrix, ops) -> Cell:
    """Validate a (matrix, ops) pair and return its pruned `Cell` (BadParameter on any problem)."""
    m = _check_matrix(matrix)
    labels = _check_labels(ops, m.shape[0])
    pruned = prune(m, labels)
    if pruned is None:
        raise _bad("there is no path from the input to the output, so the cell computes nothing",
                   fix="add edges so that the input reaches the output (possibly through op vertices)")
    pm, pops = pruned
    if pm.sum() > MAX_EDGES:
        raise _bad(f"{int(pm.sum())} edges after pruning the vertices off the input->output paths "
                   f"({int(m.sum())} before); NAS-Bench-101 cells have at most {MAX_EDGES}",
                   fix="remove edges")
    pm.setflags(write=False)
    return Cell(pm, pops)


def parse(adjacency, ops=None) -> Cell:
    """Parse an architecture: either `parse("<adjacency>|<ops>")` (the kit's string) or
    `parse(adjacency, ops)` with the sample CSV's two columns (ops comma-separated or a list)."""
    if ops is None:
        if not isinstance(adjacency, str) or adjacency.count("|") != 1:
            raise _bad(f"cannot read {adjacency!r} as '<adjacency>|<ops>'")
        adjacency, ops = adjacency.split("|")
    if not isinstance(adjacency, str):
        raise _bad(f"the adjacency must be a string of 0/1 characters, got {type(adjacency).__name__} "
                   "(read CSV columns as str: a 0-leading string read as a number loses its zeros)")
    bits = adjacency.strip()
    n = int(round(len(bits) ** 0.5))
    if n * n != len(bits) or not bits:
        raise _bad(f"the adjacency string has {len(bits)} characters, which is not n*n for a square matrix "
                   "(49 for a 7x7 matrix)")
    if set(bits) - {"0", "1"}:
        raise _bad(f"the adjacency string may only hold the characters 0 and 1, got {sorted(set(bits) - {'0', '1'})}")
    matrix = np.frombuffer(bits.encode(), dtype=np.uint8).reshape(n, n) - ord("0")
    labels = ops.split(",") if isinstance(ops, str) else list(ops)
    return make_cell(matrix, labels)


def format_arch(cell: Cell) -> str:
    """The kit's string of a (pruned) cell: '<n*n bits>|<ops>'."""
    bits = "".join(str(int(b)) for b in cell.matrix.ravel())
    return f"{bits}|{','.join(cell.ops)}"


def to_padded(cell: Cell, pad_op: str = CONV3) -> tuple[np.ndarray, tuple[str, ...]]:
    """The cell as a 7x7 matrix: isolated vertices (label `pad_op`) inserted before the output,
    which pruning removes again; the layout of the benchmark's 7-vertex search."""
    n = cell.n_vertices
    m = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    keep = list(range(n - 1)) + [MAX_VERTICES - 1]
    m[np.ix_(keep, keep)] = cell.matrix
    ops = cell.ops[:-1] + (pad_op,) * (MAX_VERTICES - n) + (OUTPUT,)
    return m, ops


# ---- the benchmark's graph hash ----------------------------------------------------------------

def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def hash_module(matrix: np.ndarray, labels) -> str:
    """The benchmark's labelled-graph fingerprint (`graph_util.hash_module`), re-implemented.

    Each vertex starts from md5(str((out_degree, in_degree, label))); then, |V| times, every
    vertex becomes md5(sorted in-neighbour hashes joined + '|' + sorted out-neighbour hashes
    joined + '|' + its own hash); the fingerprint is md5(str(sorted(vertex hashes))). The
    Python `str` of an int tuple and of a list of str are part of the hashed text.
    """
    m = np.asarray(matrix)
    n = m.shape[0]
    out_deg = m.sum(axis=1).tolist()
    in_deg = m.sum(axis=0).tolist()
    ins = [[w for w in range(n) if m[w, v]] for v in range(n)]
    outs = [[w for w in range(n) if m[v, w]] for v in range(n)]
    hashes = [_md5(str((int(o), int(i), int(lab)))) for o, i, lab in zip(out_deg, in_deg, labels)]
    for _ in range(n):
        hashes = [_md5("".join(sorted(hashes[w] for w in ins[v])) + "|"
                       + "".join(sorted(hashes[w] for w in outs[v])) + "|" + hashes[v])
                  for v in range(n)]
    return _md5(str(sorted(hashes)))


def labels_of(ops) -> list[int]:
    """Integer labels of the hash: -1 input, -2 output, the op's position in `OPS`."""
    return [INPUT_LABEL] + [OP_LABEL[o] for o in ops[1:-1]] + [OUTPUT_LABEL]


@lru_cache(maxsize=200_000)
def _hash_pruned(key) -> str:
    n, raw, ops = key
    matrix = np.frombuffer(raw, dtype=np.uint8).reshape(n, n)
    return hash_module(matrix, labels_of(ops))


def graph_hash(matrix, ops=None) -> str:
    """The benchmark's architecture hash (`ModelSpec.hash_spec`): validate, prune, then
    `hash_module` with labels -1 (input), -2 (output), 0/1/2 (`OPS` order).
    `graph_hash(cell)` or `graph_hash(matrix, ops)`."""
    cell = matrix if isinstance(matrix, Cell) else make_cell(matrix, ops)
    return cell.hash


# ---- sampling and mutation ---------------------------------------------------------------------

def random_spec(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """One draw of the benchmark's random cell generator: each of the 21 upper-triangular
    entries of a 7x7 matrix is 1 with probability 1/2, each of the 5 ops uniform."""
    m = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), k=1).astype(np.uint8)
    ops = [INPUT] + [OPS[i] for i in rng.integers(0, len(OPS), size=MAX_VERTICES - 2)] + [OUTPUT]
    return m, ops


def is_valid(matrix, ops) -> bool:
    try:
        make_cell(matrix, ops)
    except BadParameter:
        return False
    return True


def sample(n: int, seed: int) -> list[Cell]:
    """`n` distinct architectures (distinct hashes) by rejection: draw `random_spec` until it
    is valid (after pruning) and new. Deterministic for a seed."""
    if n < 0:
        raise BadParameter(f"sample size must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[Cell] = []
    while len(out) < n:
        m, ops = random_spec(rng)
        try:
            cell = make_cell(m, ops)
        except BadParameter:
            continue
        if cell.hash not in seen:
            seen.add(cell.hash)
            out.append(cell)
    return out


def neighbours(cell: Cell) -> list[Cell]:
    """Cells one mutation away, in the benchmark's 7-vertex layout (`to_padded`): one vertex op
    changed to another op, or one of the 21 upper-triangular edges toggled; kept when valid
    after pruning, deduplicated by hash, the cell itself excluded. Order: op changes by vertex
    then op, then edge toggles row by row."""
    m, ops = to_padded(cell)
    own = cell.hash
    seen = {own}
    out = []

    def consider(mm, oo):
        try:
            c = make_cell(mm, oo)
        except BadParameter:
            return
        if c.hash not in seen:
            seen.add(c.hash)
            out.append(c)

    for v in range(1, MAX_VERTICES - 1):
        for op in OPS:
            if op != ops[v]:
                consider(m, ops[:v] + (op,) + ops[v + 1:])
    for i in range(MAX_VERTICES):
        for j in range(i + 1, MAX_VERTICES):
            mm = m.copy()
            mm[i, j] ^= 1
            consider(mm, ops)
    return out


NO_EDGE, EDGE = "no edge", "edge"


def mutations(cell: Cell):
    """Every single mutation of a cell in the benchmark's 7-vertex layout (`to_padded`), valid
    or not after pruning, without deduplication: yields (kind, before, after, mutant) with kind
    'op' (before/after = the vertex's op names) or 'edge' (before/after = NO_EDGE / EDGE), and
    `mutant` the pruned Cell or None when invalid. A mutant may equal the cell as an
    architecture (same hash), e.g. a changed op on a vertex that pruning removes."""
    m, ops = to_padded(cell)

    def build(mm, oo):
        try:
            return make_cell(mm, oo)
        except BadParameter:
            return None

    for v in range(1, MAX_VERTICES - 1):
        for op in OPS:
            if op != ops[v]:
                yield "op", ops[v], op, build(m, ops[:v] + (op,) + ops[v + 1:])
    for i in range(MAX_VERTICES):
        for j in range(i + 1, MAX_VERTICES):
            mm = m.copy()
            mm[i, j] ^= 1
            yield "edge", (EDGE if m[i, j] else NO_EDGE), (NO_EDGE if m[i, j] else EDGE), build(mm, ops)


# ---- features, complexity ----------------------------------------------------------------------

def longest_path(cell: Cell) -> int:
    """Number of op vertices on the longest input->output path."""
    m = cell.matrix
    n = cell.n_vertices
    best = np.full(n, -1)
    best[0] = 0
    for v in range(1, n):
        preds = [best[u] for u in range(v) if m[u, v] and best[u] >= 0]
        if preds:
            best[v] = max(preds) + (1 if v < n - 1 else 0)
    return int(best[n - 1])


def vertex_channels(in_channels: int, out_channels: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of a pruned cell, the benchmark's rule (`compute_vertex_channels`).

    The output concatenates the vertices that feed it: `out_channels` is split evenly among
    them, the first `out_channels % k` of them (in vertex order) getting one extra channel. A
    vertex that does not feed the output takes the largest channel count among its successors
    (filled backwards). The input keeps `in_channels`; a 2-vertex cell (input -> output) has
    no op vertex.
    """
    n = matrix.shape[0]
    ch = [0] * n
    ch[0], ch[n - 1] = in_channels, out_channels
    if n == 2:
        return ch
    k = int(matrix[1:, n - 1].sum())  # fan-in of the output, not counting the input
    base, extra = divmod(out_channels, k)
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            ch[v] = base + (1 if extra > 0 else 0)
            extra -= 1 if extra > 0 else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            ch[v] = max(ch[w] for w in range(v + 1, n - 1) if matrix[v, w])
    return ch


@dataclass(frozen=True)
class Macro:
    """The NB101 network around the cells: a 3x3 stem of `stem_channels`, `stacks` stacks of
    `cells_per_stack` cells, 2x2 max-pool and doubled channels between stacks, global average
    pool, linear classifier. The benchmark's values are the defaults."""
    stem_channels: int = 128
    stacks: int = 3
    cells_per_stack: int = 3
    resolution: int = 32
    num_classes: int = 10
    in_channels: int = 3

    def cell_plan(self):
        """(input channels, output channels, spatial size) of every cell, in order."""
        plan, c, size = [], self.stem_channels, self.resolution
        for s in range(self.stacks):
            c_out = c * 2 if s > 0 else c
            if s > 0:
                size = (size + 1) // 2  # 'same' 2x2/2 max-pool
            for i in range(self.cells_per_stack):
                plan.append((c if i == 0 else c_out, c_out, size))
            c = c_out
        return plan


def params_flops(cell: Cell, macro: Macro = Macro()) -> tuple[int, int]:
    """Exact #parameters and #FLOPs (per image) of the NB101 network of `cell`, analytic.

    Parameters: every trainable weight, as the benchmark counts them (`trainable_parameters`):
    convs without bias, BN scale and shift (2 per channel), the classifier's weights and bias.

    FLOPs: the convention of the FLOPs column that NB101 exports carry (it reproduces the
    kit's 500-cell sample exactly): conv multiply-accumulates k*k*Cin*Cout*H*W; 3 per output
    element of every conv-BN-ReLU unit (stem, projections, conv ops: BN's scale and shift,
    the ReLU); k*k*C*H*W for max-pools (the 3x3 op and the 2x2 down-sampling); the classifier's
    in*out. Additions, concatenations, the global pool and the classifier bias count 0.
    """
    m = cell.matrix
    n = cell.n_vertices
    r = macro.resolution

    def conv_bn_relu(k, c_in, c_out, hw):
        return k * k * c_in * c_out + 2 * c_out, k * k * c_in * c_out * hw + 3 * c_out * hw

    params, flops = conv_bn_relu(3, macro.in_channels, macro.stem_channels, r * r)
    prev_size = r
    for c_in, c_out, size in macro.cell_plan():
        hw = size * size
        if size != prev_size:  # 2x2 max-pool before the first cell of a stack
            flops += 4 * c_in * hw
            prev_size = size
        ch = vertex_channels(c_in, c_out, m)
        units = [(1, c_in, ch[v]) for v in range(1, n - 1) if m[0, v]]  # 1x1 projections of the input
        units += [({CONV3: 3, CONV1: 1}[cell.ops[v]], ch[v], ch[v]) for v in range(1, n - 1) if cell.ops[v] != POOL]
        if m[0, n - 1]:  # input -> output: a projection added to (or replacing) the concatenation
            units.append((1, c_in, c_out))
        for k, a, b in units:
            p, f = conv_bn_relu(k, a, b, hw)
            params, flops = params + p, flops + f
        flops += sum(9 * ch[v] * hw for v in range(1, n - 1) if cell.ops[v] == POOL)
    c_last = macro.cell_plan()[-1][1]
    params += c_last * macro.num_classes + macro.num_classes
    flops += c_last * macro.num_classes
    return params, flops


def op_counts(cell: Cell) -> dict[str, int]:
    return {op: sum(o == op for o in cell.ops[1:-1]) for op in OPS}


def features(cells, macro: Macro = Macro()) -> pd.DataFrame:
    """One row per cell: n_<op> (op counts), n_vertices, n_edges, depth (op vertices on the
    longest input->output path), input_to_output (direct edge), params_M, flops_M, hash."""
    rows = []
    for cell in cells:
        p, f = params_flops(cell, macro)
        counts = op_counts(cell)
        rows.append({**{f"n_{op}": counts[op] for op in OPS},
                     "n_vertices": cell.n_vertices, "n_edges": cell.n_edges, "depth": longest_path(cell),
                     "input_to_output": bool(cell.matrix[0, -1]), "params_M": p / 1e6, "flops_M": f / 1e6,
                     "hash": cell.hash})
    return pd.DataFrame(rows)
