"""The zero-shot scoring engine: architectures x init seeds x fixed batches x proxies.

For each (architecture, seed) the network is built from the seed (PyTorch default init,
`nas_core.nets.network.init_seeded`) or by a caller's `make_network` (e.g. the trained
supernet restricted to the architecture, RQ4). For each batch ONE shared pass computes every
requested network proxy (`nas_core.proxies.api.score_detailed`, the function behind the public
`nas_core.score`); synflow has its own float64 pass.
Results go to a `ResultStore` keyed by the full configuration, one part per chunk of
architectures, so an interrupted sweep resumes where it stopped. A proxy that fails
numerically is recorded as NaN with its reason, never stopping the sweep.

`seconds` of a proxy = its share of the shared pass (pass time / proxies using it) plus its
own reduction time.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import pandas as pd
import torch

from nas_core import proxies as registry
from nas_core.cache import ResultStore
from nas_core.config import show_progress
from nas_core.data.images import normalise, train_heldout
from nas_core.errors import BadParameter
from nas_core.nets.network import init_seeded
from nas_core.proxies.api import score_detailed
from nas_core.space import nb201
from nas_core.space.complexity import Macro, dataset_macro, params_flops

INPUT_MODES = ("real", "noise", "ones")
COLUMNS = ["index", "arch_str", "seed", "batch", "proxy", "value", "seconds", "reason"]


def input_batches(dataset: str, data_root, batches: int, batch_size: int, input_mode: str,
                  split_seed: int = 0, device: str = "cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The fixed held-out batches every architecture sees (same images, same order)."""
    if input_mode not in INPUT_MODES:
        raise BadParameter(f"unknown input mode {input_mode!r}", fix=f"use one of: {', '.join(INPUT_MODES)}")
    _, held = train_heldout(dataset, data_root, seed=split_seed, max_heldout=batches * batch_size)
    if len(held) < batches * batch_size:
        raise BadParameter(f"{batches} batches of {batch_size} need {batches * batch_size} held-out images; "
                           f"only {len(held)} exist")
    x = normalise(held.images.to(device), dataset)
    y = held.labels.to(device)
    if input_mode == "noise":
        gen = torch.Generator().manual_seed(split_seed + 12345)
        x = torch.randn(x.shape, generator=gen).to(device)
    elif input_mode == "ones":
        x = torch.ones_like(x)
    return [(x[b * batch_size:(b + 1) * batch_size], y[b * batch_size:(b + 1) * batch_size]) for b in range(batches)]


def score_network(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, names: list[str],
                  context: dict | None = None) -> dict[str, tuple[float, float, str]]:
    """{proxy: (value, seconds, reason)} for one network and one batch, sharing passes: the
    public `nas_core.score` (`nas_core.proxies.api`), vote left to the caller."""
    return score_detailed(net, x, y, [n for n in names if n != "vote"], context)


def benchmark_macro(dataset: str) -> Macro:
    """The network the benchmark's ground truth was trained with."""
    if dataset == "fmnist16":
        from nas_core.protocols.minibench import MINI_BENCH

        return Macro(C=MINI_BENCH.C, N=MINI_BENCH.N, resolution=16, num_classes=10, in_channels=1)
    if dataset == "fmnist":
        return Macro(resolution=28, num_classes=10, in_channels=1)
    return dataset_macro(dataset)


def run_zero_shot(indices, arch_strs, proxies, seeds=(20, 2020, 202020), batches: int = 1,
                  batch_size: int = 128, input_mode: str = "real", device: str = "cpu",
                  dataset: str = "cifar10", data_root=None, C: int = 16, N: int = 5,
                  make_network: Callable | None = None, network_tag: str = "random-init",
                  split_seed: int = 0, chunk: int = 25, progress: bool = True,
                  stop_after: int | None = None, baseline_macro: Macro | None = None,
                  save_seconds: float = 60.0, _retry: bool = False) -> pd.DataFrame:
    """Tidy scores for every (arch, seed, batch, proxy), computed once and cached.

    The complexity baselines (params, flops) describe the architecture as its ground truth
    trained it -- `baseline_macro`, by default the benchmark's own network for `dataset`
    (NB201: C16/N5) -- not the possibly smaller network the proxies run on.

    `make_network(ops, seed) -> nn.Module` replaces the random init; `network_tag` names it in
    the cache key. `stop_after` (testing) interrupts after that many new architectures.
    Progress is saved every `chunk` architectures or `save_seconds`, whichever comes first, so
    a kill loses at most that much work. Several processes may sweep overlapping sets into
    the same cache at once: each result is kept once (`ResultStore(unique=...)`).
    """
    indices = [int(i) for i in indices]
    arch_strs = list(arch_strs)
    if len(indices) != len(arch_strs):
        raise BadParameter("indices and arch_strs must have the same length")
    names = list(dict.fromkeys(proxies))
    registry.get([n for n in names if n != "vote"])  # fail early on an unknown proxy
    config = {"engine": "zeroshot-v2", "dataset": dataset, "data_root": str(data_root), "proxies": sorted(names),
              "seeds": [int(s) for s in seeds], "batches": int(batches), "batch_size": int(batch_size),
              "input_mode": input_mode, "C": C, "N": N, "network": network_tag, "split_seed": split_seed,
              "torch": torch.__version__.split("+")[0]}
    baseline_macro = baseline_macro or benchmark_macro(dataset)
    config["baseline_macro"] = dataclasses.asdict(baseline_macro)
    store = ResultStore("zeroshot", config, unique=["index", "seed", "batch", "proxy"])
    done = {k[0] for k in store.done_keys(["index"])}
    todo = [(i, s) for i, s in zip(indices, arch_strs) if i not in done]
    if todo:
        data = input_batches(dataset, data_root, batches, batch_size, input_mode, split_seed, device)
        channels = data[0][0].shape[1]
        classes = 10 if dataset in ("cifar10", "fmnist", "fmnist16") else (100 if dataset == "cifar100" else 120)
        bar = _progress(len(todo), progress, f"zero-shot ({input_mode}, {network_tag})")
        rows, new, saved_at = [], 0, time.monotonic()
        for index, arch in todo:
            ops = nb201.parse(arch)
            p_m, f_m = params_flops(np.array([ops]), baseline_macro)
            ctx = {"params_M": float(p_m[0]), "flops_M": float(f_m[0])}
            for seed in seeds:
                net = (make_network(ops, seed) if make_network else
                       init_seeded(ops, seed, C=C, N=N, num_classes=classes, in_channels=channels)).to(device)
                for b, (x, y) in enumerate(data):
                    for name, (value, secs, reason) in score_network(net, x, y, names, ctx).items():
                        rows.append((index, arch, int(seed), b, name, value, secs, reason))
            new += 1
            bar.update(1)
            if new % chunk == 0 or time.monotonic() - saved_at >= save_seconds:
                store.append(pd.DataFrame(rows, columns=COLUMNS))
                rows, saved_at = [], time.monotonic()
            if stop_after is not None and new >= stop_after:
                if rows:
                    store.append(pd.DataFrame(rows, columns=COLUMNS))
                bar.close()
                raise KeyboardInterrupt(f"stopped after {new} architectures (stop_after)")
        if rows:
            store.append(pd.DataFrame(rows, columns=COLUMNS))
        bar.close()
    frame = store.read()
    frame = frame[frame["index"].isin(indices)].sort_values(["index", "seed", "batch", "proxy"], ignore_index=True)
    missing = sorted(set(indices) - set(frame["index"].tolist())) if len(frame) else sorted(set(indices))
    if missing:  # e.g. a part moved aside by a concurrent reader after it was counted as done
        if _retry:
            raise RuntimeError(f"zero-shot cache {store.path} still lacks {len(missing)} architecture(s)")
        return run_zero_shot(indices, arch_strs, proxies, seeds, batches, batch_size, input_mode, device, dataset,
                             data_root, C, N, make_network, network_tag, split_seed, chunk, progress, None,
                             baseline_macro, save_seconds, _retry=True)
    failed = frame["value"].isna().sum()
    if failed and show_progress(progress):  # a log line, not a result: kept out of notebooks
        print(f"[zero-shot] {failed} NaN score(s): " + "; ".join(
            f"{p}: {n}" for p, n in frame[frame['value'].isna()].groupby("proxy").size().items()))
    return frame


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="arch", disable=not show_progress(enabled), mininterval=2.0)


def to_wide(tidy: pd.DataFrame, batches: int | None = None) -> pd.DataFrame:
    """index + one column per proxy: mean over seeds of the mean over the first `batches`."""
    d = tidy if batches is None else tidy[tidy["batch"] < batches]
    per_seed = d.groupby(["index", "proxy", "seed"])["value"].mean()
    wide = per_seed.groupby(["index", "proxy"]).mean().unstack("proxy")
    wide.columns.name = None
    return wide.reset_index()


def summary(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per proxy: mean seconds per (arch, seed, batch), NaN count and the reasons."""
    g = tidy.groupby("proxy")
    return pd.DataFrame({"seconds_per_eval": g["seconds"].mean(), "n": g.size(),
                         "n_nan": g["value"].apply(lambda v: int(v.isna().sum())),
                         "reasons": g["reason"].apply(lambda r: "; ".join(sorted(set(x for x in r if x))))}).reset_index()
