"""The zero-shot scoring engine: architectures x init seeds x fixed batches x proxies.

For each (architecture, seed) the network is built from the seed (PyTorch default init,
`nas_core.nets.network.init_seeded`) or by a caller's `make_network` (e.g. the trained
supernet restricted to the architecture, RQ4). For each batch ONE shared pass computes every
requested network proxy (`nas_core.proxies.api.score_detailed`, the function behind the public
`nas_core.score`); synflow has its own float64 pass.
Results go to a `ResultStore` keyed by the full configuration, one part per chunk of
architectures, so an interrupted sweep resumes where it stopped. A proxy that fails
numerically is recorded as NaN with its reason, never stopping the sweep.

`seconds` of a proxy = its share of the shared pass (pass time / proxies using it) plus its
own reduction time.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import pandas as pd
import torch

from nas_core import proxies as registry
from nas_core.cache import ResultStore
from nas_core.config import progress_bar, show_progress
from nas_core.data.images import normalise, train_heldout
from nas_core.errors import BadParameter
from nas_core.proxies.api import score_detailed

INPUT_MODES = ("real", "noise", "ones")
COLUMNS = ["index", "arch_str", "seed", "batch", "proxy", "value", "seconds", "reason"]


def input_batches(dataset: str, data_root, batches: int, batch_size: int, input_mode: str,
                  split_seed: int = 0, device: str = "cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The fixed held-out batches every architecture sees (same images, same order)."""
    if input_mode not in INPUT_MODES:
        raise BadParameter(f"unknown input mode {input_mode!r}", fix=f"use one of: {', '.join(INPUT_MODES)}")
    _, held = train_heldout(dataset, data_root, seed=split_seed, max_heldout=batches * batch_size)
    if len(held) < batches * batch_size:
        raise BadParameter(f"{batches} batches of {batch_size} need {batches * batch_size} held-out images; "
                           f"only {len(held)} exist")
    x = normalise(held.images.to(device), dataset)
    y = held.labels.to(device)
    if input_mode == "noise":
        gen = torch.Generator().manual_seed(split_seed + 12345)
        x = torch.randn(x.shape, generator=gen).to(device)
    elif input_mode == "ones":
        x = torch.ones_like(x)
    return [(x[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]) for b in range(batches)]


def score_network(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, names: list[str],
                  context: dict | None = None) -> dict[str, tuple[float, float, str]]:
    """{proxy: (value, seconds, reason)} for one network and one batch, sharing passes: the
    public `nas_core.score` (`nas_core.proxies.api`), the rank aggregates (vote, az_nas) left
    to the caller."""
    return score_detailed(net, x, y, [n for n in names if n not in registry.RANK_AGGREGATES], context)


def run_zero_shot(indices, arch_strs, proxies, seeds=(20, 2020, 202020), batches: int = 1,
                  batch_size: int = 128, input_mode: str = "real", device: str = "cpu",
                  dataset: str | None = None, data_root=None, C: int | None = None, N: int | None = None,
                  make_network: Callable | None = None, network_tag: str = "random-init",
                  split_seed: int = 0, chunk: int = 25, progress: bool = True,
                  stop_after: int | None = None, save_seconds: float = 60.0, workers: int | None = None,
                  benchmark: str = "nb201", only_seeds=None, _retry: bool = False) -> pd.DataFrame:
    """Tidy scores for every (arch, seed, batch, proxy), computed once and cached.

    `benchmark` (nas_core.benchmarks) parses the architecture strings and builds the networks;
    C/N None = the benchmark's own network (NB201 C16/N5). The complexity baselines (params,
    flops) describe the architecture as its ground truth trained it -- the benchmark's own
    network -- not the possibly smaller network the proxies run on. `dataset` (default: the
    benchmark's) names the images; `data_root` (default: the configured one) is used, never
    part of the cache key, so moving the data folder keeps the cache.

    `make_network(arch, seed) -> nn.Module` replaces the random init; `network_tag` names it in
    the cache key. `stop_after` (testing) interrupts after that many new architectures.
    Progress is saved every `chunk` architectures or `save_seconds`, whichever comes first, so
    a kill loses at most that much work. Several processes may sweep overlapping sets into
    the same cache at once: each result is kept once (`ResultStore(unique=...)`).

    `workers`: on CPU, architectures are scored by that many single-threaded worker processes
    (one architecture per process at a time; measured faster than threads within one
    architecture, see benchmarks/bench_zeroshot.py --sweep); the results are the same and this
    process alone writes the store. None = one per CPU core when the sweep has at least
    `MIN_ARCHS_PER_WORKER` architectures per core on CPU, else 1 (serial, in this process).
    On a GPU, `workers` > 1 processes share the device and overlap architectures (asked for
    explicitly: how many pay depends on the network and the card; benchmarks/gpu_check.py).

    `only_seeds`: compute (and return) only these of `seeds` -- one share of the sweep for a
    parallel executor (engines/jobs.py). The cache key stays that of the whole `seeds`, so the
    shares land in the same store and the full call afterwards only reads. Work is tracked per
    (architecture, seed).
    """
    from nas_core import benchmarks
    from nas_core.config import data_root as configured_root

    bench = benchmarks.get(benchmark)
    dataset = dataset or bench.images.dataset
    C, N = C or bench.network_size[0], N or bench.network_size[1]
    indices = [int(i) for i in indices]
    arch_strs = list(arch_strs)
    if len(indices) != len(arch_strs):
        raise BadParameter("indices and arch_strs must have the same length")
    names = list(dict.fromkeys(proxies))
    registry.get([n for n in names if n not in registry.RANK_AGGREGATES])  # fail early on an unknown proxy
    wanted = [int(s) for s in seeds] if only_seeds is None else [int(s) for s in only_seeds]
    if not set(wanted) <= {int(s) for s in seeds}:
        raise BadParameter(f"only_seeds {wanted} must be among the sweep's seeds {list(seeds)}")
    config = {"engine": "zeroshot-v3", "benchmark": bench.name, "dataset": dataset, "proxies": sorted(names),
              "seeds": [int(s) for s in seeds], "batches": int(batches), "batch_size": int(batch_size),
              "input_mode": input_mode, "C": C, "N": N, "network": network_tag, "split_seed": split_seed,
              "torch": torch.__version__.split("+")[0]}
    store = ResultStore("zeroshot", config, unique=["index", "seed", "batch", "proxy"])
    done = store.done_keys(["index", "seed"])
    todo = [(i, a, missing) for i, a in zip(indices, arch_strs)
            if (missing := tuple(s for s in wanted if (i, s) not in done))]
    if todo:
        data = input_batches(dataset, configured_root(data_root), batches, batch_size, input_mode, split_seed, device)
        bar = progress_bar(progress, total=len(todo), desc=f"zero-shot ({input_mode}, {network_tag})", unit="arch")
        rows, new, saved_at = [], 0, time.monotonic()
        # the network's input/output follow the images actually fed (a dataset override included)
        channels = int(data[0][0].shape[1])
        classes = {"cifar100": 100, "imagenet16": 120}.get(dataset, 10)
        job = _Job(names, tuple(int(s) for s in seeds), data, bench.name, C, N, channels, classes, device,
                   make_network)
        n_workers = _workers(workers, len(todo), device, make_network)
        for index, _, arch_rows in _scored(job, todo, n_workers):
            rows.extend(arch_rows)
            new += 1
            bar.update(1)
            if new % chunk == 0 or time.monotonic() - saved_at >= save_seconds:
                store.append(pd.DataFrame(rows, columns=COLUMNS))
                rows, saved_at = [], time.monotonic()
            if stop_after is not None and new >= stop_after:
                if rows:
                    store.append(pd.DataFrame(rows, columns=COLUMNS))
                bar.close()
                raise KeyboardInterrupt(f"stopped after {new} architectures (stop_after)")
        if rows:
            store.append(pd.DataFrame(rows, columns=COLUMNS))
        bar.close()
    frame = store.read()
    if len(frame):
        frame = frame[frame["index"].isin(indices) & frame["seed"].isin(wanted)]
        frame = frame.sort_values(["index", "seed", "batch", "proxy"], ignore_index=True)
    got = set(zip(frame["index"].tolist(), frame["seed"].tolist())) if len(frame) else set()
    missing = sorted({(i, s) for i in indices for s in wanted} - got)
    if missing:  # e.g. a part moved aside by a concurrent reader after it was counted as done
        if _retry:
            raise RuntimeError(f"zero-shot cache {store.path} still lacks {len(missing)} (architecture, seed) pair(s)")
        return run_zero_shot(indices, arch_strs, proxies, seeds, batches, batch_size, input_mode, device, dataset,
                             data_root, C, N, make_network, network_tag, split_seed, chunk, progress, None,
                             save_seconds, workers, benchmark, only_seeds, _retry=True)
    failed = frame["value"].isna().sum()
    if failed and show_progress(progress):  # a log line, not a result: kept out of notebooks
        print(f"[zero-shot] {failed} NaN score(s): " + "; ".join(
            f"{p}: {n}" for p, n in frame[frame['value'].isna()].groupby("proxy").size().items()))
    return frame


MIN_ARCHS_PER_WORKER = 8  # below this a worker's start-up (import torch, ~2 s) outweighs its gain


@dataclasses.dataclass
class _Job:
    """Everything a worker needs to score an architecture (sent once per worker)."""
    names: list
    seeds: tuple
    data: list
    benchmark: str
    C: int
    N: int
    channels: int
    classes: int
    device: str
    make_network: Callable | None


def _score_arch(job: _Job, index: int, arch_str: str, seeds=None) -> list[tuple]:
    """Rows of one architecture for `seeds` (default: all of the job's)."""
    from nas_core import benchmarks

    bench = benchmarks.get(job.benchmark)
    arch = bench.parse(arch_str)
    p_m, f_m = bench.params_flops([arch_str])
    ctx = {"params_M": float(p_m[0]), "flops_M": float(f_m[0])}
    rows = []
    for seed in (job.seeds if seeds is None else seeds):
        net = (job.make_network(arch, seed) if job.make_network else
               bench.network(arch, seed, C=job.C, N=job.N, in_channels=job.channels,
                             num_classes=job.classes)).to(job.device)
        for b, (x, y) in enumerate(job.data):
            # the seed also seeds the draws of proxies with their own random inputs or weights
            for name, (value, secs, reason) in score_network(net, x, y, job.names, {**ctx, "seed": int(seed)}).items():
                rows.append((index, arch_str, int(seed), b, name, value, secs, reason))
    return rows


def _workers(workers: int | None, todo: int, device: str, make_network) -> int:
    if workers is not None:
        if not isinstance(workers, int) or workers < 1:
            raise BadParameter(f"workers must be a positive integer or None, got {workers!r}")
        if workers > 1 and make_network is not None:
            import pickle

            try:
                pickle.dumps(make_network)
            except Exception as exc:  # any pickling failure means: cannot ship it
                raise BadParameter("make_network cannot be sent to worker processes (not picklable)",
                                   fix="pass a module-level function, or workers=1") from exc
        return workers
    if not str(device).startswith("cpu") or make_network is not None or not _main_is_importable():
        return 1
    import multiprocessing

    if multiprocessing.current_process().daemon:  # a pool or cluster worker may not start children
        return 1
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, todo // MIN_ARCHS_PER_WORKER))


def _main_is_importable() -> bool:
    """Spawned workers re-import the main script: safe in a notebook or an interactive session
    (no file) and in a script whose top level is guarded by `if __name__ == "__main__"`; an
    unguarded script would run again in every worker, so the default stays serial there."""
    import sys

    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if path is None:
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    return "__name__" in text and "__main__" in text


_WORKER_JOB: _Job | None = None


def _worker_init(job: _Job) -> None:
    global _WORKER_JOB
    torch.set_num_threads(1)  # one architecture per core: no oversubscription
    if not str(job.device).startswith("cpu"):  # the batches travel on the host, then live on the device
        job = dataclasses.replace(job, data=[(x.to(job.device), y.to(job.device)) for x, y in job.data])
    _WORKER_JOB = job


def _worker_score(index: int, arch: str, seeds=None) -> tuple[int, str, list[tuple]]:
    return index, arch, _score_arch(_WORKER_JOB, index, arch, seeds)


def _scored(job: _Job, todo: list[tuple], workers: int):
    """(index, arch, rows) for every architecture to do, in order; `todo` holds (index, arch)
    or (index, arch, seeds) items (seeds: the ones still missing; default all of the job's)."""
    todo = [(t[0], t[1], t[2] if len(t) > 2 else None) for t in todo]
    if workers <= 1:
        for index, arch, seeds in todo:
            yield index, arch, _score_arch(job, index, arch, seeds)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter per worker (fork after torch has started threads can hang).
    # On a GPU several workers share the device and overlap architectures: each launches its
    # own kernels, which a small network's launch-bound pass needs (benchmarks/gpu_check.py).
    sent = dataclasses.replace(job, data=[(x.cpu(), y.cpu()) for x, y in job.data])
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(sent,))
    try:
        yield from pool.map(_worker_score, *zip(*todo))
    finally:  # an interrupted sweep (stop_after, Ctrl-C) drops the queued architectures
        pool.shutdown(wait=True, cancel_futures=True)


def to_wide(tidy: pd.DataFrame, batches: int | None = None) -> pd.DataFrame:
    """index + one column per proxy: the kit's one long-to-wide rule (an invalid value is never
    averaged away; `nas_core.engines.evaluate.long_to_wide`)."""
    from nas_core.engines.evaluate import long_to_wide

    return long_to_wide(tidy, batches)


def summary(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per proxy: mean seconds per (arch, seed, batch), NaN count and the reasons."""
    g = tidy.groupby("proxy")
    return pd.DataFrame({"seconds_per_eval": g["seconds"].mean(), "n": g.size(),
                         "n_nan": g["value"].apply(lambda v: int(v.isna().sum())),
                         "reasons": g["reason"].apply(lambda r: "; ".join(sorted(set(x for x in r if x))))}).reset_index()
