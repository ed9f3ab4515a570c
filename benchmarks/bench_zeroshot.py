"""Timing of the zero-shot sweep: one shared pass for every proxy vs one pass per proxy.

    .venv/bin/python benchmarks/bench_zeroshot.py [--archs 4] [--C 16] [--N 5] [--batch 128] [--device cpu] [--proxies a,b]

The baseline is the reference code's structure, measured in the same run on the same
networks and batch: every proxy runs its own forward/backward. Both paths call the same
`score_network`, so the values must agree (printed: the largest relative difference).
Prints seconds per architecture for both paths, the ratio, and each proxy's own cost
(its share of the shared pass + its own reduction). Uses random images (no data needed).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nas_core.config import resolve_device
from nas_core.engines.zeroshot import score_network
from nas_core.nets.network import init_seeded
from nas_core.protocols.zeroshot import ALL
from nas_core.space import nb201
from nas_core.space.complexity import dataset_macro, params_flops

# the set the reference figure (18.6 s/arch, zero-cost-nas, 2-core CPU, batch 128) covers
REFERENCE_SET = ["grad_norm", "snip", "grasp", "fisher", "jacob_cov", "plain", "synflow", "relu_logdet"]
REFERENCE_SECONDS = 18.6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=3)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--proxies", default=",".join(REFERENCE_SET), help=f"comma-separated; all: {','.join(ALL)}")
    args = ap.parse_args()
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
        t0 = time.perf_counter()
        separate = {p: score_network(net, x, y, [p], ctx)[p] for p in PROXIES}
        separate_t += time.perf_counter() - t0
        for p in PROXIES:
            a, b = shared[p][0], separate[p][0]
            if np.isfinite(a) and np.isfinite(b):
                worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-12))
    n = len(kit)
    print(f"\nshared pass      : {shared_t / n:8.3f} s/arch (all {len(PROXIES)} proxies)")
    print(f"one pass / proxy : {separate_t / n:8.3f} s/arch (baseline, same run)")
    print(f"speed-up         : {separate_t / shared_t:8.2f}x")
    if PROXIES == REFERENCE_SET and args.batch == 128 and (args.C, args.N) == (16, 5):
        print(f"vs the issue's reference figure ({REFERENCE_SECONDS} s/arch, same set/batch/network): "
              f"{REFERENCE_SECONDS / (shared_t / n):.2f}x less time")
    print(f"largest relative difference between the two paths: {worst:.2e}")
    print("\nper-proxy seconds per architecture (shared pass, attributed):")
    for p, s in sorted(per_proxy.items(), key=lambda kv: -kv[1]):
        print(f"  {p:<12s} {s / n:8.3f}")


if __name__ == "__main__":
    main()
