"""Evaluate estimator scores against a ground truth: one tidy table of every ranking criterion.

`scores` is a frame with a column `index` (architecture ids, e.g. NB201 API indices) and one
numeric column per estimator; `truth` is a Series indexed by the same ids. Scores and truth
are aligned by id and sorted by id, so the tie-break of top/bottom-K (lower position first,
see `nas_core.criteria`) is "lower index first". Every estimator is used with its raw sign
("higher is better") unless it is listed in `negate`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from nas_core import criteria as C
from nas_core.errors import BadData, BadParameter

ID = "index"
OUTPUT_COLUMNS = ["estimator", "criterion", "k", "value", "ci_low", "ci_high", "n", "n_invalid", "invalid_policy"]


def _first(values, count: int = 5) -> list:
    return [v.item() if hasattr(v, "item") else v for v in list(values)[:count]]


def _check_ids(scores: pd.DataFrame, truth: pd.Series) -> None:
    if ID not in scores.columns:
        raise BadData(f"scores have no {ID!r} column", fix=f"add the architecture id column {ID!r}; "
                      f"columns are {list(scores.columns)}")
    dup = scores[ID][scores[ID].duplicated()]
    if len(dup):
        raise BadData(f"duplicate index values in scores: {_first(dup.unique())}",
                      fix="give one row per architecture (average repeated measurements first)")
    if truth.index.has_duplicates:
        dup = truth.index[truth.index.duplicated()].unique()
        raise BadData(f"duplicate index values in ground truth: {_first(dup)}")
    unknown = scores[ID][~scores[ID].isin(truth.index)]
    if len(unknown):
        raise BadData(f"index values not in ground truth: {_first(unknown)}",
                      fix="score architectures of the chosen benchmark only (ids are the benchmark's API "
                          f"indices); {len(unknown)} of {len(scores)} rows are unknown")


def _check_estimators(scores: pd.DataFrame, estimators, negate) -> list[str]:
    available = [c for c in scores.columns if c != ID]
    estimators = available if estimators is None else list(estimators)
    missing = [e for e in estimators if e not in scores.columns or e == ID]
    if missing:
        raise BadParameter(f"estimator column(s) not in scores: {missing}", fix=f"available: {available}")
    if not estimators:
        raise BadParameter("no estimator column to evaluate", fix=f"scores need columns besides {ID!r}")
    stray = [e for e in negate if e not in estimators]
    if stray:
        raise BadParameter(f"negate names estimator(s) not evaluated: {stray}", fix=f"evaluated: {estimators}")
    for e in estimators:
        if not pd.api.types.is_numeric_dtype(scores[e]) or pd.api.types.is_bool_dtype(scores[e]):
            raise BadData(f"estimator column {e!r} is not numeric (dtype {scores[e].dtype})")
    return estimators


def _aligned_truth(scores: pd.DataFrame, truth: pd.Series) -> np.ndarray:
    values = truth.reindex(scores[ID]).to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise BadData(f"ground truth is NaN/inf for {int(bad.sum())} scored architecture(s), e.g. index "
                      f"{_first(scores[ID][bad])}", fix="pick a metric defined for them or leave them out")
    return values


def evaluate(scores: pd.DataFrame, truth: pd.Series, estimators: list[str] | None = None,
             ks: Sequence[float] = C.DEFAULT_P_KS, br_ks: Sequence[float] = C.DEFAULT_BR_KS,
             invalid: str = "worst", bootstrap: int = 0, seed: int = 0, negate: Sequence[str] = (),
             level: float = 0.95, bin_width: float = 1.0, criteria=None) -> pd.DataFrame:
    """Tidy table: estimator, criterion, k, value[, ci_low, ci_high], n, n_invalid, invalid_policy.

    ks: K fractions for P@top/bottom and tau inside the top/bottom sets; br_ks: for BR/WR.
    invalid: "worst" | "drop" (see nas_core.criteria). bootstrap: number of resamples for
    percentile intervals at `level` (0 = none); every estimator gets the same resamples (seed),
    so intervals of different estimators are paired. negate: estimators to flip (e.g. a loss).
    bin_width: sparse-tau bin of the ground truth, in its units (1.0 = one accuracy point).
    """
    if invalid not in C.INVALID_POLICIES:
        raise BadParameter(f"unknown invalid-score policy {invalid!r}", fix=f"use one of {C.INVALID_POLICIES}")
    if int(bootstrap) < 0:
        raise BadParameter(f"bootstrap must be >= 0 resamples, got {bootstrap}")
    _check_ids(scores, truth)
    estimators = _check_estimators(scores, estimators, list(negate))
    scores = scores.sort_values(ID, kind="stable")
    true = _aligned_truth(scores, truth)
    tables = []
    for est in estimators:
        pred = scores[est].to_numpy(dtype=np.float64)
        if est in negate:
            pred = -pred
        table = C.compute_all(pred, true, ks, br_ks, invalid, bin_width, criteria)
        if bootstrap:
            ci = C.bootstrap_ci(pred, true, int(bootstrap), level, seed, ks, br_ks, invalid, bin_width, criteria)
            table["ci_low"], table["ci_high"] = ci["ci_low"].to_numpy(), ci["ci_high"].to_numpy()
        table.insert(0, "estimator", est)
        tables.append(table)
    out = pd.concat(tables, ignore_index=True)
    return out[[c for c in OUTPUT_COLUMNS if c in out.columns]]


def deiso_aggregate(scores: pd.DataFrame, truth: pd.Series, iso_class: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Post-de-isomorphism: average the scores of each isomorphism class over its scored
    members, and the truth over ALL its members in `truth` (STUDY: class truth = mean of its
    members). A class with any invalid member score gets NaN (then the invalid policy applies),
    so an invalid score is never averaged away. `iso_class` maps every index to its class id.
    The class is labelled by its smallest member index (NB201's iso representative)."""
    if ID not in scores.columns:
        raise BadData(f"scores have no {ID!r} column")
    if iso_class.index.has_duplicates:
        raise BadData("iso_class lists an index twice")
    for what, ids in (("scores", scores[ID]), ("ground truth", truth.index.to_series())):
        unknown = ids[~ids.isin(iso_class.index)]
        if len(unknown):
            raise BadData(f"{what} index values without an isomorphism class: {_first(unknown)}")
    representative = iso_class.index.to_series().groupby(iso_class.to_numpy()).min()

    cls = iso_class.reindex(scores[ID]).to_numpy()
    values = scores.drop(columns=[ID])
    text = [c for c in values.columns if not pd.api.types.is_numeric_dtype(values[c])]
    if text:
        raise BadData(f"estimator column(s) {text} are not numeric")
    numeric = values.astype(np.float64)
    invalid = ~np.isfinite(numeric)
    mean = numeric.groupby(cls).mean()
    mean = mean.mask(invalid.groupby(cls).any())
    out = mean.reset_index(drop=True)
    out.insert(0, ID, representative.reindex(mean.index).to_numpy())

    truth_cls = truth.groupby(iso_class.reindex(truth.index).to_numpy()).mean()
    labels = pd.Index(representative.reindex(truth_cls.index).to_numpy(), name=ID)
    truth_out = pd.Series(truth_cls.to_numpy(), index=labels, name=truth.name)
    return out, truth_out


def _k_label(k: float) -> str:
    return f"{k * 100:g}%"


def format_table(df: pd.DataFrame, digits: int = 3) -> str:
    """Wide text table: one row per estimator, one column per criterion (criterion@K%),
    then n and n_invalid."""
    if df.empty:
        return "(no results)"
    label = df["criterion"].where(df["k"].isna(), df["criterion"] + "@" + df["k"].map(
        lambda k: _k_label(k) if pd.notna(k) else ""))
    columns = list(dict.fromkeys(label))
    rows = list(dict.fromkeys(df["estimator"]))
    wide = df.assign(_col=label).pivot(index="estimator", columns="_col", values="value")
    wide = wide.reindex(index=rows, columns=columns)
    meta = df.groupby("estimator", sort=False)[["n", "n_invalid"]].first().reindex(rows)
    wide = pd.concat([wide, meta], axis=1)
    wide.columns.name = wide.index.name = None
    return wide.to_string(float_format=lambda v: f"{v:.{digits}f}", na_rep="nan")


def long_to_wide(tidy: pd.DataFrame, batches: int | None = None) -> pd.DataFrame:
    """The one long-to-wide rule of the kit (notebooks, CLI, engines): index + one column per
    proxy, the mean over every (seed, batch) row of the first `batches` batches. One NaN rule:
    an invalid value (NaN, inf) makes that architecture's proxy value NaN -- it is counted as
    invalid by the criteria, never averaged away by its valid siblings."""
    d = tidy if batches is None or "batch" not in tidy.columns else tidy[tidy["batch"] < batches]
    value = d["value"].astype(np.float64)
    grouped = d.assign(value=value, _bad=~np.isfinite(value)).groupby(["index", "proxy"], sort=True)
    mean = grouped["value"].mean().mask(grouped["_bad"].any())
    wide = mean.unstack("proxy")
    wide.columns.name = None
    return wide.reset_index()
