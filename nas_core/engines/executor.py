"""Run the compute stage's jobs (engines/jobs.py): in this process, or as Dask tasks.

Both executors run every job the same way (`run_logged`): with the same number of torch CPU
threads (`job_threads`, default 1: results depend on it), its output in a log file in the
cache (`job_logs/<study>/<job id>.log`), its results in the cache's usual keys (atomic
writes; readers keep one row per result), its seconds in the cache's `job_timings/`
(engines/costmodel.py). So a serial run and a Dask run write identical results. One progress bar covers the whole run (jobs done / running / failed,
ETA from the jobs' estimated costs). A failing job is reported with its id, label,
configuration, error line and log; the jobs that depend on it are skipped, the others go on,
and the run ends with a summary.

Dask (clusters: engines/clusters.py): each job is a task depending on its jobs' tasks. Jobs that use the device ask for a
`GPU` resource when the device is CUDA (workers declare theirs: `dask worker ADDRESS
--nthreads 1 --resources GPU=1`, one worker per GPU); the others ask for nothing. A worker lost
while running a task (killed, preempted) costs that task only: the scheduler runs it again
elsewhere (up to `distributed.scheduler.allowed-failures` times), and the engines resume from
what the lost attempt saved (zero-shot parts, supernet checkpoints).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from nas_core.engines.clusters import make_cluster, parse_cluster, untrimmed_malloc
from nas_core.errors import BadParameter, KitError

class JobFailed(Exception):
    """A job raised: args = (error line, log path). Plain strings, so it pickles across workers."""

    def __str__(self) -> str:
        return self.args[0]


# ---- one job, anywhere -----------------------------------------------------------------------------

_STUDIES: dict[str, object] = {}


def _study_for(spec: dict):
    """The study of `spec`, built once per process (a worker runs many jobs of one study)."""
    key = json.dumps(spec, sort_keys=True)
    if key not in _STUDIES:
        from nas_core.engines.study import Study

        _STUDIES[key] = Study(**spec)
    return _STUDIES[key]


def log_path(spec: dict, job_id: str) -> Path:
    from nas_core.config import cache_dir

    study = f"{spec['profile']}-{spec.get('benchmark') or ('nb201' if spec.get('data_root') else 'mini')}"
    return cache_dir() / "job_logs" / study / (re.sub(r"[^A-Za-z0-9_.+,=-]", "_", job_id) + ".log")


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, KitError):  # what went wrong, where, how to fix it: one line
        return "; ".join(line.strip() for line in exc.message().splitlines())
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def job_threads() -> int:
    """torch CPU threads per job: $NAS_CORE_TORCH_THREADS, default 1. The same in every
    executor: PyTorch's CPU kernels sum in an order that depends on the thread count, so a
    supernet trained with 2 threads differs from one trained with 1 (tests/test_executor.py)."""
    raw = os.environ.get("NAS_CORE_TORCH_THREADS", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise BadParameter(f"NAS_CORE_TORCH_THREADS={raw!r}", fix="a positive integer (default 1)")
    return int(raw)


def run_logged(study, spec: dict, job) -> dict:
    """Run `job` with its output in its log file and `job_threads()` torch threads;
    {"seconds", "gpu_name"}. JobFailed if it raises."""
    from nas_core.config import torch_threads
    from nas_core.engines.jobs import run_job

    log = log_path(spec, job.id)
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with torch_threads(job_threads()), open(log, "w", encoding="utf-8") as fh, \
            contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        print(f"[job] {job.id}: {job.label}\n[job] config: {job.config}", flush=True)
        try:
            run_job(study, job)
        except Exception as exc:  # noqa: BLE001 - reported with its job, never a traceback wall
            traceback.print_exc(file=fh)
            raise JobFailed(_error_line(exc), str(log)) from None
    return {"seconds": time.perf_counter() - t0, "gpu_name": _gpu_name(study.device)}


def _gpu_name(device: str) -> str:
    if not str(device).startswith("cuda"):
        return ""
    import torch

    return torch.cuda.get_device_name(torch.device(device))


_ONE_AT_A_TIME = threading.Lock()  # a worker started with --nthreads > 1 still runs one job at a time


def _task(spec: dict, env: dict, job, *dependencies) -> dict:
    """A Dask task: rebuild the study in this worker and run the job. `dependencies` are the
    results of the tasks it waits for (unused: they only order the graph)."""
    os.environ.update(env)
    untrimmed_malloc()
    import torch

    if str(spec["device"]).startswith("cuda") and not job.gpu and not torch.cuda.is_available():
        spec = {**spec, "device": "cpu"}  # a CPU-only job on a worker without a GPU
    with _ONE_AT_A_TIME:  # a job owns its process's stdout, stderr and torch threads
        out = run_logged(_study_for(spec), spec, job)
    import socket

    return {**out, "host": socket.gethostname()}


# ---- the run's bookkeeping ---------------------------------------------------------------------------

@dataclass
class RunSummary:
    executor: str
    workers: int
    jobs: list
    done: dict = field(default_factory=dict)      # id -> seconds
    failed: dict = field(default_factory=dict)    # id -> (error line, log)
    skipped: list = field(default_factory=list)   # ids whose dependencies failed
    wall_s: float = 0.0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted and len(self.done) == len(self.jobs)

    def text(self) -> str:
        lines = [f"[compute] {len(self.done)} of {len(self.jobs)} jobs done in {self.wall_s:.1f} s "
                 f"({self.executor}, {self.workers} worker{'s' if self.workers != 1 else ''})"
                 + (f"; {len(self.failed)} failed" if self.failed else "")
                 + (f", {len(self.skipped)} skipped (a job they need failed)" if self.skipped else "")
                 + ("; interrupted" if self.interrupted else "")]
        by_id = {j.id: j for j in self.jobs}
        for i, (err, log) in self.failed.items():
            lines.append(f"  FAILED {i} ({by_id[i].label}): {err}\n         log: {log}")
        if self.skipped:
            shown = ", ".join(self.skipped[:8]) + (f" ... (+{len(self.skipped) - 8})" if len(self.skipped) > 8 else "")
            lines.append(f"  skipped: {shown}")
        return "\n".join(lines)


def failure_report(job, err: str, log: str) -> str:
    config = ", ".join(f"{k}={v}" for k, v in job.config.items())
    return f"[compute] FAILED {job.id} ({job.label})\n  config: {config}\n  error: {err}\n  log: {log}"


class _Progress:
    """One bar for the whole run: weighted by the jobs' estimated costs, so its ETA is the
    remaining estimated work at the rate observed so far."""

    def __init__(self, jobs, enabled: bool, desc: str):
        from nas_core.config import progress_bar

        self.n, self.desc = len(jobs), desc
        self.cost = {j.id: max(float(j.est_cost or 0.0), 1e-3) for j in jobs}
        self.bar = progress_bar(enabled, total=sum(self.cost.values()), desc=desc,
                                bar_format="{desc} {percentage:3.0f}%|{bar:24}| [{elapsed}<{remaining}]",
                                mininterval=0.5, file=sys.stderr)
        self.done = self.failed = self.running = 0
        self._show()

    def _show(self):
        self.bar.set_description_str(f"{self.desc} done {self.done}/{self.n}, running {self.running}, "
                                     f"failed {self.failed}", refresh=True)

    def finished(self, job_id: str, ok: bool):
        self.done += ok
        self.failed += not ok
        self.bar.update(min(self.cost[job_id], max(self.bar.total - self.bar.n, 0.0)))  # no float overshoot
        self._show()

    def set_running(self, n: int):
        if n != self.running:
            self.running = n
            self._show()

    def write(self, text: str):
        self.bar.write(text, file=sys.stderr) if not self.bar.disable else print(text, file=sys.stderr)

    def close(self):
        self.running = 0
        self._show()
        self.bar.close()


def _descendants(jobs, roots) -> list[str]:
    out, bad = [], set(roots)
    for j in jobs:
        if j.id not in bad and bad & set(j.deps):
            bad.add(j.id)
            out.append(j.id)
    return out


def _record(summary: RunSummary, spec: dict, run_id: str, extra: dict) -> None:
    from nas_core.engines.costmodel import record_timings, timing_row

    by_id = {j.id: j for j in summary.jobs}
    rows = [timing_row(run_id, by_id[i], s, "done", spec, summary.executor, summary.workers,
                       host=extra.get(i, {}).get("host"), gpu_name=extra.get(i, {}).get("gpu_name", ""))
            for i, s in summary.done.items()]
    rows += [timing_row(run_id, by_id[i], float("nan"), "failed", spec, summary.executor, summary.workers)
             for i in summary.failed]
    record_timings(rows)


# ---- serial ----------------------------------------------------------------------------------------

def run_serial(jobs: list, study, progress: bool = True, record: bool = True) -> RunSummary:
    """Every job in this process, in order (dependencies come first); a failed job's dependants
    are skipped."""
    from nas_core.engines.jobs import study_spec

    spec = study_spec(study)
    summary, extra = RunSummary("serial", 1, list(jobs)), {}
    bar = _Progress(jobs, progress, "[compute serial]")
    blocked: set[str] = set()
    t0 = time.perf_counter()
    try:
        for job in jobs:
            if blocked & set(job.deps):
                blocked.add(job.id)
                summary.skipped.append(job.id)
                bar.finished(job.id, False)
                continue
            bar.set_running(1)
            try:
                out = run_logged(study, spec, job)
            except JobFailed as exc:
                summary.failed[job.id] = exc.args
                blocked.add(job.id)
                bar.write(failure_report(job, *exc.args))
                bar.finished(job.id, False)
                continue
            summary.done[job.id] = out["seconds"]
            extra[job.id] = out
            bar.finished(job.id, True)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
        summary.wall_s = time.perf_counter() - t0
        if record:
            _record(summary, spec, uuid.uuid4().hex[:12], extra)
    return summary


# ---- Dask --------------------------------------------------------------------------------------------

def _dashboard(client) -> str:
    import importlib.util

    if "dashboard" not in client.scheduler_info().get("services", {}):
        return "no dashboard"
    if importlib.util.find_spec("bokeh") is None:  # the scheduler serves the pages only with bokeh
        return f"dashboard {client.dashboard_link} (its pages need bokeh>=3.1 where the scheduler runs)"
    return f"dashboard {client.dashboard_link}"


def run_dask(jobs: list, spec: dict, scheduler: str | None = None, cluster: str = "local:2",
             progress: bool = True, plugins=(), gpus: int | None = None, record: bool = True,
             retries: int = 0) -> RunSummary:
    """Run `jobs` as Dask tasks with their dependencies, on an existing scheduler (`scheduler`:
    its address; `cluster` is then ignored) or on a cluster started for the run and closed
    after it (`cluster`, see `parse_cluster`).

    gpus: GPUs of this machine for a local cluster (None: all that torch sees when the device
    is CUDA, else 0); GPU jobs ask for a `GPU` resource when gpus > 0 (None: when the device
    is CUDA). plugins: Dask worker plugins to register first. retries: extra attempts of a
    task that raised (a task whose worker died is rerun anyway)."""
    from distributed import Client

    from nas_core.cache import config_key
    from nas_core.config import cache_dir

    cuda = str(spec["device"]).startswith("cuda")
    if gpus is None:
        import torch

        gpus = torch.cuda.device_count() if cuda else 0
    gpu_resources = gpus > 0 if not cuda else True
    env = {"NAS_CORE_CACHE": str(cache_dir()), "NAS_CORE_TORCH_THREADS": str(job_threads())}
    t_start = time.perf_counter()
    own_cluster = None if scheduler else make_cluster(cluster, gpus, gpu_resources)
    client = Client(scheduler if scheduler else own_cluster)
    summary, extra, futures = None, {}, {}
    try:
        for plugin in plugins:
            client.register_plugin(plugin)
        if scheduler and gpu_resources and any(j.gpu for j in jobs):
            _check_gpu_workers(client, scheduler)
        n_workers = len(client.scheduler_info()["workers"])
        summary = RunSummary("dask", n_workers, list(jobs))
        print(f"[compute dask] scheduler {client.scheduler.address}, {n_workers} worker(s); {_dashboard(client)}",
              file=sys.stderr, flush=True)
        from nas_core.engines.costmodel import bottom_levels

        level = bottom_levels(jobs)
        tag = config_key(spec)[:8]  # same study, same key: two clients of one scheduler share the work
        futures, by_key = {}, {}
        for job in jobs:
            futures[job.id] = client.submit(
                _task, spec, env, job, *[futures[d] for d in job.deps], key=f"{job.id}@{tag}", pure=False,
                resources={"GPU": 1} if job.gpu and gpu_resources else None, priority=level[job.id], retries=retries)
            by_key[futures[job.id].key] = job
        _follow(client, futures, by_key, summary, extra, progress)
    except KeyboardInterrupt:
        if summary is not None:
            summary.interrupted = True
        client.cancel(list(futures.values()))
    finally:
        client.close()
        if own_cluster is not None:
            own_cluster.close()
    if summary is None:
        return RunSummary("dask", 0, list(jobs), interrupted=True)
    summary.wall_s = time.perf_counter() - t_start  # cluster start-up included
    _reconcile(summary)
    if record:
        _record(summary, spec, uuid.uuid4().hex[:12], extra)
    return summary


def _reconcile(summary: RunSummary) -> None:
    """A job erred because a job it needs failed is 'skipped', whatever order the errors came in."""
    bad: set[str] = set()
    for job in summary.jobs:
        if job.id in summary.failed and bad & set(job.deps):
            del summary.failed[job.id]
            summary.skipped.append(job.id)
        if job.id in summary.failed or job.id in summary.skipped:
            bad.add(job.id)
    summary.skipped = list(dict.fromkeys(summary.skipped))


def _check_gpu_workers(client, address: str, timeout: float = 60.0) -> None:
    """GPU tasks would wait forever on a scheduler whose workers declare no GPU."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        workers = client.scheduler_info()["workers"].values()
        if any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers):
            return
        time.sleep(1.0)
    raise BadParameter(f"no worker of the scheduler {address} declares a GPU (after {timeout:.0f} s)",
                       fix="start one worker per GPU: CUDA_VISIBLE_DEVICES=i dask worker ADDRESS "
                           "--nthreads 1 --resources GPU=1")


def _follow(client, futures: dict, by_key: dict, summary: RunSummary, extra: dict, progress: bool) -> None:
    """Wait for every task, keeping the progress bar and the summary up to date."""
    from distributed import as_completed

    order = {j.id: k for k, j in enumerate(summary.jobs)}
    bar = _Progress(summary.jobs, progress, "[compute dask]")
    bad: set[str] = set()
    ac = as_completed(list(futures.values()))
    last_poll = 0.0
    try:
        while not ac.is_empty():
            batch = ac.next_batch(block=False) if ac.has_ready() else []
            for fut in sorted(batch, key=lambda f: order[by_key[f.key].id]):
                job = by_key[fut.key]
                if fut.status == "finished":
                    out = fut.result()
                    summary.done[job.id] = out["seconds"]
                    extra[job.id] = out
                    bar.finished(job.id, True)
                    continue
                bar.finished(job.id, False)
                if bad & set(job.deps):
                    summary.skipped.append(job.id)
                else:
                    exc = fut.exception()
                    err, log = exc.args if isinstance(exc, JobFailed) else (_error_line(exc), "(none: the worker died)")
                    summary.failed[job.id] = (err, log)
                    bar.write(failure_report(job, err, log))
                bad.add(job.id)
            if time.perf_counter() - last_poll > 1.0:
                last_poll = time.perf_counter()
                processing = client.processing()
                threads = client.nthreads()
                bar.set_running(sum(min(len(keys), threads.get(w, 1)) for w, keys in processing.items()))
            if not batch:
                time.sleep(0.1)
    finally:
        bar.close()


# ---- the CLI's entry -------------------------------------------------------------------------------

EXECUTORS = ("serial", "dask")


def check_options(executor: str, cluster: str | None, scheduler: str | None) -> None:
    """Refuse a bad combination of --executor / --cluster / --scheduler before any work."""
    if executor not in EXECUTORS:
        raise BadParameter(f"unknown --executor {executor!r}", fix="use serial or dask")
    if executor != "dask" and (cluster or scheduler):
        raise BadParameter(f"--{'cluster' if cluster else 'scheduler'} needs --executor dask",
                           fix="add --executor dask (or drop the option to run in this process)")
    if cluster and scheduler:
        raise BadParameter("--cluster and --scheduler exclude each other",
                           fix="--scheduler ADDRESS uses that scheduler's workers; --cluster starts new ones")
    if cluster:
        parse_cluster(cluster)
    if scheduler is not None and not scheduler.strip():
        raise BadParameter("--scheduler needs an address", fix="e.g. --scheduler tcp://10.0.0.5:8786")


def run_compute(study, only=None, executor: str = "serial", cluster: str | None = None,
                scheduler: str | None = None, progress: bool = True) -> RunSummary:
    """The compute stage of `study` for the notebooks `only` with the chosen executor."""
    from nas_core.engines.jobs import build_jobs, study_spec

    check_options(executor, cluster, scheduler)
    jobs = build_jobs(study, only)
    if executor == "serial":
        return run_serial(jobs, study, progress=progress)
    return run_dask(jobs, study_spec(study), scheduler=scheduler, cluster=cluster or "local", progress=progress)
