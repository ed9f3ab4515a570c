"""Architecture samplers for supernet training (STUDY.md, one-shot estimators).

Each sampler draws the architectures of ONE training step from its own numpy Generator,
whose state is saved in checkpoints (exact resume). Architectures with no conv on a live
input->output path are rejected and redrawn.

  iso        uniform over all 15,625 cells
  deiso      uniform over the 6,466 isomorphism-class representatives, each the member with
             the lowest official benchmark index (`nb201.class_representatives`, the rule the
             evaluation set uses too); `official_order` gives the benchmark's index order
  fair       FairNAS: S=5 archs per step, each edge takes a random permutation of the 5 ops,
             so every op trains exactly once per step (a group containing a rejected arch is
             redrawn whole, which keeps the once-per-step property)
  mc:S       S uniform archs per step on the same batch (gradients averaged per parameter)
  restricted uniform over a given list (one-shot pruning)
"""
from __future__ import annotations

import numpy as np

from nas_core.errors import BadParameter
from nas_core.space import nb201

SAMPLER_HELP = "iso | deiso | fair | mc:S"


class Sampler:
    def __init__(self, seed: int, pool: np.ndarray | None = None, per_step: int = 1):
        self.rng = np.random.default_rng(seed)
        table = nb201.space_table()
        ids = np.arange(nb201.N_ARCHS) if pool is None else np.asarray(pool)
        self.pool = ids[table.has_conv_path[ids]]  # rejection of conv-less archs, done once
        if len(self.pool) == 0:
            raise BadParameter("the sampler's pool has no architecture with a conv path")
        self.per_step = per_step

    def step(self) -> list[tuple[int, ...]]:
        kids = self.rng.choice(self.pool, size=self.per_step)
        return [tuple(int(o) for o in nb201.all_ops()[k]) for k in kids]

    def state_dict(self) -> dict:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


class FairSampler(Sampler):
    def __init__(self, seed: int):
        super().__init__(seed, per_step=nb201.N_OPS)

    def step(self) -> list[tuple[int, ...]]:
        valid = nb201.space_table().has_conv_path
        while True:
            perms = np.stack([self.rng.permutation(nb201.N_OPS) for _ in range(nb201.N_EDGES)], axis=1)
            if valid[nb201.kit_ids_of(perms)].all():
                return [tuple(int(o) for o in row) for row in perms]


def make_sampler(spec: str, seed: int, restrict_to: np.ndarray | None = None,
                 official_order: np.ndarray | None = None) -> Sampler:
    """`spec` in iso | deiso | fair | mc:S; `restrict_to` (kit ids) overrides the pool.
    `official_order[i]` = kit id of official index i (deiso only; None: index = kit id, the mini benchmark)."""
    if restrict_to is not None:
        return Sampler(seed, pool=np.asarray(restrict_to))
    if spec == "iso":
        return Sampler(seed)
    if spec == "deiso":
        return Sampler(seed, pool=nb201.representative_kit_ids(official_order))
    if spec == "fair":
        return FairSampler(seed)
    if spec.startswith("mc:"):
        try:
            s = int(spec[3:])
        except ValueError:
            s = 0
        if s < 1:
            raise BadParameter(f"bad sampler {spec!r}", fix="mc:S needs an integer S >= 1, e.g. mc:5")
        return Sampler(seed, per_step=s)
    raise BadParameter(f"unknown sampler {spec!r}", fix=f"use one of: {SAMPLER_HELP}")
