"""Build the mini benchmark: train NB201 architectures on Fashion-MNIST (16x16) from scratch.

`build` trains every (architecture, seed) pair of the protocol that is not yet in the cache
(one parquet part per pair, so an interrupted build resumes where it stopped, and processes
started with different `shard="i/n"` -- or none -- never train a pair twice), then assembles the table and its provenance record.
Training is deterministic on CPU for a given (architecture, seed): seeded initial weights,
a seeded generator for the batch order and the flips.
"""
from __future__ import annotations

import dataclasses
import platform
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nas_core.cache import ResultStore, atomic_write_frame, atomic_write_json
from nas_core.data.images import load_images, normalise, stratified_split
from nas_core.config import parse_shard
from nas_core.errors import BadParameter
from nas_core.nets.network import count_parameters, init_seeded
from nas_core.protocols.minibench import MINI_BENCH, MiniBenchProtocol
from nas_core.space import nb201
from nas_core.space.complexity import Macro, params_flops
from nas_core.space.selection import select_archs


def space_pool() -> pd.DataFrame:
    """The whole space as a selection pool: index = kit id; the class representative is the
    first member in kit-id order."""
    table = nb201.space_table()
    kit = np.arange(nb201.N_ARCHS)
    first = pd.Series(kit).groupby(table.iso_key).transform("min").to_numpy()
    return pd.DataFrame({"index": kit, "arch_str": [nb201.format_arch(o) for o in table.ops.tolist()],
                         "iso_representative": first == kit})


def mini_archs(proto: MiniBenchProtocol = MINI_BENCH) -> np.ndarray:
    """Kit ids of the benchmark's architectures (seeded, stratified over FLOPs groups)."""
    return select_archs(f"sample:{proto.n_archs}", space_pool(), seed=proto.sample_seed)


@lru_cache(maxsize=2)
def training_data(proto: MiniBenchProtocol, data_root=None, device: str = "cpu"):
    """(train x, train y, test x, test y): float, normalised, on `device`."""
    train = load_images(proto.dataset, "train", data_root)
    idx, _ = stratified_split(train.labels.numpy(), proto.train_images, proto.split_seed)
    test = load_images(proto.dataset, "test", data_root)
    as_dev = lambda s: (normalise(s.images.to(device), proto.dataset), s.labels.to(device))  # noqa: E731
    return (*as_dev(train.subset(idx)), *as_dev(test))


def train_one(ops, seed: int, proto: MiniBenchProtocol = MINI_BENCH, data_root=None, device: str = "cpu") -> dict:
    """Train one architecture with one seed; returns test accuracy (%), final training loss, time."""
    x, y, xt, yt = training_data(proto, data_root, device)
    start = time.perf_counter()
    net = init_seeded(ops, seed, C=proto.C, N=proto.N, num_classes=10, in_channels=x.shape[1]).to(device)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    steps_per_epoch = -(-len(x) // proto.batch_size)
    opt = torch.optim.SGD(net.parameters(), lr=proto.lr, momentum=proto.momentum, nesterov=True,
                          weight_decay=proto.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=proto.epochs * steps_per_epoch)
    net.train()
    losses = []
    for _ in range(proto.epochs):
        order = torch.randperm(len(x), generator=gen).to(device)
        flips = (torch.rand(len(x), generator=gen) < 0.5).to(device) if proto.flip else None
        epoch_loss = torch.zeros((), device=device)
        for s in range(0, len(x), proto.batch_size):
            b = order[s:s + proto.batch_size]
            xb = x[b]
            if flips is not None:
                xb = torch.where(flips[b].view(-1, 1, 1, 1), xb.flip(3), xb)
            loss = F.cross_entropy(net(xb), y[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            epoch_loss += loss.detach() * len(b)
        losses.append(float(epoch_loss) / len(x))
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(xt[i:i + 2000]).argmax(1) == yt[i:i + 2000]).sum()) for i in range(0, len(xt), 2000))
    return {"test_acc": 100.0 * correct / len(xt), "train_loss": losses[-1],
            "params": count_parameters(net), "seconds": time.perf_counter() - start}


def _store(proto: MiniBenchProtocol) -> ResultStore:
    config = {"engine": "minibench", **dataclasses.asdict(proto), "torch": torch.__version__.split("+")[0]}
    return ResultStore("minibench", config, unique=["index", "seed"])


def build(proto: MiniBenchProtocol = MINI_BENCH, data_root=None, device: str = "cpu", shard: str | None = None,
          limit: int | None = None, progress: bool = True, from_end: bool = False) -> pd.DataFrame:
    """Train the missing (arch, seed) pairs of this shard; returns every trained row so far."""
    from tqdm import tqdm  # text bar: tqdm.auto warns (with a path) without ipywidgets

    i, n = parse_shard(shard)
    store = _store(proto)
    done = store.done_keys(["index", "seed"])
    pairs = [(int(k), int(s)) for k in mini_archs(proto) for s in proto.seeds]
    todo = [p for j, p in enumerate(pairs) if j % n == i and p not in done]
    if from_end:  # a second process started late meets the first one in the middle
        todo = todo[::-1]
    if limit is not None:
        todo = todo[:limit]
    ops_all = nb201.space_table().ops
    for kit, seed in tqdm(todo, desc=f"mini benchmark {i}/{n}", unit="run", disable=not progress):
        tag = f"{kit}-{seed}"  # one part per pair: other processes see it's done
        if any(store.path.glob(f"part-{tag}-*.parquet")):
            continue
        row = train_one(tuple(ops_all[kit]), seed, proto, data_root, device)
        store.append(pd.DataFrame([{"index": kit, "seed": seed, **row, "device": device}]), tag=tag)
    return store.read()


def assemble(proto: MiniBenchProtocol = MINI_BENCH) -> pd.DataFrame:
    """The benchmark table (one row per architecture), once every pair is trained."""
    runs = _store(proto).read()
    kits = mini_archs(proto)
    have = set() if runs.empty else set(map(tuple, runs[["index", "seed"]].itertuples(index=False, name=None)))
    missing = [(int(k), int(s)) for k in kits for s in proto.seeds if (int(k), int(s)) not in have]
    if missing:
        raise BadParameter(f"the mini benchmark is incomplete: {len(missing)} of {len(kits) * len(proto.seeds)} "
                           "trainings missing", fix="run `nas-core mini-bench build` (it resumes)")
    runs = runs.drop_duplicates(["index", "seed"])
    acc = runs.pivot(index="index", columns="seed", values="test_acc").loc[kits]
    table = pd.DataFrame({"index": kits, "arch_str": [nb201.format_arch(o) for o in nb201.space_table().ops[kits].tolist()]})
    for s in proto.seeds:
        table[f"fmnist_test_acc_seed{s}"] = acc[s].to_numpy().round(2)
    table["fmnist_test_acc_mean"] = acc[list(proto.seeds)].mean(axis=1).to_numpy().round(3)
    macro = Macro(C=proto.C, N=proto.N, resolution=16, num_classes=10, in_channels=1)
    p, f = params_flops(nb201.space_table().ops[kits], macro)
    table["params_M"], table["flops_M"] = p.round(6), f.round(6)
    table["train_seconds_mean"] = runs.groupby("index")["seconds"].mean().loc[kits].to_numpy().round(2)
    return table


def provenance(proto: MiniBenchProtocol, table: pd.DataFrame) -> dict:
    runs = _store(proto).read().drop_duplicates(["index", "seed"])
    return {"what": "the kit's mini NB201 benchmark on Fashion-MNIST (16x16)",
            "protocol": dataclasses.asdict(proto), "n_archs": int(len(table)), "n_trainings": int(len(runs)),
            "selection": f"sample:{proto.n_archs} (de-isomorphic, conv path, stratified over 5 FLOPs groups, "
                         f"seed {proto.sample_seed}); index = the kit's base-5 id, not the NB201 API index",
            "train_cpu_seconds_total": round(float(runs["seconds"].sum()), 1),
            "devices": sorted(runs["device"].unique().tolist()),
            "versions": {"torch": torch.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                         "python": platform.python_version()},
            "hardware": {"machine": platform.machine(), "processor": platform.processor() or "unknown",
                         "torch_threads": torch.get_num_threads()},
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def write_table(out_dir: Path, proto: MiniBenchProtocol = MINI_BENCH) -> Path:
    table = assemble(proto)
    out_dir = Path(out_dir)
    atomic_write_frame(out_dir / "mini_bench.csv", table)
    atomic_write_json(out_dir / "mini_bench_provenance.json", provenance(proto, table))
    return out_dir / "mini_bench.csv"


def quality(table: pd.DataFrame, nb201_truth: pd.DataFrame | None = None) -> dict:
    """What the benchmark is good for: seed-to-seed tau, accuracy range, tau vs NB201 CIFAR-10."""
    from nas_core.criteria import kendall_tau_b

    a, b = table["fmnist_test_acc_seed0"].to_numpy(), table["fmnist_test_acc_seed1"].to_numpy()
    mean = table["fmnist_test_acc_mean"]
    out = {"n_archs": int(len(table)), "seed_tau": round(float(kendall_tau_b(a, b)), 4),
           "seed_abs_diff_mean": round(float(np.abs(a - b).mean()), 3),
           "acc_min": float(mean.min()), "acc_median": float(mean.median()), "acc_max": float(mean.max())}
    if nb201_truth is not None:
        joined = table.merge(nb201_truth[["arch_str", "cifar10_test_acc_200ep"]], on="arch_str")
        out["tau_vs_nb201_cifar10"] = round(float(kendall_tau_b(joined["fmnist_test_acc_mean"].to_numpy(),
                                                                joined["cifar10_test_acc_200ep"].to_numpy())), 4)
        out["n_matched_nb201"] = int(len(joined))
    return out
