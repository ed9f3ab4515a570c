"""Ranking criteria: how well a score vector ranks architectures against the ground truth.

Conventions
-----------
* Scores and ground truth are "higher is better". A loss must be negated by the caller
  (`evaluate(..., negate=[...])`); nothing here guesses a sign.
* M = number of architectures evaluated. Ranks: rank 1 = best.
* K values are fractions of M (0.05 = 5 %). A K criterion uses n = floor(K*M) architectures.
  K with n < 1 is undefined: the single-criterion functions return NaN for it and
  `compute_all` / `bootstrap_ci` omit its row.

Ties
----
* Top-K / bottom-K selection uses ONE deterministic total order: value descending, ties broken
  by position ascending (the order of the input arrays; `evaluate` sorts by architecture
  index, so the lower index wins). Top-K = the first n of that order, bottom-K = the last n.
  The ground truth's top/bottom sets follow the same rule.
* Rank values use averaged ranks for ties, as scipy does: Spearman, the true ranks in BR/WR,
  and the ranking difference RD. Kendall's tau-b corrects for ties (= scipy.stats.kendalltau
  default); tau-a = (C - D) / (M(M-1)/2) counts tied pairs as neither.

Invalid scores (NaN, +inf, -inf)
--------------------------------
Never dropped silently, never ranked at random. The `invalid` policy says what happens:
* "worst" (default): invalid scores rank below every valid score. Among themselves they are
  tied (averaged ranks, tau-b tie correction) and ordered by position for top/bottom-K.
  Pearson (LC) is NaN when any score is invalid: a linear correlation has no value for
  "below everything" -- use "drop" to get it.
* "drop": architectures with an invalid score are removed from both vectors.
The number of invalid scores is reported beside every result (`n_invalid`). An invalid
ground-truth value is an error (BadData): the truth is never guessed either.

Constant inputs
---------------
A correlation (Pearson, Spearman, tau-a, tau-b, sparse tau, tau inside a set) involving a
constant vector (or fewer than 2 architectures) is undefined: NaN, returned without a warning.
P@K and BR/WR stay defined (the tie-break decides).

Bootstrap
---------
`bootstrap_ci` resamples architectures with replacement. A resample is held as a count per
architecture (B count vectors at once), so every sort is done once and each criterion is a
few array operations over (M x B) -- no Python loop over architectures or resamples. Copies of
one architecture are tied with each other in score and truth; in top/bottom-K they are
adjacent in both orders. The interval is the percentile interval of the resampled values.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from nas_core.errors import BadData, BadParameter

DEFAULT_P_KS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)
DEFAULT_BR_KS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.2)
INVALID_POLICIES = ("worst", "drop")
# criteria without K, then criteria with K (in the order tables show them)
PLAIN_CRITERIA = ("pearson", "kendall_tau_b", "kendall_tau_a", "spearman", "sparse_kendall_tau")
K_CRITERIA = ("p_at_top", "p_at_bottom", "br_at_k", "wr_at_k", "tau_in_top", "tau_in_bottom")
CRITERIA = PLAIN_CRITERIA + K_CRITERIA
# criteria whose K list is the BR/WR one; the others use the P@K list
BR_CRITERIA = ("br_at_k", "wr_at_k")


# ---- input checks -----------------------------------------------------------------------------

def prepare(pred, true, invalid: str = "worst") -> tuple[np.ndarray, np.ndarray, int]:
    """Apply the invalid-score policy: (pred, true, n_invalid). Under "worst" invalid scores
    become -inf (below everything, tied among themselves); under "drop" they are removed."""
    pred = np.asarray(pred, dtype=np.float64).ravel()
    true = np.asarray(true, dtype=np.float64).ravel()
    if pred.shape != true.shape:
        raise BadParameter(f"scores and ground truth differ in length: {pred.size} vs {true.size}")
    bad_truth = np.flatnonzero(~np.isfinite(true))
    if bad_truth.size:
        raise BadData(f"ground truth has {bad_truth.size} NaN/inf value(s) (positions {bad_truth[:5].tolist()})",
                      fix="remove those architectures or choose a ground-truth metric defined for all")
    bad = ~np.isfinite(pred)
    if invalid == "worst":
        pred = np.where(bad, -np.inf, pred)
    elif invalid == "drop":
        pred, true = pred[~bad], true[~bad]
    else:
        raise BadParameter(f"unknown invalid-score policy {invalid!r}", fix=f"use one of {INVALID_POLICIES}")
    return pred, true, int(bad.sum())


def k_sizes(ks, m: int) -> np.ndarray:
    """n = floor(K*M) for each K (rounded first so that 0.29*100 gives 29, not 28)."""
    ks = np.asarray(ks, dtype=np.float64).ravel()
    if ks.size and not ((ks > 0) & (ks <= 1)).all():
        raise BadParameter(f"K values must be fractions in (0, 1], got {ks.tolist()}",
                           fix="write 5 % as 0.05")
    return np.floor(np.round(ks * m, 9)).astype(np.int64)


# ---- small helpers ----------------------------------------------------------------------------

def _order(v: np.ndarray) -> np.ndarray:
    """Best-first total order: value descending, ties by position ascending."""
    return np.argsort(-v, kind="stable")


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Start of every run of equal values in a sorted array."""
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])


def _tied_pairs(sorted_values: np.ndarray) -> int:
    runs = np.diff(np.r_[_run_starts(sorted_values), sorted_values.size])
    return int((runs * (runs - 1) // 2).sum())


def _is_constant(v: np.ndarray) -> bool:
    # min == max also holds for an all -inf vector, where ptp would give NaN
    return v.size < 2 or v.min() == v.max()


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if _is_constant(x) or _is_constant(y) or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return np.nan
    xc, yc = x - x.mean(), y - y.mean()
    return float(np.clip(xc @ yc / np.sqrt((xc @ xc) * (yc @ yc)), -1.0, 1.0))


def _tau_b(x: np.ndarray, y: np.ndarray) -> float:
    if _is_constant(x) or _is_constant(y):
        return np.nan
    return float(stats.kendalltau(x, y).statistic)


def _bin(true: np.ndarray, bin_width: float) -> np.ndarray:
    """Bin id of each value: round(true / bin_width), halves rounded up (no banker's rounding)."""
    if not bin_width > 0:
        raise BadParameter(f"sparse-tau bin width must be > 0, got {bin_width}")
    return np.floor(true / bin_width + 0.5)


def _per_k(ns: np.ndarray, minimum: int, fn) -> np.ndarray:
    """fn(n) for every n >= minimum, NaN elsewhere."""
    return np.array([fn(int(n)) if n >= minimum else np.nan for n in ns], dtype=np.float64)


# ---- one score vector against the truth -------------------------------------------------------

class _Pair:
    """A prepared (pred, true) pair with the sorts and ranks several criteria share."""

    def __init__(self, pred: np.ndarray, true: np.ndarray):
        self.pred, self.true, self.m = pred, true, pred.size

    @cached_property
    def order_pred(self) -> np.ndarray:
        return _order(self.pred)

    @cached_property
    def order_true(self) -> np.ndarray:
        return _order(self.true)

    @cached_property
    def rank_pred(self) -> np.ndarray:  # averaged, 1 = best
        return stats.rankdata(-self.pred, method="average")

    @cached_property
    def rank_true(self) -> np.ndarray:
        return stats.rankdata(-self.true, method="average")

    @cached_property
    def tau_b(self) -> float:
        return _tau_b(self.pred, self.true)

    def pearson(self) -> float:
        return _pearson(self.pred, self.true)

    def spearman(self) -> float:
        if _is_constant(self.pred) or _is_constant(self.true):
            return np.nan
        return _pearson(self.rank_pred, self.rank_true)

    def tau_a(self) -> float:
        # tau-a shares tau-b's numerator C - D; undo tau-b's tie correction
        if np.isnan(self.tau_b):
            return np.nan
        n0 = self.m * (self.m - 1) / 2
        n1 = _tied_pairs(self.pred[self.order_pred])
        n2 = _tied_pairs(self.true[self.order_true])
        return float(self.tau_b * np.sqrt((n0 - n1) * (n0 - n2)) / n0)

    def sparse_tau(self, bin_width: float) -> float:
        return _tau_b(self.pred, _bin(self.true, bin_width))

    def p_at(self, ns: np.ndarray, bottom: bool = False) -> np.ndarray:
        op, ot = self.order_pred, self.order_true
        if bottom:
            op, ot = op[::-1], ot[::-1]
        pos_true = np.empty(self.m, dtype=np.int64)
        pos_true[ot] = np.arange(self.m)
        # the arch at predicted position j is in both top-n sets iff max(j, its true position) < n
        both = np.maximum(np.arange(self.m), pos_true[op])
        common = np.cumsum(np.bincount(both, minlength=self.m))
        return _per_k(ns, 1, lambda n: common[n - 1] / n)

    def best_worst_rank(self, ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ranks = self.rank_true[self.order_pred]
        best, worst = np.minimum.accumulate(ranks), np.maximum.accumulate(ranks)
        return (_per_k(ns, 1, lambda n: best[n - 1] / self.m),
                _per_k(ns, 1, lambda n: worst[n - 1] / self.m))

    def tau_in(self, ns: np.ndarray, bottom: bool = False) -> np.ndarray:
        op = self.order_pred[::-1] if bottom else self.order_pred

        def tau(n):
            if n == self.m:
                return self.tau_b
            sel = op[:n]
            return _tau_b(self.pred[sel], self.true[sel])
        return _per_k(ns, 2, tau)


def _pair(pred, true, invalid) -> _Pair:
    return _Pair(*prepare(pred, true, invalid)[:2])


def pearson(pred, true, invalid: str = "worst") -> float:
    """Linear correlation (LC). NaN under "worst" when a score is invalid."""
    return _pair(pred, true, invalid).pearson()


def kendall_tau_b(pred, true, invalid: str = "worst") -> float:
    """Kendall's tau-b, equal to scipy.stats.kendalltau's default."""
    return _pair(pred, true, invalid).tau_b


def kendall_tau_a(pred, true, invalid: str = "worst") -> float:
    """Kendall's tau-a = (concordant - discordant) / (M(M-1)/2); tied pairs count as neither."""
    return _pair(pred, true, invalid).tau_a()


def spearman(pred, true, invalid: str = "worst") -> float:
    """Spearman's rho = Pearson of averaged ranks (= scipy.stats.spearmanr)."""
    return _pair(pred, true, invalid).spearman()


def sparse_kendall_tau(pred, true, bin_width: float = 1.0, invalid: str = "worst") -> float:
    """tau-b after rounding the ground truth to bins of `bin_width` (in the truth's units:
    1.0 = one percentage point for accuracies in %), so tiny truth gaps count as ties."""
    return _pair(pred, true, invalid).sparse_tau(bin_width)


def p_at_top(pred, true, ks=DEFAULT_P_KS, invalid: str = "worst") -> np.ndarray:
    """|predicted top n ∩ true top n| / n, n = floor(K*M), one value per K (NaN where n < 1)."""
    p = _pair(pred, true, invalid)
    return p.p_at(k_sizes(ks, p.m))


def p_at_bottom(pred, true, ks=DEFAULT_P_KS, invalid: str = "worst") -> np.ndarray:
    """|predicted bottom n ∩ true bottom n| / n, one value per K (NaN where n < 1)."""
    p = _pair(pred, true, invalid)
    return p.p_at(k_sizes(ks, p.m), bottom=True)


def br_at_k(pred, true, ks=DEFAULT_BR_KS, invalid: str = "worst") -> np.ndarray:
    """Best true rank among the predicted top n, divided by M (lower is better)."""
    p = _pair(pred, true, invalid)
    return p.best_worst_rank(k_sizes(ks, p.m))[0]


def wr_at_k(pred, true, ks=DEFAULT_BR_KS, invalid: str = "worst") -> np.ndarray:
    """Worst true rank among the predicted top n, divided by M (lower is better)."""
    p = _pair(pred, true, invalid)
    return p.best_worst_rank(k_sizes(ks, p.m))[1]


def tau_in_top(pred, true, ks=DEFAULT_P_KS, invalid: str = "worst") -> np.ndarray:
    """tau-b inside the predicted top n (NaN where n < 2)."""
    p = _pair(pred, true, invalid)
    return p.tau_in(k_sizes(ks, p.m))


def tau_in_bottom(pred, true, ks=DEFAULT_P_KS, invalid: str = "worst") -> np.ndarray:
    """tau-b inside the predicted bottom n (NaN where n < 2)."""
    p = _pair(pred, true, invalid)
    return p.tau_in(k_sizes(ks, p.m), bottom=True)


# criteria added by users: one function `fn(pred, true) -> float` each (no K); the bootstrap
# resamples them generically (the built-in criteria keep their vectorised resampling)
EXTRA_CRITERIA: dict = {}


def register_criterion(name: str, fn) -> None:
    """Add a criterion from one function `fn(pred, true) -> float` (higher pred = predicted
    better; the arrays are already prepared: invalid scores ranked worst or dropped). It is
    computed by `compute_all` and gets bootstrap intervals from the generic resampling
    fallback: `fn` on each resample, drawn exactly as the built-in criteria's resamples."""
    if not callable(fn):
        raise BadParameter(f"criterion {name!r} needs a function fn(pred, true) -> float")
    if name in CRITERIA:
        raise BadParameter(f"{name!r} is a built-in criterion", fix="register yours under another name")
    EXTRA_CRITERIA[name] = fn


def _plain(c: str) -> bool:
    return c in PLAIN_CRITERIA or c in EXTRA_CRITERIA


def _check_criteria(criteria) -> tuple[str, ...]:
    known = CRITERIA + tuple(EXTRA_CRITERIA)
    criteria = known if criteria is None else tuple(criteria)
    unknown = [c for c in criteria if c not in known]
    if unknown:
        raise BadParameter(f"unknown criteria {unknown}", fix=f"use some of: {', '.join(known)}, or register_criterion")
    return criteria


def _rows(values: dict, p_ks, br_ks, criteria) -> list[tuple]:
    """(criterion, k, value) rows; K with n < 1 (NaN value from size rules) are omitted."""
    rows = []
    for c in criteria:
        if _plain(c):
            rows.append((c, np.nan, values[c]))
        else:
            ks = br_ks if c in BR_CRITERIA else p_ks
            rows.extend((c, float(k), v) for k, v in zip(ks, values[c]))
    return rows


def _point_values(pair: _Pair, p_ks, br_ks, bin_width, criteria) -> dict:
    want = set(criteria)
    np_, nb = k_sizes(p_ks, pair.m), k_sizes(br_ks, pair.m)
    plain = {"pearson": pair.pearson, "kendall_tau_b": lambda: pair.tau_b, "kendall_tau_a": pair.tau_a,
             "spearman": pair.spearman, "sparse_kendall_tau": lambda: pair.sparse_tau(bin_width),
             "p_at_top": lambda: pair.p_at(np_), "p_at_bottom": lambda: pair.p_at(np_, bottom=True),
             "tau_in_top": lambda: pair.tau_in(np_), "tau_in_bottom": lambda: pair.tau_in(np_, bottom=True)}
    out = {c: fn() for c, fn in plain.items() if c in want}
    if want & set(BR_CRITERIA):
        out["br_at_k"], out["wr_at_k"] = pair.best_worst_rank(nb)
    for c in want & set(EXTRA_CRITERIA):
        out[c] = float(EXTRA_CRITERIA[c](pair.pred, pair.true))
    return out


def _valid_k_mask(criterion: str, k: float, m: int) -> bool:
    """False for a K whose set is too small: n < 1, or n < 2 for the tau inside a set."""
    if np.isnan(k):
        return True
    return k_sizes([k], m)[0] >= (2 if criterion in ("tau_in_top", "tau_in_bottom") else 1)


def compute_all(pred, true, p_ks=DEFAULT_P_KS, br_ks=DEFAULT_BR_KS, invalid: str = "worst",
                bin_width: float = 1.0, criteria=None) -> pd.DataFrame:
    """Every criterion for one score vector: columns criterion, k, value, n, n_invalid,
    invalid_policy. k is NaN for criteria without K; K with floor(K*M) < 1 (< 2 for the tau
    inside a set) have no row. n is the number of architectures used (M after "drop")."""
    criteria = _check_criteria(criteria)
    pred, true, n_invalid = prepare(pred, true, invalid)
    pair = _Pair(pred, true)
    rows = _rows(_point_values(pair, p_ks, br_ks, bin_width, criteria), p_ks, br_ks, criteria)
    rows = [r for r in rows if _valid_k_mask(r[0], r[1], pair.m)]
    frame = pd.DataFrame(rows, columns=["criterion", "k", "value"])
    frame["n"], frame["n_invalid"], frame["invalid_policy"] = pair.m, n_invalid, invalid
    return frame


# ---- relative criteria, ranking difference, groups --------------------------------------------

def relative_criteria(earlier, later, ks=DEFAULT_P_KS, invalid: str = "worst") -> pd.DataFrame:
    """Agreement of two score vectors (e.g. two checkpoints), the later one treated as truth:
    relative_tau (tau-b) and rel_p_at_top per K. The invalid policy applies to both vectors:
    "worst" sends invalid values of either to the bottom, "drop" drops a row invalid in either."""
    earlier = np.asarray(earlier, dtype=np.float64).ravel()
    later = np.asarray(later, dtype=np.float64).ravel()
    if earlier.shape != later.shape:
        raise BadParameter(f"score vectors differ in length: {earlier.size} vs {later.size}")
    bad = ~np.isfinite(earlier) | ~np.isfinite(later)
    if invalid == "drop":
        earlier, later = earlier[~bad], later[~bad]
    elif invalid == "worst":
        earlier = np.where(np.isfinite(earlier), earlier, -np.inf)
        later = np.where(np.isfinite(later), later, -np.inf)
    else:
        raise BadParameter(f"unknown invalid-score policy {invalid!r}", fix=f"use one of {INVALID_POLICIES}")
    pair = _Pair(earlier, later)
    ns = k_sizes(ks, pair.m)
    rows = [("relative_tau", np.nan, pair.tau_b)]
    rows += [("rel_p_at_top", float(k), v) for k, n, v in zip(ks, ns, pair.p_at(ns)) if n >= 1]
    frame = pd.DataFrame(rows, columns=["criterion", "k", "value"])
    frame["n"], frame["n_invalid"], frame["invalid_policy"] = pair.m, int(bad.sum()), invalid
    return frame


def ranking_difference(pred, true, fraction: bool = True, invalid: str = "worst") -> np.ndarray:
    """RD = true rank - estimated rank per architecture (averaged ranks, 1 = best), divided
    by M when `fraction`. RD > 0: the estimator places the architecture better than it truly
    is (over-estimates it). Under "drop" the result covers the kept architectures only."""
    pred, true, _ = prepare(pred, true, invalid)
    pair = _Pair(pred, true)
    rd = pair.rank_true - pair.rank_pred
    return rd / pair.m if fraction else rd


def group_criteria(pred, true, groups, fraction: bool = True, invalid: str = "worst") -> pd.DataFrame:
    """Per group (e.g. FLOPs quintile labels): n, mean RD (ranks over ALL architectures) and
    tau-b inside the group."""
    groups = np.asarray(groups).ravel()
    pred_a = np.asarray(pred, dtype=np.float64).ravel()
    if groups.shape != pred_a.shape:
        raise BadParameter(f"groups and scores differ in length: {groups.size} vs {pred_a.size}")
    if invalid == "drop":
        groups = groups[np.isfinite(pred_a)]
    pred_p, true_p, _ = prepare(pred, true, invalid)
    rd = ranking_difference(pred, true, fraction, invalid)
    rows = []
    for g in np.unique(groups):
        sel = groups == g
        rows.append((g, int(sel.sum()), float(rd[sel].mean()), _tau_b(pred_p[sel], true_p[sel])))
    return pd.DataFrame(rows, columns=["group", "n", "mean_rd", "kendall_tau_b"])


# ---- several seeds ----------------------------------------------------------------------------

def mean_over_seeds(frame: pd.DataFrame, seed: str = "seed", value: str = "value", by=None) -> pd.DataFrame:
    """Mean, std (ddof=1), min, max over seeds of a tidy table. Groups by every other column
    unless `by` is given (NaN keys, e.g. k of criteria without K, are kept). n counts the
    finite values; NaN values are not averaged but counted in n_nan."""
    if seed not in frame.columns or value not in frame.columns:
        raise BadParameter(f"table needs the columns {seed!r} and {value!r}", fix=f"it has {list(frame.columns)}")
    if by is None:
        by = [c for c in frame.columns if c not in (seed, value, "ci_low", "ci_high")]
    finite = frame[value].where(np.isfinite(frame[value].astype(float)))
    grouped = frame.assign(_v=finite, _nan=finite.isna()).groupby(list(by), dropna=False, sort=False)
    out = grouped["_v"].agg(["mean", "std", "min", "max", "count"]).rename(columns={"count": "n"})
    out["n_nan"] = grouped["_nan"].sum().astype(int)
    return out.reset_index()


# ---- bootstrap --------------------------------------------------------------------------------

def _inversion_levels(y: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Merge-sort plan to count, for fixed y and any weights w, the weighted inversions
    sum_{i<j, y_i > y_j} w_i w_j. At each level the positions form pairs of blocks (left,
    right); for every right element we find, in its left block sorted by y, the range of
    elements with larger y. Built once, reused for every resample."""
    n = y.size
    pos = np.arange(n)
    span = int(y.max()) + 2 if n else 1
    levels, width = [], 1
    while width < n:
        pair = pos // (2 * width)
        left = (pos // width) % 2 == 0
        key = pair[left] * span + y[left]
        srt = np.argsort(key, kind="stable")
        left_sorted, keys = pos[left][srt], key[srt]
        right = pos[~left]
        rkey = pair[~left] * span + y[~left]
        lo = np.searchsorted(keys, rkey, side="right")            # first left element with larger y
        hi = np.searchsorted(keys, (pair[~left] + 1) * span, side="left")  # end of the left block
        levels.append((left_sorted, right, lo, hi))
        width *= 2
    return levels


class _TiedPairs:
    """Weighted number of tied pairs, sum over groups of equal values of t(t-1)/2 with t the
    group's total weight. Copies of one architecture are always tied (w(w-1)/2 each, added by
    the caller); only groups with several architectures need a group sum, so only their
    members are gathered."""

    def __init__(self, order: np.ndarray, sorted_values: np.ndarray):
        starts = _run_starts(sorted_values)
        sizes = np.diff(np.r_[starts, sorted_values.size])
        multi = sizes > 1
        self.members = order[np.repeat(multi, sizes)]
        self.starts = np.r_[0, np.cumsum(sizes[multi])[:-1]].astype(np.int64)

    def extra(self, w: np.ndarray, own: np.ndarray) -> np.ndarray:
        """Tied pairs across different architectures; own = w(w-1)/2 per architecture."""
        if self.members.size == 0:
            return np.zeros(w.shape[1], dtype=np.int64)
        t = np.add.reduceat(w[self.members], self.starts, axis=0).astype(np.int64)
        return (t * (t - 1) // 2).sum(axis=0) - own[self.members].sum(axis=0, dtype=np.int64)


class _WeightedTau:
    """Kendall tau-b and tau-a of fixed (x, y) under many weight (count) vectors at once.

    With tau-b's identity C - D = n0 - n1 - n2 + n3 - 2D (n0 all pairs, n1/n2 pairs tied in
    x / y, n3 tied in both, D discordant pairs), every term is a weighted count: tie terms are
    sums over tie groups, D is the weighted number of y-inversions after sorting by (x, y)."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.n = x.size
        self.lex = np.lexsort((y, x))
        xs, ys = x[self.lex], y[self.lex]
        y_order = np.argsort(y, kind="stable")
        joint = np.unique(np.stack([xs, ys]), axis=1, return_inverse=True)[1].ravel()
        self.ties = [_TiedPairs(self.lex, xs), _TiedPairs(y_order, y[y_order]), _TiedPairs(self.lex, joint)]
        self.levels = _inversion_levels(np.unique(ys, return_inverse=True)[1].ravel())

    def discordant(self, w: np.ndarray) -> np.ndarray:
        """Weighted y-inversions in (x, y) order: sum over i<j, y_i > y_j of w_i w_j."""
        wl = w[self.lex]
        disc = np.zeros(w.shape[1], dtype=np.int64)
        for left_sorted, right, lo, hi in self.levels:
            cum = np.empty((left_sorted.size + 1, w.shape[1]), dtype=w.dtype)
            cum[0] = 0
            np.cumsum(wl[left_sorted], axis=0, out=cum[1:])
            larger = cum[hi]
            larger -= cum[lo]
            larger *= wl[right]
            disc += larger.sum(axis=0, dtype=np.int64)
        return disc

    def __call__(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """w: (n, B) non-negative integer counts (int32 is enough) in the order of x, y."""
        if self.n < 2:
            nan = np.full(w.shape[1], np.nan)
            return nan, nan
        total = w.sum(axis=0, dtype=np.int64)
        own = w.astype(np.int64)
        own = own * (own - 1) // 2
        own_total = own.sum(axis=0)
        n1, n2, n3 = (own_total + t.extra(w, own) for t in self.ties)
        n0 = total * (total - 1) // 2
        s = (n0 - n1 - n2 + n3 - 2 * self.discordant(w)).astype(np.float64)
        denom = np.sqrt((n0 - n1).astype(np.float64) * (n0 - n2))
        with np.errstate(invalid="ignore", divide="ignore"):
            tau_b = np.where(denom > 0, s / np.where(denom > 0, denom, 1), np.nan)
            tau_a = np.where(denom > 0, s / np.maximum(n0, 1), np.nan)
        return tau_b, tau_a


def _weighted_ranks(order: np.ndarray, values_sorted: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Averaged rank (1 = first in `order`) of every architecture in every resample; copies and
    ties share the mean rank of their group. w: (M, B) counts."""
    starts = _run_starts(values_sorted)
    t = np.add.reduceat(w[order], starts, axis=0).astype(np.float64)
    avg = np.cumsum(t, axis=0) - (t - 1) / 2
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, order.size]))
    ranks = np.empty(w.shape, dtype=np.float64)
    ranks[order] = avg[group]
    return ranks


def _weighted_corr(x: np.ndarray, y: np.ndarray, w: np.ndarray, rel_tol: float = 0.0,
                   abs_tol: float = 0.0) -> np.ndarray:
    """Pearson per resample; x, y (M,) or (M, B), w (M, B) float counts. NaN when a resample is
    constant in x or y: its sum of squared deviations is <= rel_tol * (sum of squares) or
    <= abs_tol (rounding leaves a tiny non-zero value for a constant resample)."""
    total = w.sum(axis=0)
    xc = x - (x.mean() if x.ndim == 1 else 0)
    yc = y - (y.mean() if y.ndim == 1 else 0)
    xc = xc[:, None] if xc.ndim == 1 else xc
    yc = yc[:, None] if yc.ndim == 1 else yc
    sx, sy = (w * xc).sum(0), (w * yc).sum(0)
    sxx, syy, sxy = (w * xc * xc).sum(0), (w * yc * yc).sum(0), (w * xc * yc).sum(0)
    vx, vy = sxx - sx * sx / total, syy - sy * sy / total
    ok = (vx > rel_tol * sxx) & (vy > rel_tol * syy) & (vx > abs_tol) & (vy > abs_tol)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, (sxy - sx * sy / total) / np.sqrt(np.where(ok, vx * vy, 1)), np.nan)
    return np.clip(r, -1, 1)


def _included(cum: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """Copies of each architecture among the first n units, given counts w in that order and
    their running totals cum."""
    return np.clip(n - (cum - w), 0, w)


class _Bootstrap:
    """All criteria for many resamples of one prepared pair (counts w: (M, B))."""

    def __init__(self, pair: _Pair, p_ks, br_ks, bin_width: float, criteria):
        self.pair, self.want = pair, set(criteria)
        self.np_, self.nb = k_sizes(p_ks, pair.m), k_sizes(br_ks, pair.m)
        self.tau = _WeightedTau(pair.pred, pair.true)
        self.sparse = _WeightedTau(pair.pred, _bin(pair.true, bin_width)) if "sparse_kendall_tau" in self.want else None
        self.pos_true = np.empty(pair.m, dtype=np.int64)
        self.pos_true[pair.order_true] = np.arange(pair.m)
        self.plans = {}  # (bottom, n) -> tau plan of the predicted top/bottom prefix

    def values(self, w: np.ndarray) -> dict:
        """{criterion: (B,) array or list of (B,) arrays per K} for the counts w (M, B)."""
        p, want, b = self.pair, self.want, w.shape[1]
        out = {}
        full_tau = None
        if want & {"kendall_tau_b", "kendall_tau_a", "tau_in_top", "tau_in_bottom"}:
            full_tau, out["kendall_tau_a"] = self.tau(w)
            out["kendall_tau_b"] = full_tau
        if self.sparse is not None:
            out["sparse_kendall_tau"] = self.sparse(w)[0]
        if "pearson" in want:
            # under "worst" with invalid scores Pearson is NaN, as for the point estimate
            out["pearson"] = (_weighted_corr(p.pred, p.true, w.astype(np.float64), rel_tol=1e-10)
                              if np.isfinite(p.pred).all() else np.full(b, np.nan))
        rank_true = None
        if want & {"spearman", "br_at_k", "wr_at_k"}:
            rank_true = _weighted_ranks(p.order_true, p.true[p.order_true], w)
        if "spearman" in want:
            rank_pred = _weighted_ranks(p.order_pred, p.pred[p.order_pred], w)
            # averaged ranks of a non-constant resample have a sum of squared deviations >= 0.5
            out["spearman"] = _weighted_corr(rank_pred, rank_true, w.astype(np.float64), abs_tol=0.25)
        if want & {"p_at_top", "p_at_bottom", "tau_in_top", "tau_in_bottom"}:
            ct = np.cumsum(w[p.order_true], axis=0)
            for bottom in (False, True):
                name = "bottom" if bottom else "top"
                if want & {f"p_at_{name}", f"tau_in_{name}"}:
                    out[f"p_at_{name}"], out[f"tau_in_{name}"] = self._top_sets(w, ct, bottom, full_tau)
        if want & {"br_at_k", "wr_at_k"}:
            out["br_at_k"], out["wr_at_k"] = self._best_worst(w, rank_true)
        return {c: out[c] for c in want}

    def _top_sets(self, w, ct, bottom: bool, full_tau):
        """P@top/bottom and tau inside the predicted top/bottom set, every K, every resample."""
        p, m, b = self.pair, self.pair.m, w.shape[1]
        op = p.order_pred[::-1] if bottom else p.order_pred
        wp = w[op]
        cp = np.cumsum(wp, axis=0)
        ct_at = ct[self.pos_true[op]]
        if bottom:  # running total in the reversed truth order: units at or after the arch
            ct_at = m - ct_at + wp
        lasts = _first_reaching(cp, np.maximum(self.np_, 1))
        p_vals, tau_vals = [], []
        for n, first in zip(self.np_, lasts):
            if n < 1:
                p_vals.append(np.full(b, np.nan))
                tau_vals.append(np.full(b, np.nan))
                continue
            # only the prefix that can hold one of the first n units in some resample matters
            last = int(first.max()) + 1
            a = _included(cp[:last], wp[:last], n)
            t = _included(ct_at[:last], wp[:last], n)
            p_vals.append(np.minimum(a, t).sum(axis=0) / n)
            a = a.astype(np.int32)
            if n < 2 or f"tau_in_{'bottom' if bottom else 'top'}" not in self.want:
                tau_vals.append(np.full(b, np.nan))
            elif n == m:
                tau_vals.append(full_tau)
            else:
                plan = self._set_plan(op, bottom, n, last)
                a_plan = np.zeros((plan.n, b), dtype=np.int32)
                a_plan[:last] = a
                tau_vals.append(plan(a_plan)[0])
        return p_vals, tau_vals

    def _set_plan(self, op, bottom: bool, n: int, last: int) -> _WeightedTau:
        """tau plan for a prefix of the predicted order at least `last` long, shared by all
        chunks (weights past a chunk's own prefix are zero, so a longer plan is still exact)."""
        plan = self.plans.get((bottom, n))
        if plan is None or plan.n < last:
            sel = op[:min(self.pair.m, last + last // 20 + 16)]
            plan = self.plans[(bottom, n)] = _WeightedTau(self.pair.pred[sel], self.pair.true[sel])
        return plan

    def _best_worst(self, w, rank_true):
        p, m, b = self.pair, self.pair.m, w.shape[1]
        wp = w[p.order_pred]
        firsts = _first_reaching(np.cumsum(wp, axis=0), np.maximum(self.nb, 1))  # (K, B)
        last = int(firsts.max()) + 1 if firsts.size else 0
        ranks = rank_true[p.order_pred[:last]]
        present = wp[:last] > 0
        best = np.minimum.accumulate(np.where(present, ranks, np.inf), axis=0)
        worst = np.maximum.accumulate(np.where(present, ranks, -np.inf), axis=0)
        cols = np.arange(b)
        nan = np.full(b, np.nan)
        br = [best[f, cols] / m if n >= 1 else nan for n, f in zip(self.nb, firsts)]
        wr = [worst[f, cols] / m if n >= 1 else nan for n, f in zip(self.nb, firsts)]
        return br, wr


def _first_reaching(cum: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """(K, B): per column of the running totals cum (M, B), the first row reaching each n."""
    rows, cols = cum.shape
    # shift each column by its own offset so that the flattened columns are one sorted array
    offsets = np.arange(cols, dtype=np.int64) * (int(cum[-1].max()) + 1)
    flat = (cum.T + offsets[:, None]).ravel()
    hits = np.searchsorted(flat, np.asarray(ns)[:, None] + offsets[None, :], side="left")
    return hits - np.arange(cols) * rows


def resample_counts(m: int, n_boot: int, seed: int, chunk: int):
    """Yield (M, c) count matrices of bootstrap resamples, c <= chunk, n_boot columns in all.
    Deterministic for a given (m, n_boot, seed, chunk)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        c = min(chunk, n_boot - done)
        draws = rng.integers(0, m, size=(c, m))
        counts = np.bincount((draws * c + np.arange(c)[:, None]).ravel(), minlength=m * c)
        yield counts.reshape(m, c).astype(np.int32)
        done += c


def bootstrap_values(pred, true, n_boot: int = 1000, seed: int = 0, p_ks=DEFAULT_P_KS,
                     br_ks=DEFAULT_BR_KS, invalid: str = "worst", bin_width: float = 1.0,
                     criteria=None, n_threads: int | None = None) -> dict:
    """{criterion: array (B,)} for criteria without K, {criterion: list of arrays per K} for
    the others: every criterion on every resample."""
    criteria = _check_criteria(criteria)
    pred, true, _ = prepare(pred, true, invalid)
    pair = _Pair(pred, true)
    if pair.m == 0:  # everything dropped: nothing to resample
        nan = np.full(n_boot, np.nan)
        return {c: nan if _plain(c) else [nan] * len(br_ks if c in BR_CRITERIA else p_ks)
                for c in criteria}
    extra = [c for c in criteria if c in EXTRA_CRITERIA]
    built_in = [c for c in criteria if c not in EXTRA_CRITERIA]
    boot = _Bootstrap(pair, p_ks, br_ks, bin_width, built_in) if built_in else None
    # ~2**19 counts per chunk keeps the merge arrays in the CPU cache (measured fastest);
    # numpy releases the GIL, so chunks run in parallel threads
    chunk = max(1, min(n_boot, 2 ** 19 // max(pair.m, 1)))
    counts = resample_counts(pair.m, n_boot, seed, chunk)
    n_threads = n_threads or os.cpu_count() or 1

    def values(w):
        got = boot.values(w) if boot is not None else {}
        for c in extra:  # the generic fallback: the criterion's own function on each resample
            rows = [np.repeat(np.arange(pair.m), w[:, b]) for b in range(w.shape[1])]
            got[c] = np.array([EXTRA_CRITERIA[c](pair.pred[r], pair.true[r]) for r in rows], dtype=float)
        return got

    if n_threads == 1:
        parts = [values(w) for w in counts]
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            parts = list(pool.map(values, counts))
    out = {}
    for c in criteria:
        if _plain(c):
            out[c] = np.concatenate([part[c] for part in parts])
        else:
            out[c] = [np.concatenate([part[c][i] for part in parts]) for i in range(len(parts[0][c]))]
    return out


def _percentiles(v: np.ndarray, level: float) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, np.nan
    lo, hi = np.percentile(v, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def bootstrap_ci(pred, true, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                 p_ks=DEFAULT_P_KS, br_ks=DEFAULT_BR_KS, invalid: str = "worst",
                 bin_width: float = 1.0, criteria=None) -> pd.DataFrame:
    """Percentile bootstrap interval of every criterion: columns criterion, k, ci_low, ci_high
    (same rows as `compute_all`). Resamples giving NaN (e.g. a constant resample) are left out
    of the percentiles."""
    if not 0 < level < 1:
        raise BadParameter(f"confidence level must be in (0, 1), got {level}")
    if int(n_boot) < 1:
        raise BadParameter(f"number of bootstrap resamples must be >= 1, got {n_boot}")
    criteria = _check_criteria(criteria)
    values = bootstrap_values(pred, true, int(n_boot), seed, p_ks, br_ks, invalid, bin_width, criteria)
    m = prepare(pred, true, invalid)[0].size
    rows = [(c, k, *_percentiles(v, level)) for c, k, v in _rows(values, p_ks, br_ks, criteria)
            if _valid_k_mask(c, k, m)]
    return pd.DataFrame(rows, columns=["criterion", "k", "ci_low", "ci_high"])


# ---- differences between two estimators -------------------------------------------------------

def paired_difference(pred_a, pred_b, true, criterion: str = "kendall_tau_b", n_boot: int = 1000,
                      level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(criterion(a) - criterion(b), ci_low, ci_high): a paired percentile bootstrap over
    architectures. Both estimators are scored on the SAME resamples (same architectures drawn),
    so the interval is that of the difference, much narrower than two separate intervals when
    the estimators are correlated. Invalid scores rank worst (no dropping, so the pairing holds)."""
    if criterion not in PLAIN_CRITERIA:
        raise BadParameter(f"paired_difference takes a criterion without K, got {criterion!r}",
                           fix=f"use one of: {', '.join(PLAIN_CRITERIA)}")
    a, b, t = (np.asarray(v, dtype=float) for v in (pred_a, pred_b, true))
    if not (a.shape == b.shape == t.shape):
        raise BadParameter(f"paired_difference needs equal lengths, got {a.shape}, {b.shape}, {t.shape}")
    point = {"pearson": pearson, "kendall_tau_b": kendall_tau_b, "kendall_tau_a": kendall_tau_a,
             "spearman": spearman, "sparse_kendall_tau": sparse_kendall_tau}[criterion]
    delta = point(a, t) - point(b, t)
    va = bootstrap_values(a, t, n_boot, seed, criteria=[criterion])[criterion]
    vb = bootstrap_values(b, t, n_boot, seed, criteria=[criterion])[criterion]
    lo, hi = _percentiles(va - vb, level)
    return float(delta), lo, hi


def overall(crit, criterion: str = "kendall_tau_b"):
    """The rows of a tidy criteria table (`engines.evaluate.evaluate`) for one criterion that
    has no K (tau, Spearman, ...). Lives here so the analyses need no import from the engines."""
    return crit[(crit["criterion"] == criterion) & crit["k"].isna()]
