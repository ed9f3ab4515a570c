"""Architecture samplers for supernet training (docs/reproduction.md: one-shot estimators).

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
  without:OPS  op pruning: uniform over the cells using none of OPS ('+'-joined op names,
             e.g. without:avg_pool_3x3+nor_conv_1x1), i.e. training on the sub-space
  soft:W,K,T,P soft pruning: uniform (iso) for the first W epochs; then at the end of epoch W
             and every K epochs after, a fresh pool of P uniform cells is rescored by the
             training engine on one held-out batch and each step draws from that pool with
             probability softmax(OS acc / T); pool and probabilities are sampler state
"""
from __future__ import annotations

import numpy as np

from nas_core.errors import BadParameter
from nas_core.space import nb201

SAMPLER_HELP = "iso | deiso | fair | mc:S | without:OP+OP | soft:W,K,T,P"


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


class SoftPruningSampler(Sampler):
    """Soft pruning (see the module docstring). The engine asks `wants_rescore(epoch)` after
    each epoch, scores `draw_pool()` and hands the accuracies to `set_scores`."""

    def __init__(self, seed: int, warmup: int, every: int, temperature: float, pool_size: int):
        super().__init__(seed)
        self.warmup, self.every, self.temperature = warmup, every, temperature
        self.pool_size = min(pool_size, len(self.pool))
        self.candidates: np.ndarray | None = None
        self.probs: np.ndarray | None = None

    def wants_rescore(self, epoch: int) -> bool:
        return epoch >= self.warmup and (epoch - self.warmup) % self.every == 0

    def draw_pool(self) -> np.ndarray:
        return self.rng.choice(self.pool, size=self.pool_size, replace=False)

    def set_scores(self, kit_ids, accuracies) -> None:
        z = np.asarray(accuracies, dtype=np.float64) / self.temperature
        w = np.exp(z - z.max())  # max-shift: softmax without overflow
        self.candidates, self.probs = np.asarray(kit_ids, dtype=np.int64), w / w.sum()

    def step(self) -> list[tuple[int, ...]]:
        if self.candidates is None:
            return super().step()
        k = self.candidates[self.rng.choice(len(self.candidates), p=self.probs)]
        return [tuple(int(o) for o in nb201.all_ops()[k])]

    def state_dict(self) -> dict:
        return {**super().state_dict(), "candidates": self.candidates, "probs": self.probs}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.candidates, self.probs = state.get("candidates"), state.get("probs")


def ops_pruned_pool(removed) -> np.ndarray:
    """Kit ids of the cells that use none of the `removed` op names on any edge."""
    bad = [o for o in removed if o not in nb201.OPS]
    if bad or not removed:
        raise BadParameter(f"op pruning needs op names, got {list(removed)!r}", fix=f"choose from {nb201.OPS}")
    ids = [nb201.OPS.index(o) for o in removed]
    return np.flatnonzero(~np.isin(nb201.all_ops(), ids).any(axis=1))


def _soft_args(spec: str) -> tuple[int, int, float, int]:
    try:
        w, k, t, p = spec[5:].split(",")
        args = int(w), int(k), float(t), int(p)
    except ValueError:
        args = (0, 0, 0.0, 0)
    if args[0] < 0 or args[1] < 1 or not args[2] > 0 or args[3] < 2:
        raise BadParameter(f"bad sampler {spec!r}",
                           fix="soft:W,K,T,P needs warm-up epochs W >= 0, every K >= 1, temperature T > 0, "
                               "pool size P >= 2, e.g. soft:10,2,1.0,256")
    return args


def make_sampler(spec: str, seed: int, restrict_to: np.ndarray | None = None,
                 official_order: np.ndarray | None = None) -> Sampler:
    """`spec` in iso | deiso | fair | mc:S | without:OPS | soft:W,K,T,P; `restrict_to` (kit ids)
    overrides the pool. `official_order[i]` = kit id of official index i (deiso only; None: index
    = kit id, the mini benchmark)."""
    if restrict_to is not None:
        return Sampler(seed, pool=np.asarray(restrict_to))
    if spec.startswith("without:"):
        return Sampler(seed, pool=ops_pruned_pool(spec[8:].split("+")))
    if spec.startswith("soft:"):
        return SoftPruningSampler(seed, *_soft_args(spec))
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
