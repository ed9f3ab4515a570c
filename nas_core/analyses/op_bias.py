"""RQ2, operation level: for every pair of architectures one mutation apart (one edge's op
changed), does the mutation raise the estimate as often as it raises the ground truth?

Pairs are found arithmetically on kit ids (changing edge e from op a to op b moves the kit id
by (b - a) * 5**(5 - e)), so no Python loop over pairs. For each ordered (from_op -> to_op):
p_estimate_up = share of pairs whose estimate goes up, p_truth_up likewise, and
bias = p_estimate_up - p_truth_up. Ties count as "not up".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.space import nb201


def mutation_pairs(kit_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, from_op, to_op) positions into `kit_ids` of every ordered one-mutation pair."""
    kit_ids = np.asarray(kit_ids, dtype=np.int64)
    pos = np.full(nb201.N_ARCHS, -1)
    pos[kit_ids] = np.arange(len(kit_ids))
    ops = nb201.all_ops()[kit_ids].astype(np.int64)
    out_i, out_j, out_a, out_b = [], [], [], []
    for e in range(nb201.N_EDGES):
        step = nb201.N_OPS ** (nb201.N_EDGES - 1 - e)
        for b in range(nb201.N_OPS):
            a = ops[:, e]
            target = kit_ids + (b - a) * step
            j = pos[target]
            ok = (a != b) & (j >= 0)
            out_i.append(np.flatnonzero(ok))
            out_j.append(j[ok])
            out_a.append(a[ok])
            out_b.append(np.full(ok.sum(), b))
    return tuple(np.concatenate(v) for v in (out_i, out_j, out_a, out_b))


def mutation_bias(kit_ids, score, truth) -> pd.DataFrame:
    """Tidy: from_op, to_op, n_pairs, p_estimate_up, p_truth_up, bias."""
    score, truth = np.asarray(score, float), np.asarray(truth, float)
    i, j, a, b = mutation_pairs(kit_ids)
    est_up = score[j] > score[i]
    true_up = truth[j] > truth[i]
    frame = pd.DataFrame({"from_op": np.array(nb201.OPS)[a], "to_op": np.array(nb201.OPS)[b],
                          "est_up": est_up, "true_up": true_up})
    out = frame.groupby(["from_op", "to_op"], as_index=False).agg(
        n_pairs=("est_up", "size"), p_estimate_up=("est_up", "mean"), p_truth_up=("true_up", "mean"))
    out["bias"] = out["p_estimate_up"] - out["p_truth_up"]
    return out
