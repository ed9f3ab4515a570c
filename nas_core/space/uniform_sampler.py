"""Uniform architecture samplers for the NB101 sub-space-3 and NDS supernets (the NB201
samplers are in nas_core.samplers). Same interface: `step()` returns the architectures of one
training step, drawn from the sampler's own numpy Generator, whose state `state_dict()` /
`load_state_dict()` save and restore (exact resume)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from nas_core.errors import BadParameter


class UniformSampler:
    def __init__(self, draw: Callable[[np.random.Generator], object], seed: int, per_step: int = 1):
        if per_step < 1:
            raise BadParameter(f"per_step must be >= 1, got {per_step}")
        self.draw = draw
        self.rng = np.random.default_rng(seed)
        self.per_step = per_step

    def step(self) -> list:
        return [self.draw(self.rng) for _ in range(self.per_step)]

    def state_dict(self) -> dict:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


def subspace3_sampler(seed: int, per_step: int = 1, canonical: bool = False) -> UniformSampler:
    """Uniform over sub-space-3 configurations (each node's parents and each block's op uniform,
    as NAS-Bench-1shot1 samples). `canonical=True` maps each draw to the canonical
    configuration of its NB101 cell (`nb1shot1.embed`), the paths on which cells are scored."""
    from nas_core.space import nb1shot1

    def draw(rng):
        arch = nb1shot1.random_arch(rng)
        return nb1shot1.embed(nb1shot1.to_cell(arch)) if canonical else arch

    return UniformSampler(draw, seed, per_step)


def nds_sampler(space: str, seed: int, per_step: int = 1, choices: dict | None = None) -> UniformSampler:
    """Uniform over an NDS design space (every per-stage choice uniform and independent).
    `choices` ({"ds": (...), "ws": (...), ...}) restricts some choice lists, e.g. to the range
    of a smaller supernet; its values must belong to the space."""
    from nas_core.space import nds

    sp = nds.get_space(space)
    lists = dict(sp.choices())
    for key, values in (choices or {}).items():
        if key not in lists or not values or not set(values) <= set(lists[key]):
            raise BadParameter(f"bad choice list {key}={values!r} for NDS {sp.label}",
                               fix=f"keys {', '.join(lists)}; values among the space's own")
        lists[key] = tuple(values)

    def draw(rng):
        picks = {k: tuple(v[int(i)] for i in rng.integers(0, len(v), size=nds.N_STAGES))
                 for k, v in lists.items()}
        return nds.NDSArch(sp.name, picks["ds"], picks["ws"], picks.get("bms", ()), picks.get("gs", ()))

    return UniformSampler(draw, seed, per_step)


def pool_sampler(pool, seed: int, per_step: int = 1) -> UniformSampler:
    """Uniform over a given list of architectures (one-shot pruning: fine-tuning inside the kept
    sub-space)."""
    pool = list(pool)
    if not pool:
        raise BadParameter("the sampler's pool is empty", fix="give at least one architecture, or no pool")
    return UniformSampler(lambda rng: pool[int(rng.integers(len(pool)))], seed, per_step)
