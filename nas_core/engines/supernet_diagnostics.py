"""Variance diagnostics of weight sharing (RQ2), measured at every checkpoint of a run.

Forgetting value (FV): from a checkpoint, train `n_archs` steps, one sampled architecture
per step, on a copy of the supernet. FV of architecture a = held-out accuracy after all
those steps - held-out accuracy right after a's own step. Negative = the steps of the other
architectures made the supernet forget a.

Gradient similarity: at a checkpoint, on one fixed batch, the gradients of `n_archs` sampled
architectures; for every pair and every layer (a cell, the stem, a reduction block, the
classifier) the cosine similarity of their gradients on the parameters both used. Negative
values mean the architectures pull the shared weights in opposite directions.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from nas_core.cache import ResultStore
from nas_core.config import torch_threads
from nas_core.data.images import augment, normalise
from nas_core.engines.supernet_train import (checkpoint_path, list_checkpoints, load_checkpoint, load_data,
                                             run_record, train_step)
from nas_core.protocols.supernet import SupernetProtocol


def _bench(record: dict):
    """The run's benchmark: its uniform sampler draws the diagnostics' architectures."""
    from nas_core import benchmarks
    from nas_core.engines.supernet_train import benchmark_of

    return benchmarks.get(benchmark_of(record))


def _cached(kind: str, run: Path, n_archs: int, compute) -> pd.DataFrame:
    run = Path(run)
    epochs = list_checkpoints(run)
    from nas_core.engines.supernet_score import run_key

    store = ResultStore(kind, {"run": run_key(run), "n_archs": n_archs, "cpu_threads": 1,
                               "ckpts": [checkpoint_path(run, e).stat().st_size for e in epochs]})
    done = {k[0] for k in store.done_keys(["epoch"])}
    for epoch in epochs:
        if epoch not in done:
            # one thread wherever they run: CPU convolutions split their sums by thread count, so
            # the forgetting steps ended in slightly different weights on 1 and 2 threads (FV moved
            # by 1-2 of 256 images between a job and a notebook on every core; measured: summed
            # accuracy 428.9 on 1 thread, 429.7 on 2, identical on reruns). The diagnostics are cheap.
            with torch_threads(1):
                store.append(compute(epoch))
    return store.read().sort_values(["epoch"], kind="stable", ignore_index=True)


def _held_out_batch(record: dict, device: str, size: int = 256):
    train, held = load_data(record, device)
    x = normalise(held.images[:size].to(device), record["dataset"])
    return train, x, held.labels[:size].to(device)


def _accuracy(net, x, y, arch) -> float:
    with torch.inference_mode():
        return (net(x, arch).argmax(1) == y).float().mean().item() * 100.0


def forgetting_values(run: Path, n_archs: int = 16, device: str = "cpu") -> pd.DataFrame:
    """Tidy: epoch, step, arch_str, acc_after_own_step, acc_after_all, forgetting."""
    record = run_record(run)
    proto = SupernetProtocol(**record["protocol"])
    bench = _bench(record)

    def compute(epoch):
        # the steps' dropout draws from torch's global RNG: seed it per checkpoint, so the values
        # do not depend on what ran before in this process (an executor runs jobs in any order)
        forked = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(30_000 + epoch)
            return steps(epoch)

    def steps(epoch):
        net, state = load_checkpoint(Path(run), epoch, device)
        train, xv, yv = _held_out_batch(record, device)
        optimizer = torch.optim.SGD(net.parameters(), lr=state["log"][-1]["lr"] if state.get("log") else proto.lr,
                                    momentum=proto.momentum, weight_decay=proto.weight_decay)
        sampler = bench.sampler("iso", 10_000 + epoch, proto=proto)
        gen = torch.Generator().manual_seed(epoch)
        archs = [sampler.step()[0] for _ in range(n_archs)]
        after_own = []
        for arch in archs:
            idx = torch.randint(0, len(train), (proto.batch_size,), generator=gen)
            x = augment(normalise(train.images[idx].to(device), record["dataset"]), gen)
            net.train()
            train_step(net, optimizer, [arch], x, train.labels[idx].to(device), proto.grad_clip)
            net.scoring_mode()
            after_own.append(_accuracy(net, xv, yv, arch))
        net.scoring_mode()
        after_all = [_accuracy(net, xv, yv, a) for a in archs]
        return pd.DataFrame({"epoch": epoch, "step": np.arange(n_archs),
                             "arch_str": [bench.format(a) for a in archs],
                             "acc_after_own_step": after_own, "acc_after_all": after_all,
                             "forgetting": np.subtract(after_all, after_own)})

    return _cached("forgetting", run, n_archs, compute)


def _layer_of(name: str) -> str:
    parts = name.split(".")
    return f"{parts[0]}.{parts[1]}" if parts[0] == "cells" else parts[0]


def gradient_similarity(run: Path, n_archs: int = 16, device: str = "cpu", bn_scale_only: bool = False) -> pd.DataFrame:
    """Tidy: epoch, layer, cosine (mean over pairs that share parameters there), n_pairs.
    bn_scale_only: only the BatchNorm scale parameters (gamma) count -- in the BN-affine
    variant the cells' gammas are shared between the archs that use an op, like conv weights."""
    record = run_record(run)
    bench = _bench(record)

    def compute(epoch):
        net, _ = load_checkpoint(Path(run), epoch, device)
        _, x, y = _held_out_batch(record, device, size=128)
        net.scoring_mode()
        sampler = bench.sampler("iso", 20_000 + epoch, proto=SupernetProtocol(**record["protocol"]))
        archs = [sampler.step()[0] for _ in range(n_archs)]
        names = [n for n, _ in net.named_parameters()]
        params = list(net.parameters())
        if bn_scale_only:
            gammas = {id(m.weight) for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.affine}
        grads = []
        for arch in archs:
            used = {id(p) for p in net.used_parameters(arch)}
            if bn_scale_only:
                used &= gammas
            g = torch.autograd.grad(F.cross_entropy(net(x, arch), y), params, allow_unused=True)
            grads.append({n: gi.flatten() for n, p, gi in zip(names, params, g) if gi is not None and id(p) in used})
        sums: dict[str, list[float]] = {}
        for a, b in combinations(range(n_archs), 2):
            per_layer: dict[str, list[torch.Tensor]] = {}
            for n in grads[a].keys() & grads[b].keys():
                per_layer.setdefault(_layer_of(n), []).append(n)
            for layer, keys in per_layer.items():
                ga = torch.cat([grads[a][k] for k in sorted(keys)])
                gb = torch.cat([grads[b][k] for k in sorted(keys)])
                sums.setdefault(layer, []).append(F.cosine_similarity(ga, gb, dim=0).item())
        return pd.DataFrame([{"epoch": epoch, "layer": layer, "cosine": float(np.mean(v)), "n_pairs": len(v)}
                             for layer, v in sorted(sums.items())])

    return _cached("bn_gamma_similarity" if bn_scale_only else "gradient_similarity", run, n_archs, compute)
