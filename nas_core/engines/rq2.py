"""RQ2, bias and variance: complexity and op bias, how much of a ranking is only size and op
counts, architecture preferences, and the one-shot supernet's variance (forgetting, gradient
similarity, stability across checkpoints and seeds) (notebook rq2_bias_variance).

Plain functions over a `Study` (engines/study.py), its first argument.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.criteria import overall
from nas_core.engines.study import TAU


def flops(study, indices) -> pd.Series:
    feats = study.bench.features(study.arch_strs(indices))
    return pd.Series(feats["flops_M"].to_numpy(), index=np.asarray(indices))


def complexity_bias(study, wide: pd.DataFrame) -> pd.DataFrame:
    from nas_core.analyses.complexity_bias import group_bias

    size = flops(study, wide["index"])
    frames = []
    for est in [c for c in wide.columns if c != "index"]:
        score = study.score_series(wide, est)
        frames.append(group_bias(score, study.truth.reindex(wide["index"]), size).assign(estimator=est))
    return pd.concat(frames, ignore_index=True)


def complexity_bias_along_training(study, tidy: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for epoch in sorted(tidy["epoch"].unique()):
        w = study.os_table(tidy, epoch)[["index", "os_acc"]]
        frames.append(complexity_bias(study, w).assign(epoch=int(epoch)))
    return pd.concat(frames, ignore_index=True)


def complexity_slopes(study, wide: pd.DataFrame) -> dict:
    """{estimator: Effect of the ranking-difference slope per FLOPs group} (bootstrap over archs)."""
    from nas_core.analyses.complexity_bias import flops_groups
    from nas_core.analyses.effects import slope_effect

    groups = flops_groups(flops(study, wide["index"]).to_numpy(float))  # the groups of complexity_bias
    truth = study.truth.reindex(wide["index"]).to_numpy(float)
    n_boot = min(study.plan.bootstrap, 300)
    return {c: slope_effect(study.score_series(wide, c).to_numpy(), truth, groups, n_boot=n_boot)
            for c in wide.columns if c != "index"}


def op_bias(study, wide: pd.DataFrame, estimators) -> pd.DataFrame:
    """One-mutation pairs (the benchmark's rule: NB201 pairs over isomorphism classes, every
    member of a scored class carrying the class's score and truth); no-op pairs (two
    isomorphic architectures) are excluded and counted (n_isomorphic_excluded)."""
    from nas_core.analyses.op_bias import pair_bias

    pairs = study.bench.mutation_pairs(study.arch_strs(wide["index"]))
    truth = study.truth.reindex(wide["index"]).to_numpy()
    frames = [pair_bias(pairs, wide[est].to_numpy(), truth).assign(estimator=est)
              for est in estimators if est in wide.columns]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def partial_rank(study, wide: pd.DataFrame) -> pd.DataFrame:
    """How much of each estimator's ranking is only size and op counts: Spearman ρ with the
    truth, and the partial ρ given #params and the op counts (bootstrap interval over
    architectures; analyses/partial_rank.py)."""
    from nas_core.analyses.partial_rank import partial_rank_table

    strs = study.arch_strs(wide["index"])
    counts = study.bench.graph_features(strs)
    counts = counts[[c for c in counts.columns if "depth" not in c]]
    ops = [op for op in study.bench.op_names if any(c.endswith("_" + op) for c in counts.columns)]
    if ops:  # per-cell counts (NB301: normal_/reduce_) summed: the architecture's count of each op
        counts = pd.DataFrame({op: counts[[c for c in counts.columns if c.endswith("_" + op)]].sum(1)
                               for op in ops})
    covariates = pd.concat([pd.Series(study.bench.params_flops(strs)[0], name="params_M"), counts], axis=1)
    scores = wide.drop(columns="index").reset_index(drop=True)
    truth = study.truth.reindex(wide["index"]).to_numpy()
    if len(wide) < covariates.shape[1] + 5:  # too few architectures to regress the counts out
        frame = pd.DataFrame(columns=["proxy", "spearman", "partial", "ci_low", "ci_high", "r2_covariates", "n"])
        frame.attrs["note"] = (f"{len(wide)} architectures are too few to regress out {covariates.shape[1]} "
                               "covariates (#params and op counts); a larger profile computes it")
        return frame
    return partial_rank_table(scores, truth, covariates, n_boot=study.plan.bootstrap)


def arch_preferences(study, wide: pd.DataFrame) -> pd.DataFrame:
    from nas_core.analyses.arch_preferences import preferences

    strs = study.arch_strs(wide["index"])
    if study.bench.nb201_cell_space:  # NB201's cell space: its own feature list (live skips, depth, ...)
        return preferences(wide, study.truth, strs)
    feats = study.bench.features(strs)
    numeric = [c for c in feats.columns if c != "flops_group" and pd.api.types.is_numeric_dtype(feats[c])]
    return preferences(wide, study.truth, feats=feats, features=numeric)


def diagnostics(study, sampler: str | None = None, seed: int = 0) -> dict:
    sampler = sampler or study.headline_sampler
    from nas_core.engines.supernet_diagnostics import forgetting_values, gradient_similarity

    run = study.os_run(sampler, seed)
    return {"forgetting": forgetting_values(run, n_archs=study.plan.diag_archs, device=study.device),
            "gradient_similarity": gradient_similarity(run, n_archs=study.plan.diag_archs, device=study.device)}


def stability(study, sampler: str | None = None) -> dict:
    sampler = sampler or study.headline_sampler
    from nas_core.analyses.stability import adjacent_stability, seed_agreement

    per_seed, adjacent, last_tables = [], [], {}
    for seed in study.plan.supernet_seeds:
        tidy = study.os_scores(sampler, seed)
        crit = study.criteria_along_training(tidy, extra={"seed": seed})
        per_seed.append(overall(crit).query("estimator == 'os_acc'"))
        tables = {int(e): study.os_table(tidy, e).set_index("index")["os_acc"] for e in sorted(tidy["epoch"].unique())}
        adjacent.append(adjacent_stability(tables).assign(seed=seed))
        last_tables[seed] = tables[max(tables)]
    seeds = pd.concat(per_seed, ignore_index=True).rename(columns={"value": TAU})
    last = seeds[seeds["epoch"] == seeds["epoch"].max()][TAU]
    return {"adjacent": pd.concat(adjacent, ignore_index=True), "seeds": seeds,
            "seed_summary": pd.DataFrame({"mean": [last.mean()], "std": [last.std(ddof=0)], "min": [last.min()],
                                          "max": [last.max()], "n": [len(last)]}),
            "between_seeds": seed_agreement(last_tables)}


def stability_topk(study, sampler: str | None = None) -> pd.DataFrame:
    """Relative tau and relative P@top / P@bottom (0.5 %, 5 %) of OS acc between adjacent
    checkpoints, per supernet seed (the later checkpoint treated as the truth)."""
    sampler = sampler or study.headline_sampler
    from nas_core.analyses.oneshot_extras import adjacent_topk_stability

    frames = []
    for seed in study.plan.supernet_seeds:
        tidy = study.os_scores(sampler, seed)
        tables = {int(e): study.os_table(tidy, e).set_index("index")["os_acc"] for e in sorted(tidy["epoch"].unique())}
        frames.append(adjacent_topk_stability(tables).assign(seed=seed))
    return pd.concat(frames, ignore_index=True)
