"""RQ2, architecture level: what each estimator (and the ground truth) correlates with.

Spearman correlation of every score column with architecture features: #params, #FLOPs,
live skip connections, depth (convs on the longest path), live edges, and each op count.
An estimator that follows #params far more than the truth does is a size counter.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from nas_core.space.features import arch_features

FEATURES = ("params_M", "flops_M", "n_live_skip", "depth", "n_live_edges", "n_none", "n_skip_connect",
            "n_nor_conv_1x1", "n_nor_conv_3x3", "n_avg_pool_3x3")


def preferences(wide: pd.DataFrame, truth: pd.Series, arch_strs=None, feats: pd.DataFrame | None = None,
                features=FEATURES) -> pd.DataFrame:
    """Tidy: estimator (column names, plus 'truth'), feature, spearman. `feats` (one row per
    row of `wide`, any space's features) replaces NB201's features of `arch_strs`."""
    if feats is None:
        feats = arch_features(arch_strs)
        feats["n_live_skip"] = _live_skips(arch_strs)
    features = [f for f in features if f in feats.columns]
    columns = {c: wide[c].to_numpy(float) for c in wide.columns if c != "index"}
    columns["truth"] = truth.reindex(wide["index"]).to_numpy(float)
    rows = []
    for name, values in columns.items():
        ok = np.isfinite(values)
        for f in features:
            x = feats[f].to_numpy(float)[ok]
            rho = stats.spearmanr(values[ok], x).statistic if np.ptp(x) > 0 and np.ptp(values[ok]) > 0 else np.nan
            rows.append({"estimator": name, "feature": f, "spearman": float(rho)})
    return pd.DataFrame(rows)


def _live_skips(arch_strs) -> np.ndarray:
    from nas_core.space import nb201

    kit = nb201.kit_ids_from_strings(list(arch_strs))
    table = nb201.space_table()
    return (table.live[kit] & (table.ops[kit] == nb201.SKIP)).sum(1)
