"""What the compute stage costs: per-job timings, per-kind rates, and wall time on P workers.

Executors record every job's seconds (`record_timings`) in the cache (`job_timings/`, a
ResultStore: concurrent runs append, nothing is overwritten). A kind's cost model is linear in
the job's work units (`jobs.Job.units`, `UNITS` below):

    seconds = a_kind + b_kind * units

fitted by non-negative least squares over the measured jobs of that kind (a: per-job start-up
-- rebuilding the study, loading images and checkpoints; b: seconds per unit). Units are forward
GFLOPs where the work is network passes, so a rate measured on a small profile extrapolates to
the paper profile's networks in proportion to their FLOPs (an approximation: small networks use
a device less efficiently than large ones, so CPU rates measured on tiny networks overestimate
the per-FLOP cost of large ones, and a GPU's rate depends on the batch filling it).

Wall time on P workers: list scheduling over the job graph (Graham 1966): whenever a worker is
free it takes, among the jobs whose dependencies are done, the one with the longest remaining
path to the end of the graph (its "bottom level", critical-path priority). The critical path
(the largest bottom level) bounds every P from below, total work / P too.
"""
from __future__ import annotations

import heapq
import os
import socket
import time
from dataclasses import replace

import numpy as np
import pandas as pd

KINDS = ("zeroshot", "supernet-train", "supernet-score", "diagnostics", "analysis", "collect")
UNITS = {
    "zeroshot": "GFLOP: network MFLOPs/image x images (batches x batch size), per arch and init seed",
    "supernet-train": "GFLOP: mean MFLOPs/image of a cell x archs per step x epochs x training images",
    "supernet-score": "GFLOP: MFLOPs/image x held-out images scored, per arch and checkpoint",
    "diagnostics": "GFLOP: checkpoints x diag archs x mean MFLOPs x (batch + 640 held-out images)",
    "analysis": "arch x bootstrap resample (criteria with intervals)",
    "collect": "rows read (arch x seed or arch x checkpoint)",
}
# Prior rates (a seconds per job, b seconds per unit), used to order and weigh jobs until this
# machine has measured its own: fitted by `fit_rates` on a serial smoke run (mini benchmark,
# 2-core CPU, one thread per job). Only priorities and the progress bar's ETA use them.
PRIOR_RATES = {
    "zeroshot": (0.5, 0.02),
    "supernet-train": (1.0, 0.004),
    "supernet-score": (0.3, 0.002),
    "diagnostics": (0.5, 0.01),
    "analysis": (0.5, 1e-4),
    "collect": (0.1, 1e-4),
}
TIMINGS_KIND = "job_timings"
TIMINGS_CONFIG = {"engine": "job-timings-v1"}


# ---- estimates -----------------------------------------------------------------------------------

def estimate(job, rates: dict) -> float:
    a, b = rates.get(job.kind, PRIOR_RATES.get(job.kind, (1.0, 0.0)))
    return float(a + b * job.units)


def with_costs(jobs: list, rates: dict | None = None) -> list:
    """The jobs with `est_cost` = the kind's rate model applied to their units."""
    rates = {**PRIOR_RATES, **(rates or {})}
    return [replace(j, est_cost=estimate(j, rates)) for j in jobs]


def bottom_levels(jobs: list) -> dict[str, float]:
    """{job id: its cost + the longest chain of costs after it} (critical-path priority)."""
    children: dict[str, list[str]] = {j.id: [] for j in jobs}
    for j in jobs:
        for d in j.deps:
            children[d].append(j.id)
    cost = {j.id: float(j.est_cost or 0.0) for j in jobs}
    level: dict[str, float] = {}
    for j in reversed(jobs):  # jobs come dependencies first
        level[j.id] = cost[j.id] + max((level[c] for c in children[j.id]), default=0.0)
    return level


def critical_path(jobs: list) -> float:
    return max(bottom_levels(jobs).values(), default=0.0)


def list_schedule(jobs: list, workers: int) -> float:
    """Makespan (s) of critical-path list scheduling of `jobs` on `workers` identical workers."""
    if workers < 1:
        raise ValueError("workers must be >= 1")
    level = bottom_levels(jobs)
    by_id = {j.id: j for j in jobs}
    waiting = {j.id: len(set(j.deps)) for j in jobs}
    children: dict[str, list[str]] = {j.id: [] for j in jobs}
    for j in jobs:
        for d in set(j.deps):
            children[d].append(j.id)
    ready = [(-level[i], i) for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now, free = 0.0, workers
    while ready or running:
        while ready and free:
            _, i = heapq.heappop(ready)
            heapq.heappush(running, (now + float(by_id[i].est_cost or 0.0), i))
            free -= 1
        now, i = heapq.heappop(running)
        free += 1
        for c in children[i]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (-level[c], c))
    return now


def projection(jobs: list, workers=(1, 4, 32)) -> dict:
    """Total work, the critical path and the list-scheduled wall time per worker count (s)."""
    total = sum(float(j.est_cost or 0.0) for j in jobs)
    return {"jobs": len(jobs), "total_s": total,
            "device_s": sum(float(j.est_cost or 0.0) for j in jobs if j.gpu),
            "critical_path_s": critical_path(jobs),
            "wall_s": {int(p): list_schedule(jobs, int(p)) for p in workers}}


# ---- measurements --------------------------------------------------------------------------------

def record_timings(rows: list[dict]) -> None:
    """Append one run's job timings to the cache (`job_timings/`)."""
    if not rows:
        return
    from nas_core.cache import ResultStore

    store = ResultStore(TIMINGS_KIND, TIMINGS_CONFIG, unique=["run_id", "job"])
    store.append(pd.DataFrame(rows))


def timing_row(run_id: str, job, seconds: float, status: str, study_spec: dict, executor: str,
               workers: int, host: str | None = None, gpu_name: str = "") -> dict:
    return {"run_id": run_id, "job": job.id, "kind": job.kind, "label": job.label, "units": float(job.units),
            "seconds": float(seconds), "status": status, "profile": study_spec["profile"],
            "benchmark": study_spec.get("benchmark") or ("nb201" if study_spec.get("data_root") else "mini"),
            "device": str(study_spec["device"]).split(":")[0], "gpu_name": gpu_name, "executor": executor,
            "workers": int(workers), "host": host or socket.gethostname(), "pid": os.getpid(),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S")}


def read_timings() -> pd.DataFrame:
    from nas_core.cache import ResultStore

    return ResultStore(TIMINGS_KIND, TIMINGS_CONFIG, unique=["run_id", "job"]).read()


def measured_jobs(timings: pd.DataFrame, device: str | None = None) -> pd.DataFrame:
    """One row per (profile, benchmark, device, job): its longest finished run. A rerun that
    found its results cached takes a fraction of a second; the longest run is the computing one."""
    if timings.empty:
        return timings
    t = timings[timings["status"] == "done"]
    if device:
        t = t[t["device"] == device]
    keys = ["profile", "benchmark", "device", "job"]
    return t.sort_values("seconds").groupby(keys, as_index=False).last()


def fit_rates(measured: pd.DataFrame) -> dict:
    """{kind: (a, b)}: seconds = a + b * units, non-negative least squares per kind (a ratio
    through the origin when the kind's jobs all have the same units)."""
    from scipy.optimize import nnls

    rates = {}
    for kind, d in measured.groupby("kind"):
        units, secs = d["units"].to_numpy(float), d["seconds"].to_numpy(float)
        if len(d) >= 2 and np.ptp(units) > 0:
            (a, b), _ = nnls(np.column_stack([np.ones_like(units), units]), secs)
        else:
            a, b = 0.0, float(secs.sum() / units.sum()) if units.sum() > 0 else 0.0
            if b == 0.0:
                a = float(secs.mean())
        rates[kind] = (float(a), float(b))
    return rates
