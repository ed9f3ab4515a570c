"""vote (Abdelfattah et al. 2021): pairwise majority of expert proxies (NB201: jacob_cov, snip,
synflow). To rank, each architecture's Copeland score = (pairwise wins - losses) / (M - 1):
a wins against b when a majority of experts score a above b. NaN expert scores never win."""
from __future__ import annotations

import numpy as np
import pandas as pd


def vote_scores(experts: pd.DataFrame, chunk: int = 2048) -> np.ndarray:
    values = experts.to_numpy(dtype=np.float64)
    values = np.where(np.isfinite(values), values, -np.inf)
    m, k = values.shape
    need = k // 2 + 1
    score = np.zeros(m)
    for start in range(0, m, chunk):  # rows in chunks: memory O(chunk * M) instead of O(M^2)
        block = values[start:start + chunk]
        above = (block[:, None, :] > values[None, :, :]).sum(-1)
        below = (block[:, None, :] < values[None, :, :]).sum(-1)
        score[start:start + chunk] = (above >= need).sum(1) - (below >= need).sum(1)
    return score / max(m - 1, 1)
