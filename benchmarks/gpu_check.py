"""One GPU check, a few minutes end to end: the paper profile's costs measured on this device.

    .venv/bin/python benchmarks/gpu_check.py [--data-root DIR] [--out gpu_check.json]
    .venv/bin/python benchmarks/gpu_check.py --cpu-dry-run      # the same code, tiny, on the CPU

1. Supernet training: the paper protocol's network (C16/N5, BN without affine, dropout 0.1)
   and batch (512), the kit's own training step (`supernet_train.train_step`: iso sampler,
   augmentation on the device, gradient clipping, SGD) on a slice of CIFAR-10's training split
   (random images of the same shape without a data root: the time does not depend on the
   pixels). Seconds per step after a warm-up -> seconds per epoch of the paper's 40,000 images
   (78 steps) -> hours for 1,000 epochs.
2. Zero-shot proxies at C16/N5, batch 128: every proxy alone on a few architectures
   (seconds per architecture -> architectures/s), and all of them in one shared pass (what the
   sweep does); the projection to all 15,625 cells, for one seed and one batch and for the
   paper protocol (3 seeds x 10 batches).
3. A short Dask run with a GPU worker: a local cluster of one worker per GPU declaring a `GPU`
   resource (engines/executor.py), running part of the smoke profile's compute stage (zero-shot
   chunks, a supernet's training and its scoring) on the mini benchmark (needs Fashion-MNIST)
   or, with --data-root, on NAS-Bench-201; checks that the device jobs ran on a GPU worker.

--cpu-dry-run: the same three steps with a tiny network (C4/N1), small batches and the device
`cpu` (the Dask run still asks for a `GPU` resource, declared by its worker), so the script is
checked end to end where there is no GPU. The figures of a dry run mean nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PAPER_TRAIN_IMAGES = 40_000  # CIFAR-10's 50,000 training images, 80 % train the supernet
SPACE = 15_625


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _images(data_root, n: int, shape, device: str):
    """(uint8 images, labels) on the device: CIFAR-10's training split, or random of its shape."""
    if data_root:
        from nas_core.data.images import train_heldout

        train, _ = train_heldout("cifar10", data_root, max_train=n)
        return train.images[:n].to(device), train.labels[:n].to(device), "cifar10"
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, *shape), generator=gen, dtype=torch.uint8)
    return x.to(device), torch.randint(0, 10, (n,), generator=gen).to(device), "random"


def supernet_epoch(device: str, C: int, N: int, batch: int, steps: int, warmup: int, data_root) -> dict:
    from nas_core.data.images import augment, normalise
    from nas_core.engines.supernet_train import train_step
    from nas_core.nets.supernet import Supernet
    from nas_core.samplers import make_sampler

    torch.manual_seed(0)
    images, labels, source = _images(data_root, batch * (steps + warmup), (3, 32, 32), device)
    net = Supernet(C=C, N=N, num_classes=10, in_channels=3, affine=False, dropout=0.1).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sampler = make_sampler("iso", 0)
    gen = torch.Generator().manual_seed(0)
    net.train()
    times = []
    for step in range(warmup + steps):
        x = augment(normalise(images[step * batch:(step + 1) * batch], "cifar10"), gen)
        y = labels[step * batch:(step + 1) * batch]
        _sync(device)
        t0 = time.perf_counter()
        train_step(net, opt, sampler.step(), x, y, 5.0)
        _sync(device)
        if step >= warmup:
            times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    per_epoch = PAPER_TRAIN_IMAGES // batch
    return {"C": C, "N": N, "batch": batch, "images": source, "steps_timed": steps,
            "step_s_median": step_s, "epoch_s": step_s * per_epoch, "hours_1000_epochs": step_s * per_epoch * 1000 / 3600}


def proxies(device: str, C: int, N: int, batch: int, archs: int, data_root) -> dict:
    import numpy as np

    from nas_core.data.images import normalise
    from nas_core.engines.zeroshot import score_network
    from nas_core.nets.network import init_seeded
    from nas_core.protocols.zeroshot import ALL
    from nas_core.space import nb201
    from nas_core.space.complexity import Macro, params_flops

    images, labels, source = _images(data_root, batch, (3, 32, 32), device)
    x, y = normalise(images, "cifar10"), labels
    rng = np.random.default_rng(0)
    kit = rng.choice(np.flatnonzero(nb201.space_table().has_conv_path), size=archs, replace=False)
    ops = nb201.all_ops()[kit]
    p_m, f_m = params_flops(ops, Macro())  # the benchmark's network for the analytic baselines
    nets = [init_seeded(tuple(int(o) for o in row), 20, C=C, N=N, num_classes=10, in_channels=3).to(device)
            for row in ops]
    ctx = [{"params_M": float(p), "flops_M": float(f)} for p, f in zip(p_m, f_m)]
    score_network(nets[0], x, y, list(ALL), ctx[0])  # warm-up (kernels, allocator)
    alone = {}
    for name in ALL:
        times = []
        for net, c in zip(nets, ctx):
            _sync(device)
            t0 = time.perf_counter()
            score_network(net, x, y, [name], c)
            _sync(device)
            times.append(time.perf_counter() - t0)
        s = statistics.median(times)
        alone[name] = {"s_per_arch": s, "archs_per_s": 1.0 / s if s > 0 else float("inf"),
                       "hours_15625_archs": s * SPACE / 3600, "hours_paper_protocol": s * SPACE * 30 / 3600}
    times = []
    for net, c in zip(nets, ctx):
        _sync(device)
        t0 = time.perf_counter()
        score_network(net, x, y, list(ALL), c)
        _sync(device)
        times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    return {"C": C, "N": N, "batch": batch, "archs_timed": archs, "images": source, "alone": alone,
            "all_shared_pass": {"s_per_arch": s, "archs_per_s": 1.0 / s, "hours_15625_archs": s * SPACE / 3600,
                                "hours_paper_protocol": s * SPACE * 30 / 3600}}


def sweep_overlap(device: str, C: int, N: int, batch: int, archs: int, workers_list, proxies_set: str,
                  data_root) -> dict:
    """The zero-shot engine's own sweep path (`zeroshot._scored`) over `archs` architectures with
    1, 2, 4, ... worker processes sharing the device: architectures per second in the steady
    state (the second half of the results, so worker start-up is left out) and the projection
    to all 15,625 cells at one seed and one batch."""
    import numpy as np

    from nas_core.data.images import normalise
    from nas_core.engines import zeroshot
    from nas_core.protocols.zeroshot import AFTER_STUDY, ALL
    from nas_core.space import nb201

    names = list(ALL) if proxies_set == "study" else list(ALL) + list(AFTER_STUDY) + ["te_nas_ntk"]
    images, labels, source = _images(data_root, batch, (3, 32, 32), device)
    data = [(normalise(images, "cifar10"), labels)]
    rng = np.random.default_rng(1)
    table = nb201.space_table()
    pick = rng.choice(np.flatnonzero(table.has_conv_path), size=archs, replace=False)
    ops = nb201.all_ops()
    todo = [(int(i), nb201.format_arch(tuple(int(o) for o in ops[i]))) for i in pick]
    job = zeroshot._Job(names, (20,), data, "nb201", C, N, 3, 10, device, None)
    out = {"proxies": proxies_set, "n_proxies": len(names), "archs": archs, "images": source, "by_workers": {}}
    for workers in workers_list:
        t0 = time.perf_counter()
        stamps = []
        for _ in zeroshot._scored(job, todo, workers):
            stamps.append(time.perf_counter() - t0)
        half = len(stamps) // 2
        steady = (len(stamps) - half - 1) / max(stamps[-1] - stamps[half], 1e-9)
        out["by_workers"][workers] = {"wall_s": stamps[-1], "archs_per_s_steady": steady,
                                      "minutes_15625_archs": SPACE / steady / 60}
    return out


def dask_run(device: str, gpus: int, data_root, tiny: bool) -> dict:
    from nas_core.engines.costmodel import read_timings
    from nas_core.engines.executor import run_dask
    from nas_core.engines.jobs import build_jobs, select, study_spec
    from nas_core.engines.study import Study

    with tempfile.TemporaryDirectory(prefix="gpu-check-") as cache:
        os.environ["NAS_CORE_CACHE"] = cache
        study = Study("smoke", device=device, data_root=data_root)
        jobs = build_jobs(study, ["rq1"])
        jobs = select(jobs, ["collect:zs:real:eval", "collect:os:deiso:s0"])
        t0 = time.perf_counter()
        summary = run_dask(jobs, study_spec(study), cluster=f"local:{gpus}", gpus=gpus, progress=False)
        wall = time.perf_counter() - t0
        timings = read_timings()
    device_jobs = timings[timings["job"].isin([j.id for j in jobs if j.gpu])]
    return {"ok": summary.ok, "jobs": len(jobs), "workers": summary.workers, "wall_s": wall,
            "summary": summary.text(), "device_jobs_on_a_gpu": bool(len(device_jobs)) and
            (tiny or bool((device_jobs["gpu_name"] != "").all())),
            "gpu_names": sorted(set(device_jobs["gpu_name"])) if len(device_jobs) else []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("NAS_CORE_DATA") or None)
    parser.add_argument("--cpu-dry-run", action="store_true", help="tiny sizes on the CPU: checks the script only")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    parser.add_argument("--steps", default="supernet,proxies,sweep_study,sweep_all,dask",
                        help="which steps to run, comma-separated (default all)")
    parser.add_argument("--sweep-archs", type=int, default=None, help="architectures per sweep (default 96)")
    parser.add_argument("--workers", default=None, help="worker counts for the sweeps, e.g. 1,4,12")
    args = parser.parse_args()
    if args.cpu_dry_run:
        device, gpus = "cpu", 1  # the Dask run still declares and requests one GPU resource
        torch.set_num_threads(1)
        sizes = dict(C=4, N=1, batch=32, steps=3, warmup=1, zs_batch=16, archs=2, sweep_archs=6, workers=(1, 2))
    else:
        if not torch.cuda.is_available():
            sys.exit("gpu_check: PyTorch sees no CUDA GPU (use --cpu-dry-run to check the script on a CPU)")
        device, gpus = "cuda", torch.cuda.device_count()
        sizes = dict(C=16, N=5, batch=512, steps=20, warmup=3, zs_batch=128, archs=8, sweep_archs=96,
                     workers=(1, 4, 8, 12))
    steps = set(args.steps.split(","))
    if args.sweep_archs:
        sizes["sweep_archs"] = args.sweep_archs
    if args.workers:
        sizes["workers"] = tuple(int(w) for w in args.workers.split(","))
    report = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)",
              "torch": torch.__version__, "dry_run": args.cpu_dry_run}
    t0 = time.perf_counter()
    if "supernet" in steps:
        report["supernet"] = supernet_epoch(device, sizes["C"], sizes["N"], sizes["batch"], sizes["steps"],
                                            sizes["warmup"], args.data_root)
        s = report["supernet"]
        print(f"[1] supernet C{s['C']}/N{s['N']} batch {s['batch']} ({s['images']} images): "
              f"{s['step_s_median'] * 1e3:.1f} ms/step, {s['epoch_s']:.1f} s/epoch of {PAPER_TRAIN_IMAGES} images, "
              f"{s['hours_1000_epochs']:.2f} h for 1000 epochs", flush=True)
    if "proxies" in steps:
        report["proxies"] = proxies(device, sizes["C"], sizes["N"], sizes["zs_batch"], sizes["archs"], args.data_root)
        p = report["proxies"]
        print(f"[2] proxies on C{p['C']}/N{p['N']}, batch {p['batch']}, {p['archs_timed']} archs (median s/arch -> "
              f"archs/s; hours for {SPACE} archs x 1 seed x 1 batch | x 3 seeds x 10 batches):")
        for name, r in list(p["alone"].items()) + [("ALL (one pass)", p["all_shared_pass"])]:
            print(f"    {name:15s} {r['s_per_arch']:8.4f} s  {r['archs_per_s']:8.1f}/s  "
                  f"{r['hours_15625_archs']:7.2f} h | {r['hours_paper_protocol']:8.1f} h", flush=True)
    for proxies_set in ("study", "all"):
        key = f"sweep_{proxies_set}"
        if key not in steps:
            continue
        report[key] = sweep_overlap(device, sizes["C"], sizes["N"], sizes["zs_batch"], sizes["sweep_archs"],
                                    sizes["workers"], proxies_set, args.data_root)
        w = report[key]
        print(f"[2b] sweep of {w['archs']} archs, {w['n_proxies']} proxies ({proxies_set}), one seed, one batch of "
              f"{sizes['zs_batch']}: worker processes sharing the device -> steady archs/s, minutes for {SPACE}:")
        for k, r in w["by_workers"].items():
            print(f"    {k} worker(s): {r['archs_per_s_steady']:8.2f}/s  {r['minutes_15625_archs']:8.1f} min "
                  f"(wall {r['wall_s']:.1f} s incl. start-up)", flush=True)
        if args.out:  # each step's figures are kept even if a later step runs out of time
            Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    ok = True
    if "dask" in steps:
        report["dask"] = dask_run(device, gpus, args.data_root, args.cpu_dry_run)
        d = report["dask"]
        print(f"[3] dask, {d['workers']} GPU worker(s), {d['jobs']} jobs: {d['wall_s']:.1f} s, ok={d['ok']}, "
              f"device jobs on a GPU worker: {d['device_jobs_on_a_gpu']} {d['gpu_names']}\n    {d['summary']}")
        ok = d["ok"] and d["device_jobs_on_a_gpu"]
    report["total_s"] = time.perf_counter() - t0
    print(f"gpu_check: {report['total_s']:.0f} s end to end" + (" (dry run: the figures mean nothing)"
                                                                 if args.cpu_dry_run else ""))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
