"""Which architectures a job covers: `all | deiso | sample:N | FILE` (one index per line)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.errors import BadParameter
from nas_core.space.features import flops_groups

ARCHS_HELP = "all | deiso | sample:N | FILE (one benchmark index per line)"


def select_archs(spec: str, truth: pd.DataFrame, seed: int = 0, n_groups: int = 5, bench=None) -> np.ndarray:
    """Benchmark indices (sorted) for a selection spec over a ground-truth frame.

    `sample:N` draws N de-isomorphic representatives that are worth evaluating (NB201: with a
    conv path), stratified over FLOPs quantile groups (equal share per group) with a seeded
    generator, so small samples still span the complexity range. `bench` (a
    `nas_core.benchmarks.Benchmark`; default NB201's cell space) decides validity and FLOPs.
    """
    spec = str(spec).strip()
    indices = truth["index"].to_numpy()
    if spec == "all":
        return np.sort(indices)
    if spec == "deiso":
        return np.sort(indices[truth["iso_representative"].to_numpy()])
    if spec.startswith("sample:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            raise BadParameter(f"bad architecture selection {spec!r}", fix=f"use {ARCHS_HELP}") from None
        return _stratified_sample(truth, n, seed, n_groups, bench)
    path = Path(spec)
    if not path.is_file():
        raise BadParameter(f"unknown architecture selection {spec!r} (and no such file)", fix=f"use {ARCHS_HELP}")
    if not path.read_text(errors="replace").strip():
        raise BadParameter(f"architecture file {path} is empty", where=str(path),
                           fix="put one benchmark index per line in it")
    try:
        chosen = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except ValueError as exc:
        raise BadParameter(f"{path}: expected one integer benchmark index per line ({exc})") from None
    unknown = np.setdiff1d(chosen, indices)
    if len(unknown):
        raise BadParameter(f"{path}: indices not in the benchmark: {unknown[:5].tolist()}",
                           fix=f"valid indices are {indices.min()}..{indices.max()}")
    return np.unique(chosen)


def _stratified_sample(truth: pd.DataFrame, n: int, seed: int, n_groups: int, bench=None) -> np.ndarray:
    if bench is None:
        from nas_core import benchmarks

        bench = benchmarks.get("nb201")
    pool = truth[truth["iso_representative"].to_numpy()]
    strs = pool["arch_str"].tolist()
    keep = bench.valid_mask(strs)
    pool = pool[keep]
    if not 0 < n <= len(pool):
        raise BadParameter(f"sample size {n} must be in 1..{len(pool)}")
    flops = bench.stratify_flops(pool["arch_str"].tolist())
    groups = flops_groups(flops, n_groups)
    rng = np.random.default_rng(seed)
    per_group = np.full(n_groups, n // n_groups)
    per_group[: n % n_groups] += 1
    chosen = []
    for g in range(n_groups):
        members = pool["index"].to_numpy()[groups == g]
        chosen.append(rng.choice(members, size=min(per_group[g], len(members)), replace=False))
    return np.sort(np.concatenate(chosen))
