"""Timing of a supernet training step against the standalone network of the same architecture.

    .venv/bin/python benchmarks/bench_supernet.py [--archs 6] [--C 16] [--N 5] [--batch 128] [--device cpu]

For each sampled architecture (iso sampler, seeded), in the same run, on the same batch:
  supernet    train_step(supernet, SGD, [arch], x, y) -- the kit's training step
  standalone  the same step on NB201Network(arch) with the same C/N and BN setting (the floor)
Prints the median step times and their ratio (issue target: <= 1.15x), then the scoring
throughput (architectures/s for one held-out batch, BN with batch statistics).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from nas_core.config import resolve_device
from nas_core.engines.supernet_train import train_step
from nas_core.nets.network import NB201Network
from nas_core.nets.supernet import Supernet
from nas_core.samplers import make_sampler


def timed(fn, repeats: int, device: str) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=6)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    supernet = Supernet(C=args.C, N=args.N, affine=False, dropout=0.0).to(device)
    sgd = torch.optim.SGD(supernet.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    sampler = make_sampler("iso", seed=0)
    print(f"device={device} torch={torch.__version__} threads={torch.get_num_threads()} C={args.C} N={args.N} "
          f"batch={args.batch} archs={args.archs} repeats={args.repeats}")
    sup_t, alone_t, score_t = [], [], []
    for _ in range(args.archs):
        arch = sampler.step()[0]
        sup_t.append(timed(lambda: train_step(supernet, sgd, [arch], x, y, 5.0), args.repeats, device))
        alone = NB201Network(arch, C=args.C, N=args.N, cell_affine=False).to(device)
        opt = torch.optim.SGD(alone.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def standalone_step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(alone(x), y).backward()
            torch.nn.utils.clip_grad_norm_(alone.parameters(), 5.0)
            opt.step()

        alone_t.append(timed(standalone_step, args.repeats, device))
        with torch.no_grad():
            score_t.append(timed(lambda: supernet(x, arch), args.repeats, device))
        print(f"  {arch}: supernet {sup_t[-1] * 1e3:8.1f} ms   standalone {alone_t[-1] * 1e3:8.1f} ms   "
              f"ratio {sup_t[-1] / alone_t[-1]:.3f}")
    total_sup, total_alone = sum(sup_t), sum(alone_t)
    print(f"\nsupernet step / standalone step (sum over archs): {total_sup / total_alone:.3f}x  "
          f"(median per arch {statistics.median(s / a for s, a in zip(sup_t, alone_t)):.3f}x)")
    print(f"scoring: {len(score_t) / sum(score_t):.1f} architectures/s for one batch of {args.batch}")


if __name__ == "__main__":
    main()
