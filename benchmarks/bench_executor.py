"""The compute stage, serial against Dask: wall time ratio in one run, fresh caches for both.

    .venv/bin/python benchmarks/bench_executor.py [--profile smoke] [--workers 2] [--order serial,dask]

Each executor runs in its own fresh process and its own empty cache, as `nas-core run` would
(`--executor serial`: the jobs one after the other in that process, one torch thread each,
zero-shot sweeps of 8+ architectures per core on a process per core; `--executor dask
--cluster local:N`: N single-threaded worker processes, cluster start-up included). Prints both wall times, their ratio (the issue's aim:
Dask <= 1.1x serial), the CPU time of every process of each run (on a machine shared with
other work the wall ratio drifts with their load; the CPU ratio is what Dask itself adds), the
jobs' summed seconds per kind, and whether the two caches hold identical results
(tests/cache_compare.py). Uses the mini benchmark unless a data root is set.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNNER = """
import json, sys, time
t0 = time.perf_counter()
from nas_core.engines.study import Study
from nas_core.engines.executor import run_compute
from nas_core.engines.costmodel import read_timings
if __name__ == "__main__":
    profile, executor, cluster = sys.argv[1:4]
    study = Study(profile, device="cpu")
    summary = run_compute(study, executor=executor, cluster=cluster or None, progress=False)
    wall = time.perf_counter() - t0
    per_kind = read_timings().groupby("kind")["seconds"].sum().round(1).to_dict()
    print("RESULT " + json.dumps({"ok": summary.ok, "wall_s": wall, "jobs": len(summary.jobs),
                                   "workers": summary.workers, "per_kind_s": per_kind}))
"""


def run(profile: str, executor: str, workers: int, cache: Path) -> dict:
    env = {**os.environ, "NAS_CORE_CACHE": str(cache), "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    cluster = f"local:{workers}" if executor == "dask" else ""
    t0, cpu0 = time.perf_counter(), _children_cpu()
    out = subprocess.run([sys.executable, "-c", RUNNER, profile, executor, cluster], env=env, cwd=REPO,
                         capture_output=True, text=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode or not line:
        sys.exit(f"{executor} run failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    result = json.loads(line[0][7:])
    result["process_s"] = time.perf_counter() - t0  # with the interpreter's start and imports
    result["cpu_s"] = _children_cpu() - cpu0  # user + system, every process of the run
    return result


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--order", default="serial,dask", help="which runs first (load drifts on shared machines)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from cache_compare import compare_caches

    with tempfile.TemporaryDirectory(prefix="bench-executor-") as tmp:
        results = {}
        for executor in args.order.split(","):
            results[executor] = run(args.profile, executor, args.workers, Path(tmp) / executor)
            r = results[executor]
            print(f"{executor:6s}: {r['wall_s']:7.1f} s compute stage ({r['process_s']:.1f} s with the process, "
                  f"{r['cpu_s']:.1f} CPU-s), {r['jobs']} jobs, {r['workers']} worker(s); job seconds by kind "
                  f"{r['per_kind_s']}", flush=True)
        problems = compare_caches(Path(tmp) / "serial", Path(tmp) / "dask")
    ratio = results["dask"]["wall_s"] / results["serial"]["wall_s"]
    cpu = results["dask"]["cpu_s"] / results["serial"]["cpu_s"]
    print(f"dask / serial wall time: {ratio:.2f}x (aim <= 1.1x); CPU time {cpu:.2f}x (what Dask adds, whatever "
          f"else runs on the machine); load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("results identical" if not problems else "RESULTS DIFFER:\n  " + "\n  ".join(problems[:20]))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
