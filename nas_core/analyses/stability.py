"""RQ1/RQ2, variance: accuracy levels (ties), stability between checkpoints and across seeds."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from nas_core import criteria as C


def accuracy_levels(per_batch: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """For b = 1..n validation batches (per_batch: index, batch, os_acc, os_loss): Kendall's
    tau-b of the mean OS acc over the first b batches, the number of distinct OS acc values
    ("accuracy levels"), the share of architectures tied with another, and the mean Kendall's
    tau INSIDE the levels of >= 2 architectures between the finer OS loss (negated) and the
    ground truth -- what ranking information the ties of OS acc hide."""
    rows = []
    for b in range(1, int(per_batch["batch"].max()) + 2):
        mean = per_batch[per_batch["batch"] < b].groupby("index")[["os_acc", "os_loss"]].mean()
        acc = mean["os_acc"].round(9).to_numpy(float)
        loss = mean["os_loss"].to_numpy(float)
        t = truth.reindex(mean.index).to_numpy(float)
        levels, counts = np.unique(acc, return_counts=True)
        inside = [C.kendall_tau_b(-loss[acc == lv], t[acc == lv]) for lv in levels[counts >= 3]]
        inside = [v for v in inside if np.isfinite(v)]
        rows.append({"batches": b, "kendall_tau_b": float(C.kendall_tau_b(acc, t)), "accuracy_levels": int(len(levels)),
                     "tied_share": float(counts[counts >= 2].sum() / len(acc)),
                     "tau_within_levels": float(np.mean(inside)) if inside else np.nan})
    return pd.DataFrame(rows)


def adjacent_stability(tables: dict[int, pd.Series]) -> pd.DataFrame:
    """tables: epoch -> score Series (indexed by arch id). Kendall's tau-b and P@top10% overlap
    between each checkpoint and the previous one (the later treated as reference)."""
    epochs = sorted(tables)
    rows = []
    for prev, cur in zip(epochs[:-1], epochs[1:]):
        a, b = tables[prev], tables[cur].reindex(tables[prev].index)
        rel = C.relative_criteria(a.to_numpy(float), b.to_numpy(float), ks=(0.1,))
        top = rel[(rel["criterion"].str.contains("p_at_top")) & (rel["k"] == 0.1)]["value"]
        rows.append({"epoch": cur, "previous": prev, "kendall_tau_b": float(C.kendall_tau_b(a.to_numpy(float), b.to_numpy(float))),
                     "p_at_top_10pct": float(top.iloc[0]) if len(top) else np.nan})
    return pd.DataFrame(rows)


def seed_agreement(tables: dict[int, pd.Series]) -> float:
    """Mean pairwise Kendall's tau-b between the rankings of different supernet seeds."""
    taus = [C.kendall_tau_b(tables[a].to_numpy(float), tables[b].reindex(tables[a].index).to_numpy(float))
            for a, b in combinations(sorted(tables), 2)]
    return float(np.mean(taus)) if taus else float("nan")
