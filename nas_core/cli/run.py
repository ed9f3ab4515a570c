"""`nas-core run`: what ./run_all.sh does -- compute what is missing, execute the notebooks,
write the manifest and the index page of outputs/<profile>/."""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

from nas_core.config import REPO_ROOT, data_root as resolve_root, resolve_device
from nas_core.errors import BadParameter
from nas_core.profiles import PROFILE_NAMES, check_profile

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"


def register(subparsers) -> None:
    run = subparsers.add_parser("run", help="compute missing results, then execute the RQ notebooks")
    run.add_argument("--profile", default="quick", help=f"one of {', '.join(PROFILE_NAMES)} (default quick)")
    run.add_argument("--device", default="auto", help="auto | cpu | cuda")
    run.add_argument("--data-root", default=None, help="data root (default: $NAS_CORE_DATA; none = mini benchmark)")
    run.add_argument("--benchmark", default="auto",
                     help="comma-separated benchmarks, e.g. nb201,nb301 (default auto: nb201 with a data root, else mini)")
    run.add_argument("--only", default="", help="comma-separated notebooks, e.g. rq1,rq3")
    run.add_argument("--executor", default="serial",
                     help="serial (this process, default) | dask (the jobs as Dask tasks: README, Dask section)")
    run.add_argument("--cluster", default=None,
                     help="with --executor dask: local[:N] (N worker processes here; default one per GPU, "
                          "else per core) | slurm[:N] (N SLURM jobs; needs nas-core[cluster])")
    run.add_argument("--scheduler", default=None, help="with --executor dask: address of a running Dask scheduler")
    run.add_argument("--shard", default=None, help=argparse.SUPPRESS)  # replaced by --executor dask
    run.add_argument("--skip-compute", action="store_true", help="only execute the notebooks")
    run.set_defaults(func=run_all)


def select_notebooks(only: str) -> list[Path]:
    books = sorted(NOTEBOOKS_DIR.glob("rq[1-5]_*.ipynb"))
    if not only:
        return books
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    chosen = [b for b in books if b.name.split("_")[0] in wanted]
    missing = set(wanted) - {b.name.split("_")[0] for b in chosen}
    if missing:
        raise BadParameter(f"unknown notebook(s) {sorted(missing)} in --only", fix="use rq1..rq5")
    return chosen


def run_all(args) -> int:
    """Every benchmark asked for, one after the other; then the cross-benchmark summary."""
    from nas_core.cli.checks import benchmark_and_root

    names = [n.strip() for n in str(args.benchmark or "auto").split(",") if n.strip()] or ["auto"]
    resolved = [benchmark_and_root(n, args.data_root)[0].name for n in names]  # every name checked first
    status = 0
    for name in dict.fromkeys(resolved):
        status = max(status, run_benchmark(args, name))
    if len(set(resolved)) > 1 and not args.shard:
        from nas_core.reporting import write_cross_benchmark_summary

        print(f"[run] cross-benchmark summary: {write_cross_benchmark_summary(args.profile, list(dict.fromkeys(resolved)))}")
    return status


def run_benchmark(args, benchmark: str) -> int:
    from nas_core.engines.study import Study

    profile = check_profile(args.profile)
    device = resolve_device(args.device)
    root = resolve_root(args.data_root)
    if args.shard is not None:
        raise BadParameter("--shard was replaced by --executor dask",
                           fix="one machine with several GPUs: --executor dask --cluster local; several machines: "
                               "--executor dask --scheduler ADDRESS (README, section Dask)")
    from nas_core.engines.executor import check_options, run_compute

    check_options(args.executor, args.cluster, args.scheduler)
    books = select_notebooks(args.only)
    study = Study(profile=profile, device=device, data_root=root, benchmark=benchmark)
    print(f"[run] profile={profile} benchmark={study.benchmark} device={device} data: {study.data_description()}")
    started = time.time()
    timings: dict[str, float] = {}
    if not args.skip_compute:
        t0 = time.time()
        summary = run_compute(study, [b.name.split("_")[0] for b in books], args.executor, args.cluster,
                              args.scheduler)
        print(summary.text())
        if not summary.ok:
            print("[run] the compute stage did not finish: notebooks not executed (rerun to retry what is missing)")
            return 130 if summary.interrupted else 1
        timings["compute"] = round(time.time() - t0, 1)
    out = study.outputs_dir
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    failures = []
    for book in books:
        t0 = time.time()
        print(f"[run] executing {book.name} ...", flush=True)
        try:
            execute_notebook(book, out / "notebooks" / book.name, profile, device, root, study.benchmark)
        except Exception as exc:  # noqa: BLE001 - report every failing notebook, then fail
            failures.append(f"{book.name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            print(f"[run] {book.name} FAILED: {failures[-1]}")
        timings[book.stem] = round(time.time() - t0, 1)
    write_manifest(out, profile, device, study, timings, time.time() - started, books)
    from nas_core.reporting import write_index

    index = write_index(profile, out_root=out, benchmark=study.benchmark)
    print(f"\n[run] done in {time.time() - started:.0f} s; index: {index}")
    for name, secs in timings.items():
        print(f"        {name:<28s} {secs:8.1f} s")
    if failures:
        print("[run] failed notebooks:\n  " + "\n  ".join(failures))
        return 1
    return 0


def execute_notebook(source: Path, target: Path, profile: str, device: str, root, benchmark: str = "auto") -> None:
    import os

    import papermill as pm

    # the data root reaches the kernel through its environment, not as a parameter: the
    # injected parameters cell is committed, and must not hold this machine's paths
    if root:
        os.environ["NAS_CORE_DATA"] = str(root)
    # the kernel imports the same nas_core as this run (and so uses its cache and outputs), not
    # whichever copy the environment happens to hold (an editable install of another checkout)
    package_root = str(REPO_ROOT)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if package_root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in paths if p])
    pm.execute_notebook(str(source), str(target), kernel_name="python3", progress_bar=False,
                        parameters={"profile": profile, "device": device, "benchmark": benchmark},
                        cwd=str(NOTEBOOKS_DIR))
    _relative_papermill_paths(Path(target))


def _relative_papermill_paths(path: Path) -> None:
    """papermill records absolute input/output paths in the notebook's metadata; committed
    outputs keep them relative to the repository."""
    import json

    from nas_core.cache import atomic_write_text

    nb = json.loads(path.read_text())
    meta = nb.get("metadata", {}).get("papermill", {})
    for key in ("input_path", "output_path"):
        if meta.get(key):
            p = Path(meta[key])
            meta[key] = str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else p.name
    atomic_write_text(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def write_manifest(out: Path, profile: str, device: str, study, timings: dict, wall: float, books) -> None:
    import numpy
    import pandas
    import torch

    from nas_core import __version__
    from nas_core.cache import atomic_write_json

    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    path = out / "run_manifest.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    if previous.get("benchmark") != study.benchmark:
        previous = {}
    run = {"finished": time.strftime("%Y-%m-%d %H:%M:%S"), "git_commit": commit, "device": device,
           "notebooks": [b.name for b in books], "timings_s": timings, "wall_time_s": round(wall, 1)}
    # a partial rerun (--only, --skip-compute) keeps the other stages' figures: timings merge,
    # and every invocation stays in the history
    atomic_write_json(path, {
        "profile": profile, "device": device, "data": study.data_description(),
        "benchmark": study.benchmark, "ground_truth": study.truth_column,
        "notebooks": sorted(set(previous.get("notebooks", [])) | {b.name for b in books}),
        "timings_s": {**previous.get("timings_s", {}), **timings},
        "wall_time_s": round(wall, 1),
        "versions": {"nas_core": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
                     "pandas": pandas.__version__, "python": platform.python_version()},
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "git_commit": commit, "finished": run["finished"],
        "history": previous.get("history", []) + [run],
    })
    print(f"[run] manifest: {json.dumps(timings)}")
