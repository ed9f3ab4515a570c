"""RQ5, guidelines: searches driven by each estimator, views of the ground truth, and the
evidence table behind every number the guidelines quote (notebook rq5_guidelines).

Plain functions over a `Study` (engines/study.py), its first argument; `collect_evidence`
reads the other research questions' functions (rq1, rq2, rq4).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.criteria import overall
from nas_core.engines import rq1, rq2, rq4


def final_estimators(study) -> pd.DataFrame:
    """Last checkpoint of the headline OS estimator (seed mean) beside every ZSE."""
    os_w = study.os_table(study.headline_tidy())
    return study.join(os_w, study.zs_table(study.zs_scores()))


def searches(study) -> pd.DataFrame:
    from nas_core.analyses.search import run_searches

    wide = final_estimators(study)
    wide["os_loss"] = -wide["os_loss"]  # searches maximise; the loss is negated explicitly
    wide["truth"] = study.truth.reindex(wide["index"]).to_numpy()
    return run_searches(wide, study.arch_strs(wide["index"]), truth_column="truth",
                        budgets=study.plan.search_budgets, n_seeds=study.plan.search_seeds,
                        neighbours=search_neighbours(study, wide))


def search_trajectories(study, budget: int | None = None) -> pd.DataFrame:
    """Best-so-far curves (true accuracy of the incumbent vs queries) of the same searches,
    at the largest budget of the plan (capped at the sample size)."""
    from nas_core.analyses.search import search_trajectories as trajectories

    wide = final_estimators(study)
    wide["os_loss"] = -wide["os_loss"]
    wide["truth"] = study.truth.reindex(wide["index"]).to_numpy()
    budget = min(budget or max(study.plan.search_budgets), len(wide))
    return trajectories(wide, study.arch_strs(wide["index"]), truth_column="truth", budget=budget,
                        n_seeds=study.plan.search_seeds, neighbours=search_neighbours(study, wide))


def search_neighbours(study, wide: pd.DataFrame):
    """REA's mutation neighbours among the candidates: None = NB201's rule (one edge's op,
    among the listed cells); other spaces use their benchmark's one-op pairs."""
    if study.bench.nb201_cell_space:
        return None
    from nas_core.analyses.search import neighbour_lists

    pairs = study.bench.mutation_pairs(study.arch_strs(wide["index"]))
    return neighbour_lists(pairs["i"].to_numpy(), pairs["j"].to_numpy(), len(wide))


def search_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread of the incumbents' true accuracy per (estimator, method, budget) of
    `searches(study)`'s runs."""
    return (runs.groupby(["estimator", "method", "budget"], as_index=False)
            .agg(true_acc_mean=("true_acc", "mean"), true_acc_std=("true_acc", "std"),
                 regret_mean=("regret", "mean"), n=("seed", "count")))


def groundtruth_views(study) -> dict:
    from nas_core.analyses import groundtruth_views as views

    return views.views_for(study.truth_frame, study.benchmark, study.eval_indices, study.truth_column)


def collect_evidence(study) -> pd.DataFrame:
    """The numbers the guidelines quote, recomputed from the cached results: one row per item
    with value, 95 % interval (low, high; see docs/statistics.md for what it resamples), n,
    and `evidence` naming the estimator, checkpoint, architectures and seeds behind it."""
    per_seed = study.headline_scores()
    tidy = study.headline_tidy(per_seed)
    verdict = study.oneshot_verdict(per_seed)
    last = int(tidy["epoch"].max())
    seeds = f"{verdict['n_seeds']} supernet seed(s)"
    wide = final_estimators(study)
    n = len(wide)
    crit = study.evaluate(wide, bootstrap=study.plan.bootstrap)
    taus = overall(crit).set_index("estimator")
    zse = taus.drop([c for c in ("os_acc", "os_loss", "params", "flops") if c in taus.index])
    best_zse = zse["value"].idxmax() if len(zse) else None
    rows = []

    def add(item, value, low, high, n_items, evidence, withheld=""):
        rows.append({"item": item, "value": float(value), "low": float(low), "high": float(high),
                     "n": int(n_items), "evidence": evidence, "withheld": withheld})

    os_withheld = "" if verdict["informative"] else verdict["reason"]
    sampler_words = "de-isomorphic" if study.headline_sampler == "deiso" else "uniformly sampled"
    if "os_acc" in taus.index:
        r = taus.loc["os_acc"]
        add("os_tau_final", r["value"], r.get("ci_low", np.nan), r.get("ci_high", np.nan), n,
            f"OS acc of the {sampler_words} supernet, seed mean, epoch {last}, {n} archs, {seeds}", os_withheld)
    if best_zse is not None:
        r = taus.loc[best_zse]
        add("best_zse_tau", r["value"], r.get("ci_low", np.nan), r.get("ci_high", np.nan), n,
            f"{best_zse} (highest τ among the zero-shot proxies), {n} archs")
    vs_base = rq1.effects_vs_baseline(study, wide)
    if best_zse is not None and best_zse in vs_base:
        e = vs_base[best_zse]
        add("best_zse_minus_baseline", e.delta, e.low, e.high, e.n,
            f"τ of {best_zse} minus the best of #params/#FLOPs, paired bootstrap over {e.n} archs")
    if "os_acc" in vs_base:
        e = vs_base["os_acc"]
        add("os_minus_baseline", e.delta, e.low, e.high, e.n,
            f"τ of OS acc (epoch {last}) minus the best of #params/#FLOPs, paired bootstrap over {e.n} archs",
            os_withheld)
    for base in ("flops", "params"):
        if base in taus.index:
            r = taus.loc[base]
            add(f"{base}_tau", r["value"], r.get("ci_low", np.nan), r.get("ci_high", np.nan), n,
                f"#{'FLOPs' if base == 'flops' else 'params'} of the benchmark's network, {n} archs")
    beating = [c for c, e in vs_base.items() if c in zse.index and e.direction > 0]
    add("n_zse_beating_baseline", len(beating), np.nan, np.nan, n,
        f"proxies whose paired interval vs the best complexity baseline excludes 0: {', '.join(beating) or 'none'}")
    seed = study.plan.supernet_seeds[0]
    if "deiso" in study.plan.rq3_samplers:  # the RQ3 comparison: same seed, iso baseline
        iso = study.os_table(study.os_scores("iso", seed))
        deiso = study.os_table(study.os_scores("deiso", seed))
        e = study.effect(study.score_series(deiso, "os_acc"), study.score_series(iso, "os_acc"))
        add("deiso_gain", e.delta, e.low, e.high, e.n,
            f"τ of OS acc, de-isomorphic minus iso sampling, seed {seed}, epoch {last}, paired over {e.n} archs",
            os_withheld)
    e = rq1.batch_effect(study, tidy, per_seed)
    add("batches_gain", e.delta, e.low, e.high, e.n,
        f"τ of OS acc with all validation batches minus one batch, epoch {last}, {e.n} archs, {seeds} "
        f"(seed differences {', '.join(f'{d:+.3f}' for d in e.seed_deltas)})",
        os_withheld or ("the seeds disagree on the sign" if e.seed_deltas and np.isfinite(e.low)
                        and (e.low > 0 or e.high < 0) and e.direction == 0 else ""))
    gaps = rq4.input_mode_effects(study)
    if gaps:
        detect = [c for c, e in gaps.items() if e.direction != 0]
        mean_gap = float(np.mean([abs(e.delta) for e in gaps.values()]))
        add("noise_gap", mean_gap, np.nan, np.nan, len(study.rq4_indices),
            f"mean |τ(real images) − τ(noise)| over {len(gaps)} proxies on {len(study.rq4_indices)} archs; "
            f"detectable for: {', '.join(detect) or 'none'}")
    os_w = study.os_table(tidy)[["index", "os_acc"]]
    e = rq2.complexity_slopes(study, os_w)["os_acc"]
    add("complexity_slope", e.delta, e.low, e.high, e.n,
        f"slope of the OS acc ranking difference per FLOPs quintile, epoch {last}, {e.n} archs", os_withheld)
    frame = pd.DataFrame(rows)
    frame.attrs["best_zse"] = best_zse
    frame.attrs["oneshot_verdict"] = verdict["text"]
    return frame
