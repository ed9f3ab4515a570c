"""RQ2, complexity level: does an estimator over- or under-rate architectures by size?

Architectures are split into FLOPs quantile groups (0 = smallest). Ranking difference
RD = true rank - estimated rank (rank 1 = best, over ALL architectures, as a fraction of M):
RD > 0 means the estimator ranks the architecture better than it is (over-estimation).
Per group we report the mean RD and Kendall's tau inside the group.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core import criteria as C
from nas_core.space.features import flops_groups  # one quantile rule for sampling and for the bias table


def group_bias(score: pd.Series, truth: pd.Series, flops: pd.Series, n_groups: int = 5) -> pd.DataFrame:
    """score, truth, flops: Series indexed by architecture id (same ids). Returns
    group, n, flops_min, flops_max, mean_rd, tau."""
    ids = score.index
    s, t, f = score.to_numpy(float), truth.reindex(ids).to_numpy(float), flops.reindex(ids).to_numpy(float)
    rd = C.ranking_difference(s, t, fraction=True)
    groups = flops_groups(f, n_groups)
    rows = []
    for g in range(n_groups):
        m = groups == g
        if not m.any():
            continue
        tau = C.kendall_tau_b(s[m], t[m]) if m.sum() > 1 else np.nan
        rows.append({"group": g, "n": int(m.sum()), "flops_min": f[m].min(), "flops_max": f[m].max(),
                     "mean_rd": float(rd[m].mean()), "tau": float(tau)})
    return pd.DataFrame(rows)
