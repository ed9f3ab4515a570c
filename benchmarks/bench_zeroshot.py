"""Timing of the zero-shot sweep: the kit's shared pass against the reference library.

    [ZC_NAS_REFERENCE=<zero-cost-nas checkout>] .venv/bin/python benchmarks/bench_zeroshot.py \
        [--archs 6] [--C 16] [--N 5] [--batch 128] [--device cpu] [--proxies a,b] [--separate]

With ZC_NAS_REFERENCE naming a local checkout of SamsungLabs' zero-cost-nas (not on PyPI;
nothing of it is part of the kit), the reference's measures run in the same process on the
same networks and batch, one `calc_measure` call per proxy as its `find_measures` does;
relu_logdet, which the library lacks, runs as NASWOT's released code computes it (its own
forward, K += c c^T + (1-c)(1-c)^T per ReLU). Prints per-proxy and total seconds per
architecture for both and the ratio. Without the variable, the kit's figures alone.
`--separate` adds the kit with one pass per proxy. Only ratios from one run are comparable.
Uses random images (no data needed).

    .venv/bin/python benchmarks/bench_zeroshot.py --sweep [--archs 20] [--batch 64]

times the sweep engine's scoring path (`run_zero_shot`'s, without the store) over the same
architectures twice: serially with torch's threads inside each architecture, then with
single-threaded worker processes over architectures (one per core); prints archs/s for both
and checks that the values are identical.

    .venv/bin/python benchmarks/bench_zeroshot.py --device cuda --all-space-projection [--archs 200]

the prepared GPU check: every network proxy of the kit on a uniform sample of the 15,625 NB201
architectures (network construction and transfer included, the batch already on the device),
then archs/s and the time projected for the whole space (one seed, one batch). Runs on CPU
too (e.g. `--archs 2 --batch 16` as a smoke test).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nas_core.config import resolve_device
from nas_core.engines.zeroshot import score_network
from nas_core.nets.network import init_seeded
from nas_core.protocols.zeroshot import ALL
from nas_core.space import nb201
from nas_core.space.complexity import dataset_macro, params_flops

REFERENCE_SET = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "plain", "synflow", "relu_logdet"]


def naswot_logdet(net, x) -> float:
    """relu_logdet as NASWOT's released code computes it: its own forward, two matmuls per ReLU."""
    k = torch.zeros(len(x), len(x), device=x.device)

    def hook(module, inputs, output):
        c = (inputs[0].reshape(len(x), -1) > 0).float()
        k.add_(c @ c.T + (1.0 - c) @ (1.0 - c).T)
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.ReLU)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return float(torch.linalg.slogdet(k.double())[1])


def reference_timings(ref, net, x, y, names) -> dict[str, float]:
    """Seconds per proxy for the reference library, one call per proxy."""
    from torch.nn import functional as F

    measures, predictive = ref
    net.get_prunable_copy = __import__("types").MethodType(predictive.copynet, net)
    out = {}
    try:
        for name in names:
            t0 = time.perf_counter()
            if name == "relu_logdet":
                naswot_logdet(net, x)
            else:
                measures.calc_measure(name, net, x.device, x.clone(), y.clone(), loss_fn=F.cross_entropy, split_data=1)
            out[name] = time.perf_counter() - t0
    finally:
        del net.get_prunable_copy
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=6)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--proxies", default=",".join(REFERENCE_SET), help=f"comma-separated; all: {','.join(ALL)}")
    ap.add_argument("--separate", action="store_true", help="also time the kit with one pass per proxy")
    ap.add_argument("--sweep", action="store_true", help="threads within an architecture vs worker processes")
    ap.add_argument("--workers", type=int, default=0, help="--sweep: worker processes (default: one per core)")
    ap.add_argument("--all-space-projection", action="store_true",
                    help="all proxies on a sample, archs/s and the projected time for all 15,625 (GPU check)")
    args = ap.parse_args()
    if args.sweep:
        return sweep(args)
    if args.all_space_projection:
        return all_space_projection(args)
    ref = None
    if os.environ.get("ZC_NAS_REFERENCE"):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from compare_reference import load_reference

        ref = load_reference(os.environ["ZC_NAS_REFERENCE"])
    else:
        print("ZC_NAS_REFERENCE is not set: the kit's figures alone (point it at a local checkout of "
              "https://github.com/SamsungLabs/zero-cost-nas to time the reference in the same run)")
    global PROXIES
    PROXIES = args.proxies.split(",")
    device = resolve_device(args.device)
    table = nb201.space_table()
    rng = np.random.default_rng(0)
    kit = rng.choice(np.flatnonzero(table.has_conv_path), size=args.archs, replace=False)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 10, (args.batch,), generator=gen).to(device)
    print(f"device={device} torch={torch.__version__} threads={torch.get_num_threads()} archs={args.archs} "
          f"C={args.C} N={args.N} batch={args.batch} proxies={len(PROXIES)}")

    shared_t, separate_t, per_proxy, worst = 0.0, 0.0, {p: 0.0 for p in PROXIES}, 0.0
    ref_per_proxy = {p: 0.0 for p in PROXIES}
    for k in kit:
        ops = tuple(table.ops[k])
        p_m, f_m = params_flops(np.array([ops]), dataset_macro("cifar10"))
        ctx = {"params_M": float(p_m[0]), "flops_M": float(f_m[0])}
        net = init_seeded(ops, 20, C=args.C, N=args.N).to(device)
        score_network(net, x, y, ["snip"], ctx)  # warm-up (allocator, kernels)
        t0 = time.perf_counter()
        shared = score_network(net, x, y, PROXIES, ctx)
        shared_t += time.perf_counter() - t0
        for p, (_, secs, _) in shared.items():
            per_proxy[p] += secs
        if ref is not None:
            unknown = [p for p in PROXIES if p != "relu_logdet" and p not in ref[0].available_measures]
            for p, secs in reference_timings(ref, net, x, y, [p for p in PROXIES if p not in unknown]).items():
                ref_per_proxy[p] += secs
        if not args.separate:
            continue
        t0 = time.perf_counter()
        separate = {p: score_network(net, x, y, [p], ctx)[p] for p in PROXIES}
        separate_t += time.perf_counter() - t0
        for p in PROXIES:
            a, b = shared[p][0], separate[p][0]
            if np.isfinite(a) and np.isfinite(b):
                worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-12))
    n = len(kit)
    print(f"\nkit, shared pass : {shared_t / n:8.3f} s/arch (all {len(PROXIES)} proxies)")
    if args.separate:
        print(f"kit, pass/proxy  : {separate_t / n:8.3f} s/arch (same run), {separate_t / shared_t:.2f}x the shared pass")
        print(f"largest relative difference between the two kit paths: {worst:.2e}")
    ref_t = sum(ref_per_proxy.values())
    if ref is not None:
        print(f"reference        : {ref_t / n:8.3f} s/arch (zero-cost-nas, one call per proxy, same run)")
        print(f"ratio            : {ref_t / shared_t:8.2f}x (reference time / kit time)")
    print("\nper-proxy seconds per architecture (kit: share of the shared pass + own reduction)")
    print(f"  {'proxy':<12s} {'kit':>8s}" + (f" {'reference':>10s}" if ref is not None else ""))
    for p, s in sorted(per_proxy.items(), key=lambda kv: -kv[1]):
        print(f"  {p:<12s} {s / n:8.3f}" + (f" {ref_per_proxy[p] / n:10.3f}" if ref is not None else ""))


def _random_batch(batch: int, device):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=gen).to(device)
    return x, torch.randint(0, 10, (batch,), generator=gen).to(device)


def sweep(args) -> None:
    """archs/s of the engine's scoring path: threads inside one architecture vs processes."""
    from nas_core.engines.zeroshot import _Job, _scored

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = args.workers or cores
    table = nb201.space_table()
    picks = np.random.default_rng(1).choice(np.flatnonzero(table.has_conv_path), size=args.archs, replace=False)
    todo = [(int(i), nb201.format_arch(table.ops[i])) for i in picks]
    job = _Job(args.proxies.split(","), (20,), [_random_batch(args.batch, "cpu")], "nb201",
               args.C, args.N, 3, 10, "cpu", None)
    print(f"sweep: {args.archs} archs, C={args.C} N={args.N} batch={args.batch}, {cores} cores, torch {torch.__version__}")
    values, rates = {}, {}
    for mode, n_workers, threads in (("threads", 1, cores), ("processes", workers, 1)):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        rows = [r for _, _, arch_rows in _scored(job, todo, n_workers) for r in arch_rows]
        rates[mode] = len(todo) / (time.perf_counter() - t0)
        values[mode] = {(r[0], r[4]): r[5] for r in rows}
        print(f"  {mode:<10s}: {n_workers} process(es) x {threads} thread(s): {rates[mode]:.3f} archs/s "
              f"({1 / rates[mode]:.2f} s/arch, start-up included)")
    a, b = values["threads"], values["processes"]
    worst = max(abs(a[k] - b[k]) / max(abs(a[k]), abs(b[k]), 1e-12) for k in a if np.isfinite(a[k]) and np.isfinite(b[k]))
    print(f"  processes / threads: {rates['processes'] / rates['threads']:.2f}x; largest relative difference "
          f"of the values: {worst:.1e}")


def all_space_projection(args) -> None:
    """The prepared GPU check: archs/s for all network proxies, projected to all 15,625."""
    from nas_core.proxies import available

    device = resolve_device(args.device)
    names = [n for n in available() if n not in ("vote", "fisher_channel")]
    table = nb201.space_table()
    picks = np.random.default_rng(2).choice(len(table.ops), size=args.archs, replace=False)
    x, y = _random_batch(args.batch, device)
    macro = dataset_macro("cifar10")
    print(f"device={device} torch={torch.__version__} archs={args.archs} (uniform sample of {len(table.ops)}) "
          f"C={args.C} N={args.N} batch={args.batch} proxies={len(names)}: {','.join(names)}")

    def one(k):
        ops = tuple(table.ops[k])
        p_m, f_m = params_flops(np.array([ops]), macro)
        net = init_seeded(ops, 20, C=args.C, N=args.N).to(device)
        return score_network(net, x, y, names, {"params_M": float(p_m[0]), "flops_M": float(f_m[0])})
    one(picks[0])  # warm-up (allocator, kernels, cuDNN choice)
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    nan = sum(int(not np.isfinite(v)) for k in picks for v, _, _ in one(k).values())
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)
    rate = len(picks) / (time.perf_counter() - t0)
    print(f"{rate:.2f} archs/s ({1 / rate:.3f} s/arch, all {len(names)} proxies, construction included; {nan} NaN)")
    print(f"projected for all {len(table.ops)} NB201 architectures x 1 seed x 1 batch of {args.batch}: "
          f"{len(table.ops) / rate / 60:.1f} min (projected from the measured sample of {len(picks)})")


if __name__ == "__main__":
    main()
