"""The compute stage's executors: a Dask run on a 2-worker LocalCluster writes exactly the
results of a serial run, also when workers are killed mid-job; the job graph matches the
study's jobs; option mistakes are refused before any work.

The runs use the smoke profile made smaller still (tests/executor_faults.py: TINY) on the mini
benchmark; "identical" is tests/cache_compare.py's: same rows in every result store, same
tensors in every checkpoint, same bytes elsewhere, timing columns and records left out."""
import os
from pathlib import Path

import pandas as pd
import pytest

from cache_compare import UNIQUE, compare_caches
from executor_faults import KillOnce, TinyProtocols, install_tiny, tiny_protocols

pytest.importorskip("distributed")

ZS_CHUNK = 5  # architectures per zero-shot job: the 12 evaluated ones make 3 jobs


@pytest.fixture(scope="module")
def tiny():
    previous = install_tiny(tiny_protocols())
    yield
    install_tiny(previous)


def _study():
    import torch

    from nas_core.engines.study import Study

    torch.set_num_threads(1)
    return Study("smoke", device="cpu")


def _jobs(study):
    from nas_core.engines.jobs import build_jobs

    return build_jobs(study, zs_chunk=ZS_CHUNK)


def _run(cache: Path, executor: str, plugins=()):
    from nas_core.engines.executor import run_dask, run_serial
    from nas_core.engines.jobs import study_spec

    old = os.environ.get("NAS_CORE_CACHE")
    os.environ["NAS_CORE_CACHE"] = str(cache)
    try:
        study = _study()
        if executor == "serial":
            summary = run_serial(_jobs(study), study, progress=False)
        else:
            summary = run_dask(_jobs(study), study_spec(study), cluster="local:2", progress=False,
                               plugins=[TinyProtocols(), *plugins])
    finally:
        if old is None:
            os.environ.pop("NAS_CORE_CACHE")
        else:
            os.environ["NAS_CORE_CACHE"] = old
    assert summary.ok, summary.text()
    return summary


@pytest.fixture(scope="module")
def serial_cache(tiny, tmp_path_factory):
    """The serial reference run. Its `collect` jobs make the study's full calls (Study.jobs)
    after the chunked pieces: here they may not write a single result row, which proves the
    pieces landed in the full calls' cache keys."""
    from nas_core import cache
    from nas_core.engines import jobs

    real_run_job, real_append, current = jobs.run_job, cache.ResultStore.append, {}

    def run_job(study, job):
        current["job"] = job
        return real_run_job(study, job)

    def append(self, frame, tag=""):
        job = current.get("job")
        if job is not None and job.kind == "collect" and self.path.parent.name in UNIQUE:
            raise AssertionError(f"{job.id} computed {len(frame)} rows its pieces should have computed")
        return real_append(self, frame, tag)

    jobs.run_job, cache.ResultStore.append = run_job, append
    try:
        cache_dir = tmp_path_factory.mktemp("serial")
        summary = _run(cache_dir, "serial")
    finally:
        jobs.run_job, cache.ResultStore.append = real_run_job, real_append
    assert sum(j.kind == "collect" for j in summary.jobs) >= 8
    return cache_dir


def _raw_duplicates(cache: Path) -> list[str]:
    """Rows written twice anywhere (parts as stored, before a reader drops duplicates)."""
    out = []
    for kind, key in UNIQUE.items():
        for folder in (cache / kind).glob("*"):
            parts = list(folder.glob("part-*.parquet"))
            raw = pd.concat([pd.read_parquet(p) for p in parts]) if parts else pd.DataFrame(columns=key)
            if raw.duplicated(key).any():
                out.append(f"{kind}/{folder.name}: {int(raw.duplicated(key).sum())} duplicated rows")
    return out


@pytest.mark.slow  # two Dask runs + the serial reference: ~1-2 min on 2 busy cores
def test_dask_on_two_workers_writes_what_serial_writes(serial_cache, tmp_path):
    summary = _run(tmp_path / "dask", "dask")
    assert summary.workers == 2 and len(summary.done) == len(summary.jobs)
    assert compare_caches(serial_cache, tmp_path / "dask") == []
    counts = compare_caches.last_counts
    assert counts["stores"] >= 20 and counts["checkpoints"] >= 20  # every kind of result was compared
    assert _raw_duplicates(tmp_path / "dask") == []
    # every job's seconds were recorded
    from nas_core.engines.costmodel import read_timings

    os.environ["NAS_CORE_CACHE"], old = str(tmp_path / "dask"), os.environ["NAS_CORE_CACHE"]
    try:
        timings = read_timings()
    finally:
        os.environ["NAS_CORE_CACHE"] = old
    assert set(timings["job"]) == {j.id for j in summary.jobs} and (timings["seconds"] >= 0).all()


@pytest.mark.slow
def test_workers_killed_mid_job_change_nothing(serial_cache, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    _run(tmp_path / "dask", "dask", plugins=[KillOnce(str(markers), arch=3, epoch=1)])
    # both faults fired: a worker died in a zero-shot job after 2 of its architectures were
    # saved, another right after a supernet's first checkpoint
    assert sorted(p.name for p in markers.iterdir()) == ["supernet", "zeroshot"]
    assert compare_caches(serial_cache, tmp_path / "dask") == []
    assert _raw_duplicates(tmp_path / "dask") == []


def test_the_graph_holds_every_job_of_the_study(tiny):
    """Each notebook's results are in the graph (the analyses it reads), only what applies to the
    benchmark, and every dependency comes before its job."""
    study = _study()
    rq3 = {"analysis:pruning", "analysis:temporal_ensemble", "analysis:seed_ensemble", "analysis:post_deiso",
           "analysis:mc_comparison", "analysis:op_pruning", "analysis:soft_pruning"}
    for only in (None, ["rq1"], ["rq2"], ["rq3"], ["rq4"], ["rq5"], ["rq2", "rq4"]):
        jobs = _jobs_only(study, only)
        ids = {j.id for j in jobs}
        assert "collect:zs:real:eval" in ids
        assert ("analysis:diagnostics" in ids) == (only is None or "rq2" in only)
        assert (rq3 <= ids) == (only is None or "rq3" in only), only
        assert ("analysis:zs_on_supernet" in ids) == (only is None or "rq4" in only)
        seen = set()
        for j in jobs:
            assert set(j.deps) <= seen, j.id
            seen.add(j.id)


def _jobs_only(study, only):
    from nas_core.engines.jobs import build_jobs

    return build_jobs(study, only, zs_chunk=ZS_CHUNK)


def test_gpu_jobs_and_chunks(tiny):
    from nas_core.engines.jobs import build_jobs

    study = _study()
    jobs = build_jobs(study, zs_chunk=ZS_CHUNK)
    by_id = {j.id: j for j in jobs}
    zs = [j for j in jobs if j.id.startswith("zs:real:bs16:b2:eval:")]
    assert [len(dict(j.args)["indices"]) for j in zs] == [5, 5, 2]  # 12 archs, 5 per job, one seed
    assert sorted(i for j in zs for i in dict(j.args)["indices"]) == sorted(int(i) for i in study.eval_indices)
    train = by_id["train:deiso:s0"]
    scores = [j for j in jobs if j.id.startswith("score:deiso:s0:")]
    assert len(scores) == 3 and all(j.deps == (train.id,) for j in scores)  # one per checkpoint
    assert all(j.gpu for j in zs + scores + [train])
    assert not any(j.gpu for j in jobs if j.kind in ("collect", "analysis"))
    assert all(j.est_cost is not None and j.est_cost > 0 for j in jobs)


# ---- the cost model ---------------------------------------------------------------------------------

def _graph(costs: dict, deps: dict):
    from nas_core.engines.jobs import Job

    return [Job(id=i, label=i, kind="analysis", deps=tuple(deps.get(i, ())), est_cost=c) for i, c in costs.items()]


def test_list_scheduling_by_hand():
    from nas_core.engines.costmodel import critical_path, list_schedule

    # diamond: A(2) -> B(3), C(1) -> D(2). Critical path A-B-D = 7; one worker: the sum, 8
    diamond = _graph({"A": 2, "B": 3, "C": 1, "D": 2}, {"B": ["A"], "C": ["A"], "D": ["B", "C"]})
    assert critical_path(diamond) == 7
    assert list_schedule(diamond, 1) == 8 and list_schedule(diamond, 2) == 7 and list_schedule(diamond, 32) == 7
    # independent 3, 3, 2, 2, 2 on two workers: {3, 2, 2} | {3, 2} -> 7 (the bound sum/2 = 6 is not reachable)
    flat = _graph({"a": 3, "b": 3, "c": 2, "d": 2, "e": 2}, {})
    assert list_schedule(flat, 2) == 7 and list_schedule(flat, 5) == 3 and critical_path(flat) == 3


def test_rates_are_fitted_from_timings():
    from nas_core.engines.costmodel import fit_rates

    units = [1.0, 2.0, 5.0, 10.0]
    frame = pd.DataFrame({"kind": "zeroshot", "units": units, "seconds": [0.5 + 2.0 * u for u in units]})
    a, b = fit_rates(frame)["zeroshot"]
    assert a == pytest.approx(0.5) and b == pytest.approx(2.0)


# ---- zero-shot shares: one store, computed once ---------------------------------------------------

def test_zero_shot_shares_by_seed_fill_the_full_sweeps_store(tmp_path, monkeypatch):
    from nas_core.data.groundtruth import load_ground_truth
    from nas_core.engines import zeroshot

    truth = load_ground_truth("mini")
    idx, arch = truth["index"].tolist()[:4], truth["arch_str"].tolist()[:4]
    kw = dict(proxies=["params", "snip"], seeds=(1, 2), batches=1, batch_size=8, dataset="fmnist16", C=4, N=1,
              progress=False, workers=1)
    full = zeroshot.run_zero_shot(idx, arch, **kw)
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path / "shares"))
    for seed, part in ((1, slice(0, 2)), (2, slice(0, 4)), (1, slice(2, 4))):
        share = zeroshot.run_zero_shot(idx[part], arch[part], only_seeds=[seed], **kw)
        assert set(share["seed"]) == {seed} and set(share["index"]) == set(idx[part])

    def no_compute(*args):
        raise AssertionError("the full call recomputed a share")

    monkeypatch.setattr(zeroshot, "_score_arch", no_compute)
    again = zeroshot.run_zero_shot(idx, arch, **kw)
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), full.drop(columns="seconds"))


# ---- options ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["--executor", "threads"], "unknown --executor 'threads'"),
    (["--cluster", "local:2"], "--cluster needs --executor dask"),
    (["--scheduler", "tcp://x:8786"], "--scheduler needs --executor dask"),
    (["--executor", "dask", "--cluster", "local:0"], "bad --cluster 'local:0'"),
    (["--executor", "dask", "--cluster", "k8s"], "bad --cluster 'k8s'"),
    (["--executor", "dask", "--cluster", "local", "--scheduler", "tcp://x:8786"], "exclude each other"),
    (["--shard", "0/2"], "--shard was replaced by --executor dask"),
])
def test_run_refuses_bad_executor_options(argv, message, capsys):
    from nas_core.cli import main

    rc = main(["run", "--profile", "smoke", "--device", "cpu", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["--executor", "threads"], "unknown executor 'threads'"),
    (["--cluster", "local"], "--cluster needs --executor dask"),
    (["--executor", "dask", "--cluster", "local:x"], "--cluster takes local[:N] or slurm[:N]"),
    (["--executor", "dask", "--cluster", "local", "--scheduler", "tcp://x:1"], "exclude each other"),
    (["--shard", "0/2"], "--shard was replaced"),
])
def test_run_all_refuses_bad_executor_options_before_setup(args, message):
    import subprocess

    script = Path(__file__).parents[1] / "run_all.sh"
    out = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def test_a_resumed_training_writes_checkpoints_of_the_same_size(tmp_path):
    """The scores' cache key holds a checkpoint's size: an interrupted and resumed training must
    write the same bytes (up to the seconds in its log) as an uninterrupted one."""
    import torch

    from nas_core.engines.supernet_train import checkpoint_path, read_checkpoint, train_supernet
    from nas_core.protocols.data import DataProtocol
    from nas_core.protocols.supernet import SupernetProtocol

    torch.set_num_threads(1)
    proto = SupernetProtocol(C=2, N=1, epochs=3, save_every=1, batch_size=64, plateau_patience=1)
    data = DataProtocol(max_train=128, max_heldout=64)
    whole = train_supernet(proto, tmp_path / "whole", "fmnist16", None, "cpu", data, progress=False)
    parts = train_supernet(proto, tmp_path / "parts", "fmnist16", None, "cpu", data, progress=False, stop_after_epoch=1)
    train_supernet(proto, parts, "fmnist16", None, "cpu", data, progress=False)
    for epoch in (1, 2, 3):
        a, b = checkpoint_path(whole, epoch), checkpoint_path(parts, epoch)
        assert a.stat().st_size == b.stat().st_size, epoch
        sa, sb = read_checkpoint(whole, epoch), read_checkpoint(parts, epoch)
        assert all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])


def test_every_job_runs_with_the_same_threads(monkeypatch, tmp_path):
    """Results depend on torch's thread count (a supernet trained with 2 threads differs from
    one trained with 1), so both executors give each job NAS_CORE_TORCH_THREADS threads."""
    import torch

    from nas_core.engines import executor, jobs
    from nas_core.engines.jobs import Job

    seen = []
    monkeypatch.setattr(jobs, "run_job", lambda study, job: seen.append(torch.get_num_threads()))
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path))
    study = type("S", (), {"device": "cpu"})()
    job = Job(id="probe", label="probe", kind="analysis")
    spec = {"profile": "smoke", "device": "cpu", "data_root": None, "truth_column": "x"}
    before = torch.get_num_threads()
    executor.run_logged(study, spec, job)
    monkeypatch.setenv("NAS_CORE_TORCH_THREADS", "2")
    executor.run_logged(study, spec, job)
    assert seen == [1, 2] and torch.get_num_threads() == before
    monkeypatch.setenv("NAS_CORE_TORCH_THREADS", "0")
    with pytest.raises(Exception, match="NAS_CORE_TORCH_THREADS"):
        executor.run_logged(study, spec, job)


def test_cost_command_projects_from_recorded_timings(tiny, tmp_path, monkeypatch, capsys):
    """Timings made up as seconds = 1 + 2 x units for every job of the (tiny) smoke graph: the
    fitted rates are (1, 2) for every measured kind and one worker's wall time is the sum of
    the jobs' costs."""
    import re

    from nas_core.cli import main
    from nas_core.engines.costmodel import record_timings, timing_row
    from nas_core.engines.jobs import build_jobs, study_spec

    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path))
    study = _study()
    jobs = build_jobs(study)
    record_timings([timing_row("r1", j, 1.0 + 2.0 * j.units, "done", study_spec(study), "serial", 1) for j in jobs])
    assert main(["cost", "--profile", "smoke", "--workers", "1,2"]) == 0
    out = capsys.readouterr().out
    rows = [r for r in out.splitlines() if r.startswith("| supernet-train |") or r.startswith("| zeroshot |")]
    assert len(rows) == 2 and all("| 1 | 2 |" in r for r in rows), rows
    total = sum(1.0 + 2.0 * j.units for j in jobs)
    shown = re.search(r"1 worker: ([0-9,.]+) (s|h)", out)
    value = float(shown.group(1).replace(",", "")) * (3600 if shown.group(2) == "h" else 1)
    assert value == pytest.approx(total, rel=0.01, abs=1.0)


@pytest.mark.parametrize("executor", ["serial", "dask", "scheduler"])
def test_a_failing_job_is_reported_and_its_dependants_skipped(executor, tmp_path, monkeypatch, capsys):
    from executor_faults import ToyActions, install_toy_actions

    from nas_core.engines import jobs as jobs_module
    from nas_core.engines.executor import run_dask, run_serial
    from nas_core.engines.jobs import Job, study_spec

    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path))
    monkeypatch.setattr(jobs_module, "ACTIONS", dict(jobs_module.ACTIONS))
    install_toy_actions()
    graph = [Job("a", "first", "analysis", action="ok"),
             Job("b", "second", "analysis", deps=("a",), action="fail", args=(("what", "the second job"),)),
             Job("c", "third", "analysis", deps=("b",), action="ok"),
             Job("d", "fourth", "analysis", action="ok")]
    study = _study()
    if executor == "serial":
        summary = run_serial(graph, study, progress=False)
    elif executor == "dask":
        summary = run_dask(graph, study_spec(study), cluster="local:2", progress=False, plugins=[ToyActions()])
    else:  # a scheduler started elsewhere: the run uses it and leaves it running
        import logging

        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, silence_logs=logging.ERROR) as cluster:
            summary = run_dask(graph, study_spec(study), scheduler=cluster.scheduler_address, progress=False,
                               plugins=[ToyActions()])
            with Client(cluster) as client:
                assert len(client.scheduler_info()["workers"]) == 1
    err = capsys.readouterr().err
    assert not summary.ok and set(summary.done) == {"a", "d"} and summary.skipped == ["c"]
    assert summary.failed["b"][0] == "the second job went wrong; how to fix: nothing to fix: a test"
    assert "FAILED b (second)" in err and "config: what=the second job" in err and "Traceback" not in err
    log = Path(summary.failed["b"][1])
    assert log.is_file() and "Traceback" in log.read_text()  # the traceback is in the job's log
    text = summary.text()
    assert "2 of 4 jobs done" in text and "1 failed" in text and "1 skipped" in text
