"""The NAS-Bench-201 cell search space (Dong & Yang, ICLR 2020).

A cell is a DAG on 4 nodes with 6 edges, each carrying one of 5 ops; 5**6 = 15,625 cells.
An architecture is held as a tuple of 6 op ids in EDGE order (see `EDGES`), which is also the
order of the official string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.

The kit's own enumeration ("kit id") is the base-5 number of that tuple, first edge most
significant. The official API index is a different, benchmark-defined order: it comes from
the ground-truth files (`nas_core.data.groundtruth`), never from here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nas_core.errors import BadParameter

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OP_ID = {op: i for i, op in enumerate(OPS)}
NONE, SKIP, CONV1, CONV3, POOL = range(5)
CONV_OPS = (CONV1, CONV3)
# (to_node, from_node) of each edge, in the official string order.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_EDGES = len(EDGES)
N_OPS = len(OPS)
N_ARCHS = N_OPS ** N_EDGES  # 15,625
N_ISO_CLASSES = 6466  # NAS-Bench-201's count with to_unique_str(consider_zero=True)

_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")


def parse(arch_str: str) -> tuple[int, ...]:
    """Official string -> tuple of 6 op ids. Raises BadParameter naming the bad token."""
    if not isinstance(arch_str, str):
        raise BadParameter(f"an architecture string was expected, got {type(arch_str).__name__}")
    nodes = arch_str.strip().split("+")
    example = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    if len(nodes) != 3:
        raise BadParameter(
            f"malformed NAS-Bench-201 architecture {arch_str!r}: expected 3 node groups joined by '+', "
            f"got {len(nodes)}", fix=f"use the official format, e.g. {example}")
    ops: list[int] = []
    for to_node, group in enumerate(nodes, start=1):
        if not (group.startswith("|") and group.endswith("|")):
            raise BadParameter(f"malformed NAS-Bench-201 architecture {arch_str!r}: node group {group!r} "
                               "must start and end with '|'", fix=f"e.g. {example}")
        tokens = group[1:-1].split("|")
        if len(tokens) != to_node:
            raise BadParameter(f"malformed NAS-Bench-201 architecture {arch_str!r}: node {to_node} needs "
                               f"{to_node} incoming edges, got {len(tokens)}", fix=f"e.g. {example}")
        for from_node, token in enumerate(tokens):
            m = _TOKEN.match(token)
            if not m or m.group(1) not in OP_ID or int(m.group(2)) != from_node:
                raise BadParameter(
                    f"bad token {token!r} in architecture {arch_str!r}: expected '<op>~{from_node}'",
                    fix=f"valid ops are {', '.join(OPS)}")
            ops.append(OP_ID[m.group(1)])
    return tuple(ops)


def format_arch(ops) -> str:
    """Tuple of 6 op ids (or names) -> official string."""
    ids = [OP_ID[o] if isinstance(o, str) else int(o) for o in ops]
    if len(ids) != N_EDGES or any(not 0 <= i < N_OPS for i in ids):
        raise BadParameter(f"an architecture needs {N_EDGES} op ids in 0..{N_OPS - 1}, got {list(ops)}")
    groups, k = [], 0
    for to_node in (1, 2, 3):
        groups.append("|" + "|".join(f"{OPS[ids[k + j]]}~{j}" for j in range(to_node)) + "|")
        k += to_node
    return "+".join(groups)


def to_kit_id(ops) -> int:
    kid = 0
    for o in ops:
        kid = kid * N_OPS + int(o)
    return kid


def from_kit_id(kid: int) -> tuple[int, ...]:
    if not 0 <= kid < N_ARCHS:
        raise BadParameter(f"kit architecture id must be in 0..{N_ARCHS - 1}, got {kid}")
    ops = []
    for _ in range(N_EDGES):
        ops.append(kid % N_OPS)
        kid //= N_OPS
    return tuple(reversed(ops))


@lru_cache(maxsize=1)
def all_ops() -> np.ndarray:
    """(15625, 6) int8 array; row r is the architecture with kit id r."""
    grid = np.indices((N_OPS,) * N_EDGES).reshape(N_EDGES, -1).T
    grid.setflags(write=False)
    return grid.astype(np.int8)


def canonical_string(ops) -> str:
    """NAS-Bench-201's `to_unique_str(consider_zero=True)`: equal strings = same function.

    Node strings: input is '0'; an edge with `none`, or from a node whose string is exactly
    '#', gives '#'; `skip_connect` forwards its source's string; other ops give '(src)@op';
    a node is the sorted '+'-join of ALL its inputs, '#' terms included. Keeping the '#'
    terms (rather than dropping them) is what yields the benchmark's 6,466 classes;
    collapsing further gives a different count.
    """
    node = {0: "0"}
    for to_node in (1, 2, 3):
        inputs = []
        for e, (t, f) in enumerate(EDGES):
            if t != to_node:
                continue
            op = ops[e]
            if op == NONE or node[f] == "#":
                inputs.append("#")
            else:
                inputs.append(node[f] if op == SKIP else f"({node[f]})@{OPS[op]}")
        node[to_node] = "+".join(sorted(inputs))
    return node[3]


def live_edges(ops) -> tuple[bool, ...]:
    """Edges on some input->output path made of non-`none` edges (the edges that matter)."""
    reach_fwd = {0}
    for t in (1, 2, 3):
        if any(ops[e] != NONE and f in reach_fwd for e, (tt, f) in enumerate(EDGES) if tt == t):
            reach_fwd.add(t)
    reach_bwd = {3}
    for f in (2, 1, 0):
        if any(ops[e] != NONE and t in reach_bwd for e, (t, ff) in enumerate(EDGES) if ff == f):
            reach_bwd.add(f)
    return tuple(ops[e] != NONE and f in reach_fwd and t in reach_bwd for e, (t, f) in enumerate(EDGES))


def conv_depth(ops) -> int:
    """Largest number of convs on one live input->output path (-1 if no path at all)."""
    best = {0: 0}
    for t in (1, 2, 3):
        cands = [best[f] + (ops[e] in CONV_OPS) for e, (tt, f) in enumerate(EDGES)
                 if tt == t and ops[e] != NONE and f in best]
        if cands:
            best[t] = max(cands)
    return best.get(3, -1)


def has_conv_path(ops) -> bool:
    """True if some conv lies on a live input->output path (STUDY: reject archs without)."""
    live = live_edges(ops)
    return any(live[e] and ops[e] in CONV_OPS for e in range(N_EDGES))


def neighbours(ops) -> list[tuple[int, ...]]:
    """All architectures one mutation away (one edge's op changed): 6 x 4 = 24."""
    out = []
    for e in range(N_EDGES):
        for op in range(N_OPS):
            if op != ops[e]:
                out.append(tuple(ops[:e]) + (op,) + tuple(ops[e + 1:]))
    return out


@dataclass(frozen=True)
class SpaceTable:
    """Per-architecture facts of the whole space, in kit-id order, as numpy arrays."""
    ops: np.ndarray            # (15625, 6) op ids
    canonical: np.ndarray      # (15625,) canonical strings (object)
    iso_key: np.ndarray        # (15625,) int: class id by first appearance in kit-id order
    has_conv_path: np.ndarray  # (15625,) bool
    depth: np.ndarray          # (15625,) int: convs on the longest live path
    live: np.ndarray           # (15625, 6) bool: edges on a live input->output path


SPACE_TABLE_VERSION = 1  # bump when a rule above changes: invalidates the on-disk copy


@lru_cache(maxsize=1)
def space_table() -> SpaceTable:
    """Computed once per machine (about 0.3 s) and kept in the cache as an npz."""
    import io
    import zipfile

    from nas_core.cache import CorruptFile, quarantine, read_checked, write_checked
    from nas_core.config import cache_dir

    path = cache_dir() / "space" / f"nb201_table_v{SPACE_TABLE_VERSION}.npz"
    ops = all_ops()
    if path.is_file():
        try:
            with np.load(io.BytesIO(read_checked(path)), allow_pickle=False) as z:
                return SpaceTable(ops, z["canonical"].astype(object), z["iso_key"], z["has_conv_path"],
                                  z["depth"], z["live"])
        except CorruptFile as exc:
            quarantine(path, exc.reason)
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            quarantine(path, f"unreadable npz: {type(exc).__name__}")
    rows = ops.tolist()
    canon = np.array([canonical_string(row) for row in rows], dtype=object)
    _, first, inverse = np.unique(canon, return_index=True, return_inverse=True)
    # renumber classes by first appearance so ids are stable and readable
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    iso = rank[inverse]
    live = np.array([live_edges(row) for row in rows])
    conv = (live & np.isin(ops, CONV_OPS)).any(1)
    depth = np.array([conv_depth(row) for row in rows])
    table = SpaceTable(ops, canon, iso, conv, depth, live)
    buf = io.BytesIO()
    np.savez(buf, canonical=canon.astype(str), iso_key=iso, has_conv_path=conv, depth=depth, live=live)
    write_checked(path, buf.getvalue())
    return table


@lru_cache(maxsize=1)
def _string_to_kit_id() -> dict:
    return {format_arch(row): kid for kid, row in enumerate(all_ops().tolist())}


def kit_ids_from_strings(arch_strs) -> np.ndarray:
    """Fast vectorised parse of official strings to kit ids (dictionary lookup); a string
    that is not found is parsed properly so the user gets `parse`'s clear error."""
    lookup = _string_to_kit_id()
    out = np.empty(len(arch_strs), dtype=np.int64)
    for i, s in enumerate(arch_strs):
        kid = lookup.get(s)
        if kid is None:
            kid = to_kit_id(parse(s))
        out[i] = kid
    return out


def ops_from_strings(arch_strs) -> np.ndarray:
    """(n, 6) op ids for official strings."""
    return all_ops()[kit_ids_from_strings(arch_strs)]


def iso_classes_for(arch_ops: np.ndarray) -> np.ndarray:
    """Isomorphism class ids for rows of op ids, numbered by first appearance in the given order."""
    table = space_table()
    kit_ids = kit_ids_of(arch_ops)
    keys = table.iso_key[kit_ids]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse]


def class_representatives(kit_ids, official_index=None) -> np.ndarray:
    """The one de-isomorphic representative rule of the kit, used for sampling AND evaluation:
    per isomorphism class, the member with the LOWEST OFFICIAL benchmark index.

    `kit_ids` are the architectures of a benchmark table (any subset of the space) and
    `official_index` their official indices (default: the row position, i.e. rows given in
    official order). Returns a boolean mask over the rows: True for each class's representative.
    """
    kit_ids = np.asarray(kit_ids, dtype=np.int64)
    official = np.arange(len(kit_ids)) if official_index is None else np.asarray(official_index)
    if len(official) != len(kit_ids):
        raise BadParameter("class_representatives: kit_ids and official_index differ in length")
    keys = space_table().iso_key[kit_ids]
    order = np.lexsort((official, keys))  # by class, then by official index
    first = np.ones(len(order), dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    mask = np.zeros(len(kit_ids), dtype=bool)
    mask[order[first]] = True
    return mask


def representative_kit_ids(official_order=None) -> np.ndarray:
    """Kit ids (sorted) of the class representatives of the whole space. `official_order[i]` is the
    kit id of official index i (the benchmark table's row order); None means the official index IS
    the kit id (the kit's mini benchmark)."""
    order = np.arange(N_ARCHS) if official_order is None else np.asarray(official_order, dtype=np.int64)
    if len(order) != N_ARCHS or len(np.unique(order)) != N_ARCHS:
        raise BadParameter(f"the official order must list each of the {N_ARCHS} kit ids once")
    return np.sort(order[class_representatives(order)])


def kit_ids_of(arch_ops: np.ndarray) -> np.ndarray:
    """Vectorised `to_kit_id` for an (n, 6) array."""
    arch_ops = np.asarray(arch_ops, dtype=np.int64)
    weights = N_OPS ** np.arange(N_EDGES - 1, -1, -1)
    return arch_ops @ weights


def mutation_pairs(kit_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, from_op, to_op) positions into `kit_ids` of every ordered one-mutation pair."""
    kit_ids = np.asarray(kit_ids, dtype=np.int64)
    pos = np.full(N_ARCHS, -1)
    pos[kit_ids] = np.arange(len(kit_ids))
    ops = all_ops()[kit_ids].astype(np.int64)
    out_i, out_j, out_a, out_b = [], [], [], []
    for e in range(N_EDGES):
        step = N_OPS ** (N_EDGES - 1 - e)
        for b in range(N_OPS):
            a = ops[:, e]
            target = kit_ids + (b - a) * step
            j = pos[target]
            ok = (a != b) & (j >= 0)
            out_i.append(np.flatnonzero(ok))
            out_j.append(j[ok])
            out_a.append(a[ok])
            out_b.append(np.full(ok.sum(), b))
    return tuple(np.concatenate(v) for v in (out_i, out_j, out_a, out_b))
