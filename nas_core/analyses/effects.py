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

    @property
    def direction(self) -> int:
        """+1 / -1 when the interval and every seed agree on the sign, else 0."""
        if not all(np.isfinite([self.delta, self.low, self.high])):
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
