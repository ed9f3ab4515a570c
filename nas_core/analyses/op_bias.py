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
from nas_core.space.nb201 import mutation_pairs  # noqa: F401 - re-exported (RQ5 search, tests)


def mutation_bias(kit_ids, score, truth) -> pd.DataFrame:
    """NB201 cells: tidy from_op, to_op, n_pairs, n_isomorphic_excluded, p_estimate_up,
    p_truth_up, bias over every one-mutation pair among `kit_ids`."""
    kit_ids = np.asarray(kit_ids, dtype=np.int64)
    i, j, a, b = mutation_pairs(kit_ids)
    iso = nb201.space_table().iso_key
    pairs = pd.DataFrame({"i": i, "j": j, "from_op": np.array(nb201.OPS)[a], "to_op": np.array(nb201.OPS)[b],
                          "no_op": iso[kit_ids[i]] == iso[kit_ids[j]]})
    return pair_bias(pairs, score, truth)


def pair_bias(pairs: pd.DataFrame, score, truth) -> pd.DataFrame:
    """Any space: `pairs` has positions i, j into score/truth, from_op, to_op and no_op (the two
    architectures compute the same function); the same tidy table as `mutation_bias`."""
    score, truth = np.asarray(score, float), np.asarray(truth, float)
    i, j = pairs["i"].to_numpy(dtype=np.int64), pairs["j"].to_numpy(dtype=np.int64)
    no_op = pairs["no_op"].to_numpy(bool)
    kept = ~no_op
    # excluded pairs become NaN so that the means skip them; a cell of only no-op pairs stays (n_pairs 0)
    frame = pd.DataFrame({"from_op": pairs["from_op"].to_numpy(), "to_op": pairs["to_op"].to_numpy(), "kept": kept,
                          "no_op": no_op, "est_up": np.where(kept, score[j] > score[i], np.nan),
                          "true_up": np.where(kept, truth[j] > truth[i], np.nan)})
    out = frame.groupby(["from_op", "to_op"], as_index=False).agg(
        n_pairs=("kept", "sum"), n_isomorphic_excluded=("no_op", "sum"),
        p_estimate_up=("est_up", "mean"), p_truth_up=("true_up", "mean"))
    out[["n_pairs", "n_isomorphic_excluded"]] = out[["n_pairs", "n_isomorphic_excluded"]].astype(int)
    out["bias"] = out["p_estimate_up"] - out["p_truth_up"]
    out.attrs["n_isomorphic_excluded"] = int(no_op.sum())
    return out[["from_op", "to_op", "n_pairs", "n_isomorphic_excluded", "p_estimate_up", "p_truth_up", "bias"]]
