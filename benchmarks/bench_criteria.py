"""Timing of the ranking criteria (prints figures; asserts nothing).

    .venv/bin/python benchmarks/bench_criteria.py [--archs 15625] [--estimators 20] [--resamples 1000]

1. evaluate(): M archs x E random estimators, all criteria, all K, no bootstrap; beside it a
   naive reference in the same run (scipy per criterion and per K, Python sets for P@K,
   rankdata per K for BR/WR) and the ratio.
2. Bootstrap intervals with R resamples for one estimator and for all E; beside it the naive
   per-resample loop (compute_all on each written-out resample), timed on a few resamples and
   extrapolated to R.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from scipy import stats

from nas_core import criteria as C
from nas_core.engines.evaluate import evaluate


def naive_all(pred: np.ndarray, true: np.ndarray) -> list[float]:
    """The same criteria, computed the obvious way (no shared sorts, a loop per K)."""
    m = pred.size
    out = [stats.pearsonr(pred, true).statistic, stats.kendalltau(pred, true).statistic,
           stats.spearmanr(pred, true).statistic, stats.kendalltau(pred, np.round(true)).statistic]
    for k in C.DEFAULT_P_KS:
        n = int(k * m)
        if n < 1:
            continue
        top_p, top_t = np.argsort(-pred, kind="stable")[:n], np.argsort(-true, kind="stable")[:n]
        out.append(len(set(top_p.tolist()) & set(top_t.tolist())) / n)
        bot_p, bot_t = np.argsort(-pred, kind="stable")[-n:], np.argsort(-true, kind="stable")[-n:]
        out.append(len(set(bot_p.tolist()) & set(bot_t.tolist())) / n)
        if n >= 2:
            out.append(stats.kendalltau(pred[top_p], true[top_p]).statistic)
            out.append(stats.kendalltau(pred[bot_p], true[bot_p]).statistic)
    for k in C.DEFAULT_BR_KS:
        n = int(k * m)
        if n < 1:
            continue
        ranks = stats.rankdata(-true)[np.argsort(-pred, kind="stable")[:n]]
        out += [ranks.min() / m, ranks.max() / m]
    return out


def timed(fn, repeat: int = 1) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", type=int, default=15625)
    ap.add_argument("--estimators", type=int, default=20)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--naive-resamples", type=int, default=10, help="resamples timed for the naive bootstrap")
    ap.add_argument("--skip-all-bootstrap", action="store_true", help="skip the bootstrap of all estimators")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    m, e = args.archs, args.estimators
    truth = pd.Series(rng.uniform(10, 94, m).round(2), index=np.arange(m))
    scores = pd.DataFrame({"index": np.arange(m),
                           **{f"est{i}": truth.to_numpy() + rng.normal(0, 5 + 5 * i, m) for i in range(e)}})
    print(f"CPU cores: {os.cpu_count()}; {m} archs x {e} estimators; numpy {np.__version__}")

    t_eval = timed(lambda: evaluate(scores, truth), repeat=3)
    preds = [scores[c].to_numpy() for c in scores.columns[1:]]
    t_naive = timed(lambda: [naive_all(p, truth.to_numpy()) for p in preds])
    rows = len(evaluate(scores, truth))
    print(f"evaluate, all criteria and K, no bootstrap: {t_eval:.3f} s ({rows} rows)")
    print(f"naive reference (scipy per criterion and per K): {t_naive:.3f} s  -> ratio {t_naive / t_eval:.1f}x")

    pred, true = preds[0], truth.to_numpy()
    r = args.resamples
    t_one = timed(lambda: C.bootstrap_ci(pred, true, n_boot=r))
    print(f"bootstrap, {r} resamples, 1 estimator, all criteria: {t_one:.2f} s")
    t_tau = timed(lambda: C.bootstrap_ci(pred, true, n_boot=r, criteria=["kendall_tau_b", "spearman"]))
    print(f"bootstrap, {r} resamples, 1 estimator, tau-b + Spearman only: {t_tau:.2f} s")
    small = rng.choice(m, size=min(1000, m), replace=False)
    t_small = timed(lambda: C.bootstrap_ci(pred[small], true[small], n_boot=r))
    print(f"bootstrap, {r} resamples, 1 estimator, {small.size} archs, all criteria: {t_small:.2f} s")

    k = args.naive_resamples
    draws = rng.integers(0, m, size=(k, m))
    t_loop = timed(lambda: [C.compute_all(pred[np.sort(d)], true[np.sort(d)]) for d in draws]) / k * r
    print(f"naive bootstrap (compute_all per resample), extrapolated from {k} to {r}: {t_loop:.1f} s"
          f"  -> ratio {t_loop / t_one:.1f}x")
    if not args.skip_all_bootstrap:
        t_all = timed(lambda: evaluate(scores, truth, bootstrap=r))
        print(f"evaluate with bootstrap, {r} resamples, all {e} estimators: {t_all:.1f} s")


if __name__ == "__main__":
    main()
