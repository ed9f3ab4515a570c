"""RQ2, operation level: for every pair of architectures one mutation apart (one edge's op
changed), does the mutation raise the estimate as often as it raises the ground truth?

Pairs are found arithmetically on kit ids (changing edge e from op a to op b moves the kit id
by (b - a) * 5**(5 - e)), so no Python loop over pairs. For each ordered (from_op -> to_op):
p_estimate_up = share of pairs whose estimate goes up, p_truth_up likewise, and
bias = p_estimate_up - p_truth_up. Ties count as "not up".

A mutation whose two architectures are isomorphic (e.g. changing an edge that reaches no
output) changes nothing: such no-op pairs are excluded, and counted per cell in
`n_isomorphic_excluded` (n_pairs counts the pairs kept).
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
    """Tidy: from_op, to_op, n_pairs, n_isomorphic_excluded, p_estimate_up, p_truth_up, bias."""
    score, truth = np.asarray(score, float), np.asarray(truth, float)
    kit_ids = np.asarray(kit_ids, dtype=np.int64)
    i, j, a, b = mutation_pairs(kit_ids)
    iso = nb201.space_table().iso_key
    no_op = iso[kit_ids[i]] == iso[kit_ids[j]]
    kept = ~no_op
    # excluded pairs become NaN so that the means skip them; a cell of only no-op pairs stays (n_pairs 0)
    frame = pd.DataFrame({"from_op": np.array(nb201.OPS)[a], "to_op": np.array(nb201.OPS)[b], "kept": kept,
                          "no_op": no_op, "est_up": np.where(kept, score[j] > score[i], np.nan),
                          "true_up": np.where(kept, truth[j] > truth[i], np.nan)})
    out = frame.groupby(["from_op", "to_op"], as_index=False).agg(
        n_pairs=("kept", "sum"), n_isomorphic_excluded=("no_op", "sum"),
        p_estimate_up=("est_up", "mean"), p_truth_up=("true_up", "mean"))
    out[["n_pairs", "n_isomorphic_excluded"]] = out[["n_pairs", "n_isomorphic_excluded"]].astype(int)
    out["bias"] = out["p_estimate_up"] - out["p_truth_up"]
    out.attrs["n_isomorphic_excluded"] = int(no_op.sum())
    return out[["from_op", "to_op", "n_pairs", "n_isomorphic_excluded", "p_estimate_up", "p_truth_up", "bias"]]
