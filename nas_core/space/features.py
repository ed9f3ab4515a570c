"""Architecture features for the bias analyses (RQ2): op counts, depth, skips, FLOPs group, and
the graph-feature baselines (op counts and trainable depth as scores of their own)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.space import nb201
from nas_core.space.complexity import dataset_macro, op_counts, params_flops


def flops_groups(flops, n_groups: int = 5) -> np.ndarray:
    """Quantile bin (0 = fewest FLOPs) of each value among the given ones (any space).

    Ties (many cells share a FLOP count) are kept in one bin: bins are cut on the sorted
    values' quantiles, then equal values take the bin of their first occurrence.
    """
    ranks = pd.Series(np.asarray(flops, dtype=float)).rank(method="min").to_numpy() - 1
    return np.minimum((ranks * n_groups // len(ranks)).astype(int), n_groups - 1)


def flops_group(arch_ops: np.ndarray, n_groups: int = 5, dataset: str = "cifar10") -> np.ndarray:
    """`flops_groups` of NB201 cells (op ids) on `dataset`'s C16/N5 network."""
    _, flops = params_flops(np.asarray(arch_ops), dataset_macro(dataset))
    return flops_groups(flops, n_groups)


def arch_features(arch_strs, dataset: str = "cifar10", n_groups: int = 5) -> pd.DataFrame:
    """One row per architecture string: n_<op>, depth, has_skip, has_conv_path, live-edge
    counts, params_M, flops_M, flops_group, kit_id."""
    kit = nb201.kit_ids_from_strings(list(arch_strs))
    table = nb201.space_table()
    ops = table.ops[kit].astype(np.int64)
    counts = op_counts(ops)
    params, flops = params_flops(ops, dataset_macro(dataset))
    frame = pd.DataFrame({f"n_{op}": counts[:, i] for i, op in enumerate(nb201.OPS)})
    live = table.live[kit]
    frame["n_live_edges"] = live.sum(1)
    frame["n_live_conv"] = (live & np.isin(ops, nb201.CONV_OPS)).sum(1)
    frame["depth"] = table.depth[kit]
    frame["has_skip"] = counts[:, nb201.SKIP] > 0
    frame["has_live_skip"] = (live & (ops == nb201.SKIP)).any(1)
    frame["has_conv_path"] = table.has_conv_path[kit]
    frame["params_M"] = params
    frame["flops_M"] = flops
    frame["flops_group"] = flops_group(ops, n_groups, dataset)
    frame["kit_id"] = kit
    return frame


# the graph-feature baselines: what several studies found the zero-shot proxies reduce to
GRAPH_FEATURES = ("n_nor_conv_3x3", "n_nor_conv_1x1", "n_skip_connect", "n_avg_pool_3x3", "n_none", "conv_depth")


def graph_features(arch_ops) -> pd.DataFrame:
    """One row per architecture ((n, 6) op ids): the number of edges carrying each op in the
    cell (`n_<op>`, dead edges included, as the benchmark's network instantiates them) and
    `conv_depth`, the number of trainable (conv) layers on the input->output path that has the
    most of them, over live edges only (`nb201.conv_depth`; -1 when no path exists). Every
    column is "higher = more": used as a score, it is a baseline proxy that only counts."""
    ops = np.atleast_2d(np.asarray(arch_ops, dtype=np.int64))
    counts = op_counts(ops)
    frame = pd.DataFrame({f"n_{op}": counts[:, i] for i, op in enumerate(nb201.OPS)})
    frame["conv_depth"] = [nb201.conv_depth(row) for row in ops.tolist()]
    return frame[list(GRAPH_FEATURES)]
