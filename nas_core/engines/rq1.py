"""RQ1, how well the estimators rank: effects against the complexity baselines, along
training and across validation batches, and the counting baselines (notebook rq1_ranking).

Plain functions over a `Study` (engines/study.py), its first argument; the study computes and
caches the scores, these functions turn them into the tables the notebook shows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def effects_vs_baseline(study, wide: pd.DataFrame) -> dict:
    """{estimator: Effect of its τ minus the best complexity baseline's τ} (paired bootstrap)."""
    base = [c for c in ("params", "flops") if c in wide.columns]
    if not base:
        return {}
    best = max(base, key=lambda c: study.tau(wide, c))
    ref = study.score_series(wide, best)
    return {c: study.effect(study.score_series(wide, c), ref) for c in wide.columns
            if c not in ("index", "params", "flops")}


def top_bottom_effects(study, wide: pd.DataFrame, k: float = 0.1) -> dict:
    from nas_core.analyses.effects import top_bottom_effect

    truth = study.truth.reindex(wide["index"]).to_numpy(float)
    return {c: top_bottom_effect(study.score_series(wide, c).to_numpy(), truth, k, n_boot=study.plan.bootstrap)
            for c in wide.columns if c != "index"}


def training_effects(study, tidy: pd.DataFrame, per_seed: pd.DataFrame | None = None) -> dict:
    """{os_acc/os_loss: Effect of the last checkpoint's τ minus the first's}; with `per_seed`
    (headline_scores) every seed must agree on the sign."""
    epochs = sorted(tidy["epoch"].unique())
    first, last = study.os_table(tidy, epochs[0]), study.os_table(tidy, epochs[-1])
    out = {}
    for col in ("os_acc", "os_loss"):
        pairs = []
        if per_seed is not None:
            for _, d in per_seed.groupby("seed"):
                pairs.append((study.score_series(study.os_table(d, epochs[-1]), col),
                              study.score_series(study.os_table(d, epochs[0]), col)))
        out[col] = study.effect(study.score_series(last, col), study.score_series(first, col), pairs)
    return out


def batch_effect(study, tidy: pd.DataFrame, per_seed: pd.DataFrame | None = None, column: str = "os_acc"):
    """τ with all validation batches minus τ with the first batch only, at the last checkpoint."""
    pairs = []
    if per_seed is not None:
        pairs = [(study.score_series(study.os_table(d), column),
                  study.score_series(study.os_table(d, batches=1), column)) for _, d in per_seed.groupby("seed")]
    return study.effect(study.score_series(study.os_table(tidy), column),
                        study.score_series(study.os_table(tidy, batches=1), column), pairs)


def batches_effect(study, tidy: pd.DataFrame) -> pd.DataFrame:
    from nas_core.analyses.stability import accuracy_levels

    epochs = sorted(tidy["epoch"].unique())
    picks = {"early": epochs[0], "middle": epochs[len(epochs) // 2], "last": epochs[-1]}
    rows = []
    for name, epoch in picks.items():
        d = tidy[tidy["epoch"] == epoch]
        levels = accuracy_levels(d[["index", "batch", "os_acc", "os_loss"]], study.truth)
        rows.append(levels.assign(checkpoint=f"{name} (epoch {int(epoch)})", epoch=int(epoch)))
    return pd.concat(rows, ignore_index=True)


def mean_os_acc(study, tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean OS acc over the evaluated architectures at every checkpoint, with its spread."""
    from nas_core.analyses.oneshot_extras import mean_os_acc_along_training

    return mean_os_acc_along_training(tidy)


def graph_baselines(study) -> pd.DataFrame:
    """Counting baselines beside the proxies: each op count and the trainable depth used as a
    score on the evaluated architectures, and a ridge model on those features fitted on a
    seeded half and judged on the other half only (`n` says which)."""
    from nas_core.analyses.graph_baseline import ridge_baseline

    idx = np.asarray(study.eval_indices)
    feats = study.bench.graph_features(study.arch_strs(idx))
    feats.index = idx
    counted = study.evaluate(feats.rename_axis("index").reset_index(), bootstrap=study.plan.bootstrap)
    ridge = ridge_baseline(feats, study.truth.reindex(idx))
    held = ridge.predictions.rename("ridge_graph_features (held-out half)").rename_axis("index").reset_index()
    fitted = study.evaluate(held, bootstrap=study.plan.bootstrap)
    return pd.concat([counted, fitted], ignore_index=True)
