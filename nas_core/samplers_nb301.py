"""Architecture sampler for NAS-Bench-301 supernet training (docs/nb301.md: the sampler).

`UniformDartsSampler` draws one architecture per training step from its own numpy Generator:
uniform over the DARTS space (`nb301.draw`: per node two distinct inputs uniform among the
allowed ones, ops uniform), or uniform over a given pool of architectures (one-shot pruning:
fine-tuning inside the kept sub-space). Its generator state is saved in checkpoints, so a
resumed run draws exactly the architectures the uninterrupted run would have drawn. The DARTS
space has no `none` op, so unlike NB201 there is nothing to reject.
"""
from __future__ import annotations

import numpy as np

from nas_core.errors import BadParameter
from nas_core.space import nb301


class UniformDartsSampler:
    def __init__(self, seed: int, pool=None, per_step: int = 1):
        self.rng = np.random.default_rng(seed)
        self.pool = None if pool is None else [nb301.canonical(a) for a in pool]
        if self.pool is not None and not self.pool:
            raise BadParameter("the NB301 sampler's pool is empty", fix="give at least one architecture, or no pool")
        if int(per_step) < 1:
            raise BadParameter(f"per_step must be >= 1, got {per_step}")
        self.per_step = int(per_step)

    def step(self) -> list[nb301.Arch]:
        """The architectures of one training step (`per_step` of them, one by default)."""
        if self.pool is None:
            return [nb301.draw(self.rng) for _ in range(self.per_step)]
        return [self.pool[int(i)] for i in self.rng.integers(0, len(self.pool), size=self.per_step)]

    def state_dict(self) -> dict:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["bit_generator"]
