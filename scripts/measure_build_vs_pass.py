"""Time network construction against one forward+backward pass (batch 64, CIFAR size) for
NAS-Bench-101 cells and NDS networks: is the construction negligible next to the scoring?

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/measure_build_vs_pass.py [--data-root DIR] [--threads 1]

NB101 cells: the sample's smallest, median and 90th-percentile networks by FLOPs when a data
root is given, else seeded random cells. NDS: seeded random networks of each space.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F


def timed(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def pass_time(net, batch=64):
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    net.train()

    def step():
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
    step()  # warm-up (allocator, kernels)
    return timed(step)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from nas_core.nets import nb101 as nb101_net
    from nas_core.nets import nds as nds_net
    from nas_core.space import nb101, nds

    if args.data_root:
        from nas_core.data.nb101_truth import load_nb101_truth
        frame = load_nb101_truth(args.data_root).sort_values("flops_M_cifar10")
        picks = [frame.iloc[int(q * (len(frame) - 1))] for q in (0.0, 0.5, 0.9)]
        cells = [nb101.parse(r["arch_str"]) for r in picks]
    else:
        cells = nb101.sample(3, seed=0)
    print("benchmark  arch  params_M  MFLOPs  build_s  build_meta_ms  fwd+bwd_b64_s")
    for cell in cells:
        p, f = nb101.params_flops(cell)
        tb, net = timed(lambda: nb101_net.init_seeded(cell, 0), repeat=2)
        tm, _ = timed(lambda: _meta(nb101_net.NB101Network, cell), repeat=2)
        print(f"nb101  {cell.n_vertices}v/{cell.n_edges}e  {p / 1e6:.2f}  {f / 1e6:.0f}  {tb:.3f}  {tm * 1e3:.1f}  "
              f"{pass_time(net):.2f}", flush=True)
    for space in ("resnet", "resnexta"):
        for arch in nds.sample(space, 3, seed=0):
            p, f = nds.params_flops(arch)
            tb, net = timed(lambda: nds_net.init_seeded(arch, 0), repeat=2)
            print(f"{space}  {arch}  {p / 1e6:.2f}  {f / 1e6:.0f}  {tb:.3f}  -  {pass_time(net):.2f}", flush=True)


def _meta(cls, *a):
    with torch.device("meta"):
        return cls(*a)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
