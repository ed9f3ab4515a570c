"""Many writers, one cache: concurrent and killed zero-shot sweeps lose nothing and duplicate
nothing. Cheap analytic proxies (params, flops) on the mini benchmark keep this to seconds."""
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

KEY = ["index", "seed", "batch", "proxy"]
PROXIES = ["params", "flops"]
SETTINGS = dict(seeds=(20,), batches=1, batch_size=8, dataset="fmnist16", benchmark="mini", C=4, N=1, progress=False)


def _archs(n):
    from nas_core.data.groundtruth import load_ground_truth

    truth = load_ground_truth("mini")
    return truth["index"].tolist()[:n], dict(zip(truth["index"], truth["arch_str"]))


def _sweep(job):
    """One writer (spawned process): sweep `indices` into the cache `cache`, chunk of 2."""
    cache, indices = job
    os.environ["NAS_CORE_CACHE"] = cache
    import torch

    torch.set_num_threads(1)
    from nas_core.engines.zeroshot import run_zero_shot

    _, lookup = _archs(0)
    frame = run_zero_shot(indices, [lookup[i] for i in indices], PROXIES, chunk=2, **SETTINGS)
    return frame[KEY].to_records(index=False).tolist()


def _store_frame(cache):
    from nas_core.cache import ResultStore

    folders = list((Path(cache) / "zeroshot").iterdir())
    assert len(folders) == 1
    store = ResultStore("probe", {}, root=Path(cache) / "probe", unique=KEY)
    store.path = folders[0]  # the sweep's own configuration folder
    raw = pd.concat([pd.read_parquet(p) for p in store.parts()], ignore_index=True)
    return store.read(), raw


def test_concurrent_overlapping_sweeps_keep_one_row_per_key(tmp_path):
    archs, _ = _archs(40)
    # four overlapping windows over 40 architectures: every architecture is in 1..3 of them
    jobs = [archs[k * 7:k * 7 + 19] for k in range(4)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        for rnd in range(2):
            cache = str(tmp_path / f"cache{rnd}")
            outputs = pool.map(_sweep, [(cache, j) for j in jobs])
            for job, rows in zip(jobs, outputs):
                # complete output: every requested (arch, proxy), each exactly once
                expected = {(i, 20, 0, p) for i in job for p in PROXIES}
                assert len(rows) == len(expected) and set(map(tuple, rows)) == expected
            merged, raw = _store_frame(cache)
            union = sorted(set().union(*map(set, jobs)))
            assert len(merged) == len(union) * len(PROXIES)
            assert not merged.duplicated(KEY).any()
            assert sorted(merged["index"].unique()) == union
            assert len(raw) >= len(merged)  # overlapping writers may store twice; reads never show it


SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from test_concurrency import _archs, PROXIES, SETTINGS
    from nas_core.engines.zeroshot import run_zero_shot
    archs, lookup = _archs({n})
    print("started", flush=True)
    run_zero_shot(archs, [lookup[i] for i in archs], PROXIES, chunk=1, save_seconds=0.0, **SETTINGS)
""")


def test_killed_writers_then_rerun_is_complete_without_duplicates(tmp_path):
    n = 60
    env = {**os.environ, "NAS_CORE_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    script = SCRIPT.format(tests=str(Path(__file__).parent), n=n)
    rng = random.Random(0)
    for _ in range(2):
        procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
        for proc in procs:
            assert proc.stdout.readline().strip() == "started"
        deadline = time.time() + 60  # wait for the first saved part, then kill at a random point
        while not list(Path(env["NAS_CORE_CACHE"]).glob("zeroshot/*/part-*.parquet")) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    merged, _ = _store_frame(env["NAS_CORE_CACHE"])
    assert len(merged) < n * len(PROXIES), "the kills came too late to interrupt the sweep"
    assert not merged.duplicated(KEY).any()
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    merged, _ = _store_frame(env["NAS_CORE_CACHE"])
    archs, _ = _archs(n)
    assert len(merged) == n * len(PROXIES) and not merged.duplicated(KEY).any()
    assert sorted(merged["index"].unique()) == sorted(archs)
