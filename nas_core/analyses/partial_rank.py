"""How much of a proxy's ranking is explained by #params and op counts? The partial rank
correlation of each proxy with the ground truth given those features.

Spearman partial correlation: rank-transform every variable (average ranks), regress the proxy's
ranks and the truth's ranks on the covariates' ranks (ordinary least squares with an intercept),
and take the Pearson correlation of the two residuals:

    ρ_partial = corr(r_s − P r_s, r_t − P r_t),   P = projection onto [1, ranks of covariates]

It equals the plain Spearman ρ when the covariates say nothing about either ranking, and goes
to 0 when the proxy ranks architectures only through what the covariates already tell (NaN
when the covariates explain a ranking entirely, e.g. the proxy `params` itself). For one
covariate it is the textbook (ρ_st − ρ_sc ρ_tc) / √((1 − ρ_sc²)(1 − ρ_tc²)). Collinear covariates
(the five op counts sum to 6) are fine: the projection is the same with a minimum-norm fit.

Also reported: `r2_covariates`, the share of the proxy's rank variance the covariates explain
(R² of that regression): near 1, the proxy is a size/op counter.

Intervals: a percentile bootstrap over architectures (resampled with replacement, all proxies on
the same resamples, ranks recomputed in each resample; copies of one architecture tie). Invalid
scores (NaN/inf) rank below every valid one, the kit's "worst" policy (`criteria.prepare`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from nas_core.analyses.effects import Effect
from nas_core.criteria import prepare
from nas_core.errors import BadParameter


def _residuals(y: np.ndarray, covariates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(residuals of each column of y on [1, covariates], R² of each column)."""
    design = np.column_stack([np.ones(len(y)), covariates])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    res = y - design @ beta
    centred = y - y.mean(axis=0)
    tot = (centred ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(tot > 0, 1.0 - (res ** 2).sum(axis=0) / tot, np.nan)
    return res, r2


def _corr_with(columns: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column with target (NaN where either is constant)."""
    a = columns - columns.mean(axis=0)
    b = target - target.mean()
    den = np.sqrt((a ** 2).sum(axis=0) * (b ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b[:, None]).sum(axis=0) / den, np.nan)


def _statistics(scores: np.ndarray, truth: np.ndarray, covariates: np.ndarray):
    """(spearman, partial, r2_covariates) of every score column, all ranks taken here."""
    rs = rankdata(scores, axis=0)
    rt = rankdata(truth)
    rc = rankdata(covariates, axis=0)
    spearman = _corr_with(rs, rt)
    res, r2 = _residuals(np.column_stack([rs, rt]), rc)
    partial = _corr_with(res[:, :-1], res[:, -1])
    # a ranking the covariates explain entirely leaves rounding noise, not a residual: undefined
    explained = r2[:-1] > 1.0 - 1e-9
    partial = np.where(explained | (r2[-1] > 1.0 - 1e-9), np.nan, partial)
    return spearman, partial, r2[:-1]


def _prepared(scores: pd.DataFrame, truth, covariates: pd.DataFrame):
    if len(scores) != len(truth) or len(scores) != len(covariates):
        raise BadParameter(f"scores, truth and covariates need one row per architecture each, got "
                           f"{len(scores)}, {len(truth)}, {len(covariates)}")
    if len(scores) < covariates.shape[1] + 3:
        raise BadParameter(f"{len(scores)} architectures are too few to regress out {covariates.shape[1]} covariates",
                           fix="use more architectures or fewer covariates")
    cov = np.asarray(covariates, dtype=np.float64)
    if not np.isfinite(cov).all():
        raise BadParameter("covariates (e.g. #params, op counts) must be finite for every architecture")
    t = np.asarray(truth, dtype=np.float64)
    cols, n_invalid = [], []
    for name in scores.columns:
        s, t_checked, bad = prepare(scores[name].to_numpy(np.float64), t, invalid="worst")  # invalid -> -inf
        cols.append(s)
        n_invalid.append(bad)
    return np.column_stack(cols), t_checked, cov, n_invalid


def partial_rank_table(scores: pd.DataFrame, truth, covariates: pd.DataFrame, n_boot: int = 1000,
                       seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """One row per proxy (a column of `scores`, rows aligned with `truth` and `covariates`):
    spearman, partial (ρ given the covariates) with its bootstrap interval, r2_covariates, n,
    n_invalid. `covariates`: e.g. params_M and the op-count columns of `space.features`."""
    if not 0 < level < 1 or int(n_boot) < 1:
        raise BadParameter(f"need 0 < level < 1 and n_boot >= 1, got level={level}, n_boot={n_boot}")
    s, t, cov, n_invalid = _prepared(scores, truth, covariates)
    spearman, partial, r2 = _statistics(s, t, cov)
    rng = np.random.default_rng(seed)
    m = len(t)
    boots = np.empty((int(n_boot), s.shape[1]))
    for b in range(int(n_boot)):
        idx = rng.integers(0, m, m)
        boots[b] = _statistics(s[idx], t[idx], cov[idx])[1]
    lo, hi = [], []
    for j in range(s.shape[1]):
        v = boots[:, j][np.isfinite(boots[:, j])]
        pair = np.percentile(v, [50 * (1 - level), 50 * (1 + level)]) if v.size else (np.nan, np.nan)
        lo.append(pair[0])
        hi.append(pair[1])
    frame = pd.DataFrame({"proxy": list(scores.columns), "spearman": spearman, "partial": partial,
                          "ci_low": lo, "ci_high": hi, "r2_covariates": r2, "n": m, "n_invalid": n_invalid})
    constant = [bool(np.ptp(s[:, j]) == 0) for j in range(s.shape[1])]  # no ranking: nothing to correlate
    frame.loc[constant, ["spearman", "partial", "ci_low", "ci_high", "r2_covariates"]] = np.nan
    return frame


def partial_rank_effect(score, truth, covariates: pd.DataFrame, n_boot: int = 1000, seed: int = 0,
                        level: float = 0.95) -> Effect:
    """The partial ρ of one proxy as an `Effect` (point, interval, n), for the narrative helpers."""
    row = partial_rank_table(pd.DataFrame({"score": np.asarray(score, dtype=np.float64)}), truth, covariates,
                             n_boot=n_boot, seed=seed, level=level).iloc[0]
    return Effect(float(row["partial"]), float(row["ci_low"]), float(row["ci_high"]), n=int(row["n"]))
