"""Seconds per architecture of the proxies published after the study: each alone, and all of
them in one shared pass, measured in the same run (docs/zeroshot.md, "Proxies after the study").

    .venv/bin/python benchmarks/bench_new_proxies.py [--archs 3] [--C 16] [--N 5] [--batch 64] \
        [--threads 1] [--proxies a,b]

After one warm-up call of everything, for each architecture (a seeded sample of NB201 cells
with a conv path; PyTorch-default init, seed 20; one random batch, the same for all): every proxy alone
(`score_network(net, x, y, [p])`, wall time), then all of them together (one call). Prints, per
proxy, the seconds per architecture alone and its share of the shared call (the pass time split
among the proxies that use it, plus its own reduction), then the sum of the alone times, the
shared call and their ratio. The values of the two paths are compared too (largest relative
difference). Random images: no data needed. Single-threaded by default, as the CPU sweep's
worker processes run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nas_core.engines.zeroshot import score_network
from nas_core.nets.network import init_seeded
from nas_core.proxies import AFTER_STUDY_PROXIES
from nas_core.space import nb201
from nas_core.space.complexity import dataset_macro, params_flops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=3)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--proxies", default=",".join(AFTER_STUDY_PROXIES))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = args.proxies.split(",")
    table = nb201.space_table()
    picks = np.random.default_rng(0).choice(np.flatnonzero(table.has_conv_path), size=args.archs, replace=False)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (args.batch,), generator=gen)
    print(f"torch={torch.__version__} threads={torch.get_num_threads()} archs={args.archs} C={args.C} N={args.N} "
          f"batch={args.batch} proxies={len(names)}")
    warm = init_seeded(tuple(int(o) for o in table.ops[picks[0]]), 0, C=args.C, N=args.N)
    score_network(warm, x, y, names, {"flops_M": 1.0})  # warm-up of every kernel (allocator, first-call costs)
    alone = {p: 0.0 for p in names}
    share = {p: 0.0 for p in names}
    shared_total, worst = 0.0, 0.0
    for k in picks:
        ops = tuple(int(o) for o in table.ops[k])
        p_m, f_m = params_flops(np.array([ops]), dataset_macro("cifar10"))
        ctx = {"params_M": float(p_m[0]), "flops_M": float(f_m[0]), "seed": 20}
        net = init_seeded(ops, 20, C=args.C, N=args.N)
        values, t_arch = {}, time.perf_counter()
        for p in names:
            t0 = time.perf_counter()
            values[p] = score_network(net, x, y, [p], ctx)[p][0]
            alone[p] += time.perf_counter() - t0
        t_alone = time.perf_counter() - t_arch
        t0 = time.perf_counter()
        together = score_network(net, x, y, names, ctx)
        t_shared = time.perf_counter() - t0
        shared_total += t_shared
        for p, (value, secs, _) in together.items():
            share[p] += secs
            a = values[p]
            if np.isfinite(a) and np.isfinite(value):
                worst = max(worst, abs(a - value) / max(abs(a), abs(value), 1e-12))
        print(f"  {nb201.format_arch(ops)}: alone {t_alone:.2f} s, shared {t_shared:.2f} s", flush=True)
    n = len(picks)
    print(f"\n{'proxy':<22s} {'alone s/arch':>13s} {'share in shared':>16s}")
    for p in sorted(names, key=lambda q: -alone[q]):
        print(f"{p:<22s} {alone[p] / n:13.3f} {share[p] / n:16.3f}")
    total_alone = sum(alone.values())
    print(f"\nsum of alone      : {total_alone / n:8.2f} s/arch")
    print(f"all in one pass   : {shared_total / n:8.2f} s/arch")
    print(f"ratio             : {total_alone / shared_total:8.2f}x (sum of alone / shared, same run)")
    print(f"largest relative difference between alone and shared values: {worst:.1e}")


if __name__ == "__main__":
    main()
