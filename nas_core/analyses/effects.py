"""When may a generated sentence state a direction? Only when the numbers carry it.

An `Effect` is a difference (e.g. τ of a variant minus τ of its baseline) with a 95 %
percentile interval from a paired bootstrap over architectures, and optionally the point
difference of every supernet seed. It has a direction only when

  * the interval excludes 0 (architectures), and
  * every seed's point difference has that same sign (seeds),

otherwise the sentence says that no effect is detectable at this profile and roughly how many
architectures would detect one of the observed size (interval half-widths shrink as 1/sqrt(n)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Effect:
    delta: float
    low: float
    high: float
    n: int                                   # architectures resampled
    seed_deltas: tuple = field(default=())   # point difference per supernet seed, if any
    withheld: str = ""                       # why no direction may be drawn at all (e.g. one-shot
                                             # estimator not informative at this profile)

    @property
    def direction(self) -> int:
        """+1 / -1 when the interval and every seed agree on the sign, else 0."""
        if self.withheld or not all(np.isfinite([self.delta, self.low, self.high])):
            return 0
        sign = 1 if self.low > 0 else -1 if self.high < 0 else 0
        if sign and self.seed_deltas and not all(np.sign(d) == sign for d in self.seed_deltas):
            return 0
        return sign

    def archs_to_detect(self) -> int | None:
        """Architectures at which an effect of this size would be expected to exclude 0."""
        half = (self.high - self.low) / 2
        if not (np.isfinite(half) and half > 0 and abs(self.delta) > 0 and self.n > 0):
            return None
        return int(math.ceil(self.n * (half / abs(self.delta)) ** 2))

    def interval_text(self, digits: int = 3) -> str:
        seeds = f", {len(self.seed_deltas)} seeds" if self.seed_deltas else ""
        return (f"Δ = {self.delta:+.{digits}f} [95 % CI {self.low:+.{digits}f}, {self.high:+.{digits}f}; "
                f"n = {self.n}{seeds}]")


def describe(effect: Effect, subject: str, *, up: str = "raises", down: str = "lowers",
             quantity: str = "τ", digits: int = 3) -> str:
    """'<subject> raises τ (Δ = ...)' or 'no effect of <subject> on τ is detectable ...'."""
    if not np.isfinite(effect.delta):
        return f"the effect of {subject} on {quantity} could not be computed"
    if effect.withheld:
        return (f"the effect of {subject} on {quantity} is not comparable at this profile ({effect.withheld}; "
                f"{effect.interval_text(digits)})")
    d = effect.direction
    if d:
        return f"{subject} {up if d > 0 else down} {quantity} ({effect.interval_text(digits)})"
    why = ""
    if effect.seed_deltas and np.isfinite(effect.low) and (effect.low > 0 or effect.high < 0):
        why = "; the supernet seeds disagree on its sign"
    need = effect.archs_to_detect()
    hint = (f"; an effect of this size would need about {need:,} architectures to detect" if need and need > effect.n
            else "")
    return (f"no effect of {subject} on {quantity} is detectable at this profile "
            f"({effect.interval_text(digits)}{why}{hint})")


def sign_word(effect: Effect, positive: str, negative: str, neutral: str) -> str:
    return {1: positive, -1: negative, 0: neutral}[effect.direction]


def tau_effect(score_a, score_b, truth, n_boot: int = 1000, seed_pairs=(), criterion: str = "kendall_tau_b",
               seed: int = 0) -> Effect:
    """Effect of using estimator a instead of b on a criterion (default Kendall's τ-b), both
    scored on the same architectures (aligned arrays). `seed_pairs`: optional (a_s, b_s) score
    arrays per supernet seed, whose point differences must share the sign of the effect."""
    from nas_core.criteria import kendall_tau_b, paired_difference

    delta, low, high = paired_difference(score_a, score_b, truth, criterion=criterion, n_boot=n_boot, seed=seed)
    seeds = tuple(float(kendall_tau_b(a, truth) - kendall_tau_b(b, truth)) for a, b in seed_pairs)
    return Effect(delta, low, high, n=len(np.asarray(truth)), seed_deltas=seeds)


def effect_between(a, b, truth, n_boot: int = 1000, seed_pairs=(), negate: bool = False) -> Effect:
    """τ(a) − τ(b) for two score Series indexed by architecture (aligned on their common
    architectures with the ground-truth Series). `negate` flips both (losses). `seed_pairs`:
    (a_s, b_s) Series per supernet seed."""
    import pandas as pd

    sign = -1.0 if negate else 1.0
    common = a.index.intersection(b.index).intersection(truth.index)
    pairs = [(sign * pa.reindex(common).to_numpy(float), sign * pb.reindex(common).to_numpy(float))
             for pa, pb in seed_pairs]
    if len(common) < 3:
        return Effect(float("nan"), float("nan"), float("nan"), n=len(common))
    return tau_effect(sign * pd.Series(a).reindex(common).to_numpy(float), sign * b.reindex(common).to_numpy(float),
                      truth.reindex(common).to_numpy(float), n_boot=n_boot, seed_pairs=pairs)


def mean_effect(values, level: float = 0.95) -> Effect:
    """Mean of independent values with a normal-approximation interval (mean ± z·sd/√n)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return Effect(float(v.mean()) if v.size else float("nan"), float("nan"), float("nan"), n=int(v.size))
    half = stats.norm.ppf(0.5 + level / 2) * v.std(ddof=1) / np.sqrt(v.size)
    return Effect(float(v.mean()), float(v.mean() - half), float(v.mean() + half), n=int(v.size))


def slope_effect(score, truth, groups, n_boot: int = 500, seed: int = 0, level: float = 0.95) -> Effect:
    """Slope (per group) of the mean ranking difference RD = (true rank − estimated rank) / M
    over complexity groups, with a bootstrap interval over architectures. Positive slope: the
    estimator over-rates the large groups and under-rates the small ones."""
    from nas_core.criteria import ranking_difference

    s, t, g = (np.asarray(v, dtype=float) for v in (score, truth, groups))
    m = len(s)

    def slope(idx):
        ss, tt, gg = s[idx], t[idx], g[idx]
        rd = ranking_difference(ss, tt, fraction=True)
        levels = np.unique(gg)
        if len(levels) < 2:
            return np.nan
        means = np.array([rd[gg == lv].mean() for lv in levels])
        return np.polyfit(levels, means, 1)[0]

    point = slope(np.arange(m))
    rng = np.random.default_rng(seed)
    boots = np.array([slope(rng.integers(0, m, m)) for _ in range(n_boot)])
    boots = boots[np.isfinite(boots)]
    lo, hi = (np.percentile(boots, [50 * (1 - level), 50 * (1 + level)]) if boots.size else (np.nan, np.nan))
    return Effect(float(point), float(lo), float(hi), n=m)


def top_bottom_effect(score, truth, k: float, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> Effect:
    """P@top K − P@bottom K of one estimator, with a bootstrap interval over architectures
    (both criteria on the same resamples). Positive: it finds good architectures more reliably
    than bad ones."""
    from nas_core.criteria import bootstrap_values, p_at_bottom, p_at_top

    s, t = np.asarray(score, dtype=float), np.asarray(truth, dtype=float)
    point = float(p_at_top(s, t, ks=(k,))[0] - p_at_bottom(s, t, ks=(k,))[0])
    v = bootstrap_values(s, t, n_boot, seed, p_ks=(k,), criteria=["p_at_top", "p_at_bottom"])
    diff = v["p_at_top"][0] - v["p_at_bottom"][0]
    diff = diff[np.isfinite(diff)]
    lo, hi = np.percentile(diff, [50 * (1 - level), 50 * (1 + level)]) if diff.size else (np.nan, np.nan)
    return Effect(point, float(lo), float(hi), n=len(s))


def withhold(effects: dict, reason: str, keys=("os_acc", "os_loss")) -> dict:
    """The same effects, those of `keys` marked as carrying no direction (with the reason)."""
    import dataclasses

    if not reason:
        return effects
    return {k: dataclasses.replace(e, withheld=reason) if k in keys else e for k, e in effects.items()}
