"""Tiny NATS-Bench "tss" benchmarks written in the OFFICIAL formats, with nats_bench's own classes.

Each architecture gets real `ResultsCount` trials (one per dataset and seed, with per-epoch
train/eval curves and times) collected in an `ArchResults` per schedule ("12" and "200"
epochs), saved through their `state_dict()` exactly as the official readers expect:

  * `write_tiny_nats_tss(folder, ...)`: the fast-mode folder (NATS-tss-v1_0-3ffb9-simple):
    `meta.pickle.pbz2` ({"meta_archs": [...]}) and one `<index>.pickle.pbz2` per architecture
    ({hp: ArchResults state}), both written with nats_bench's `pickle_save`;
  * `write_tiny_nats_file(path, ...)`: the single-file NATS format ({meta_archs, arch2infos,
    evaluated_indexes}, bz2 pickle);
  * `write_tiny_nb201_pth(path, ...)`: NAS-Bench-201's .pth (torch.save of the same dict, the
    schedules keyed "less" / "full" as nas_201_api reads them).

Sets per dataset follow NATS-Bench: cifar10-valid has x-valid and ori-test, cifar10 only
ori-test, cifar100 / ImageNet16-120 have x-valid, x-test and ori-test. Every number is distinct
and the seeds disagree, so reading the wrong schedule, set, epoch or a single seed shows.
No value here comes from the real benchmark.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}
NUM_CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
EPOCHS = {"12": 12, "200": 200}


def make_results(n_archs: int, seeds=(777, 888), seed: int = 0, extra_seed_for=(2,)) -> dict:
    """results[index][hp][dataset][trial_seed] = {"train": acc, <set>: acc, ..., "flops", "params",
    "train_time", "eval_time"} (final-epoch accuracies in %, per-epoch times in s).
    Architectures in `extra_seed_for` get a third seed (999), like NATS-Bench's uneven trials."""
    rng = np.random.default_rng(seed)
    results = {}
    for i in range(n_archs):
        arch_seeds = tuple(seeds) + ((999,) if i in extra_seed_for else ())
        results[i] = {}
        for hp in EPOCHS:
            results[i][hp] = {}
            for ds, sets in EVAL_SETS.items():
                # complexity is a property of the architecture and dataset: equal across seeds
                flops, params = float(rng.uniform(5, 200)), float(rng.uniform(0.05, 1.5))
                results[i][hp][ds] = {
                    s: {"train": float(rng.uniform(10, 99)),
                        **{name: float(rng.uniform(10, 95)) for name in sets},
                        "flops": flops, "params": params,
                        "train_time": float(rng.uniform(5, 20)), "eval_time": float(rng.uniform(0.5, 2))}
                    for s in arch_seeds}
    return results


def _trial(arch_str: str, dataset: str, trial_seed: int, epochs: int, values: dict) -> ResultsCount:
    """One training run, with curves that reach `values` at the last epoch only."""
    ramp = {e: (epochs - 1 - e) * 0.01 for e in range(epochs)}  # earlier epochs are worse
    trial = ResultsCount(
        name=dataset, state_dict=None,
        train_accs={e: values["train"] - ramp[e] for e in range(epochs)},
        train_losses={e: 1.0 / (e + 1) for e in range(epochs)},
        params=values["params"], flop=values["flops"],
        arch_config={"channel": 16, "num_cells": 5, "arch_str": arch_str, "class_num": NUM_CLASSES[dataset]},
        seed=trial_seed, epochs=epochs, latency=[0.01])
    trial.update_train_info(train_acc1es={e: values["train"] - ramp[e] for e in range(epochs)},
                            train_acc5es={e: 100.0 for e in range(epochs)},
                            train_losses={e: 1.0 / (e + 1) for e in range(epochs)},
                            train_times={e: values["train_time"] for e in range(epochs)})
    accs, losses, times = {}, {}, {}
    for name in EVAL_SETS[dataset]:
        for e in range(epochs):
            key = f"{name}@{e}"
            accs[key], losses[key], times[key] = values[name] - ramp[e], 2.0 / (e + 1), values["eval_time"]
    trial.update_eval(accs, losses, times)
    return trial


def arch_states(index: int, arch_str: str, by_hp: dict) -> dict:
    """{hp: ArchResults.state_dict()} for one architecture: what one fast-mode file holds."""
    states = {}
    for hp, by_dataset in by_hp.items():
        archres = ArchResults(index, arch_str)
        for ds, by_seed in by_dataset.items():
            for trial_seed, values in by_seed.items():
                archres.update(ds, trial_seed, _trial(arch_str, ds, trial_seed, EPOCHS[hp], values))
        states[hp] = archres.state_dict()
    return states


def write_tiny_nats_tss(folder, arch_strs, results, zero_pad: bool = False) -> Path:
    """The fast-mode folder (`nats_bench.create(folder, 'tss', fast_mode=True)` reads it).
    Files are `<index>.pickle.pbz2`, or `<index:06d>.pickle.pbz2` with zero_pad (both are read)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pickle_save({"meta_archs": list(arch_strs), "evaluated_indexes": list(range(len(arch_strs)))},
                str(folder / "meta.pickle"))  # pickle_save appends ".pbz2"
    for i, arch_str in enumerate(arch_strs):
        if i in results:
            name = f"{i:06d}" if zero_pad else f"{i}"
            pickle_save(arch_states(i, arch_str, results[i]), str(folder / f"{name}.pickle"))
    return folder


def _whole_benchmark(arch_strs, results, keys=None) -> dict:
    keys = keys or {hp: hp for hp in EPOCHS}
    arch2infos = {}
    for i, arch_str in enumerate(arch_strs):
        states = arch_states(i, arch_str, results[i])
        arch2infos[i] = {keys[hp]: state for hp, state in states.items()}
    return {"meta_archs": list(arch_strs), "arch2infos": arch2infos, "evaluated_indexes": list(range(len(arch_strs)))}


def write_tiny_nats_file(path, arch_strs, results) -> Path:
    """The single-file format (`create(path, 'tss', fast_mode=False)`); `path` ends in .pickle.pbz2."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pickle_save(_whole_benchmark(arch_strs, results), str(path)[: -len(".pbz2")])
    return path


def write_tiny_nb201_pth(path, arch_strs, results) -> Path:
    """NAS-Bench-201's .pth: torch.save of the same dict, 12/200 epochs keyed 'less'/'full'."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(_whole_benchmark(arch_strs, results, keys={"12": "less", "200": "full"}), path)
    return path


def seed_mean(results, index: int, hp: str, dataset: str, key: str) -> float:
    """The mean over the trials' values: what is_random=False must return."""
    return float(np.mean([v[key] for v in results[index][hp][dataset].values()]))
