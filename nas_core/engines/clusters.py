"""Dask clusters for the executor: a local one (one worker per GPU, or N CPU workers), SLURM
through dask-jobqueue, and the worker process settings both need."""
from __future__ import annotations

import os
import re
import sys
import warnings

from nas_core.errors import BadParameter

CLUSTER_HELP = "local, local:N (N worker processes on this machine), slurm or slurm:N (N SLURM jobs)"


def parse_cluster(text: str) -> tuple[str, int | None]:
    """'local' | 'local:N' | 'slurm' | 'slurm:N' -> (kind, N or None)."""
    m = re.fullmatch(r"(local|slurm)(?::([0-9]+))?", (text or "").strip())
    if not m or (m.group(2) is not None and int(m.group(2)) < 1):
        raise BadParameter(f"bad --cluster {text!r}", fix=f"use {CLUSTER_HELP}")
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# the nanny's default environment for worker processes, less MALLOC_TRIM_THRESHOLD_ (see untrimmed_malloc)
WORKER_ENV = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


def make_cluster(cluster: str, gpus: int, gpu_resources: bool):
    """A Dask cluster object for `--cluster` (the caller closes it)."""
    import dask

    kind, n = parse_cluster(cluster)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENV}), warnings.catch_warnings():
        # 8787 taken (another cluster): Dask picks another port; the run prints the one it got
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        if kind == "slurm":
            return _slurm_cluster(n or 1, gpu_resources)
        return _local_cluster(n, gpus, gpu_resources)


def _local_cluster(n: int | None, gpus: int, gpu_resources: bool):
    import logging

    from distributed import LocalCluster, Nanny, Scheduler, SpecCluster

    if not gpus:
        return LocalCluster(n_workers=n or _cpu_count(), threads_per_worker=1, processes=True,
                            silence_logs=logging.ERROR)
    n = n or gpus
    if n > gpus:
        raise BadParameter(f"--cluster local:{n} asks for more workers than GPUs ({gpus})",
                           fix=f"one worker per GPU: --cluster local:{gpus} (or local)")
    # one worker process per GPU, each seeing only its own device (as cuda:0)
    workers = {i: {"cls": Nanny, "options": {"nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": str(i)},
                                              "resources": {"GPU": 1} if gpu_resources else None,
                                              "silence_logs": logging.ERROR}}
               for i in range(n)}
    return SpecCluster(workers=workers, scheduler={"cls": Scheduler, "options": {"dashboard_address": ":8787"}},
                       silence_logs=logging.ERROR, name="nas-core")


def _slurm_cluster(n_jobs: int, gpu_resources: bool):
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise BadParameter("--cluster slurm needs dask-jobqueue, which is not installed",
                           fix="pip install 'nas-core[cluster]' (or: pip install dask-jobqueue)") from None
    kwargs: dict = {"processes": 1}
    if gpu_resources:  # one GPU per SLURM job; its worker declares it
        kwargs["job_extra_directives"] = ["--gres=gpu:1"]
        kwargs["worker_extra_args"] = ["--resources", "GPU=1"]
    try:
        cluster = SLURMCluster(**kwargs)
    except ValueError as exc:  # e.g. no cores / memory configured
        raise BadParameter(f"SLURMCluster: {exc}",
                           fix="set cores, memory, queue/account and walltime in ~/.config/dask/jobqueue.yaml "
                               "(section jobqueue: slurm:), see the README's SLURM recipe") from None
    cluster.scale(jobs=n_jobs)
    return cluster



_MALLOC_TUNED = False


def untrimmed_malloc() -> None:
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's
    mmap threshold at 128 KiB: every tensor above it is mmap'ed and unmapped again, and PyTorch's
    many small CPU tensors ran ~1.5x slower here (measured: one supernet training job, 8.5 s in
    a plain process, 13-19 s in a worker). Our own clusters start workers without it
    (`make_cluster`); a worker started by someone else's nanny gets large thresholds instead."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not os.environ.get("MALLOC_TRIM_THRESHOLD_") or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)   # M_MMAP_THRESHOLD (glibc's maximum on 64-bit)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass
