"""Supernet training with checkpoints and an exact resume.

The training images stay on the device as uint8; normalisation and augmentation run there
(`nas_core.data.images`). One step: the sampler draws S architectures, each runs forward +
backward on the same batch, every parameter's gradient is divided by the number of those
architectures that used it (S=1 for iso/deiso), the gradient norm is clipped, one SGD step.
ReduceLROnPlateau steps once per epoch on the mean training loss.

A checkpoint (`ckpt_XXXX.pt`, written atomically) holds weights, optimizer, scheduler,
sampler state, the data/augmentation generator and torch's RNG, so a resumed run continues
bit-identically on CPU. `protocol.json` records the run's configuration; rerunning with a
different one is refused. Every checkpoint carries a sha256 sidecar and is verified before it
is used: a damaged one is moved aside (`*.corrupt`) and training resumes from the previous
good checkpoint.
"""
from __future__ import annotations

import io
import json
import sys
import time
from collections import OrderedDict
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from nas_core.cache import (CorruptFile, atomic_write_frame, atomic_write_json, quarantine, read_bytes,
                            read_checked, write_checked)
from nas_core.config import progress_bar
from nas_core.data.images import augment, normalise, train_heldout
from nas_core.errors import BadData, BadParameter
from nas_core.nets.supernet import Supernet
from nas_core.protocols.data import DataProtocol
from nas_core.protocols.supernet import SupernetProtocol
from nas_core.space import nb201

LOG = "log.csv"


def list_checkpoints(run: Path) -> list[int]:
    return sorted(int(p.stem.split("_")[1]) for p in Path(run).glob("ckpt_*.pt"))


def checkpoint_path(run: Path, epoch: int) -> Path:
    return Path(run) / f"ckpt_{epoch:04d}.pt"


def run_record(run: Path) -> dict:
    path = Path(run) / "protocol.json"
    if not path.is_file():
        raise BadParameter(f"{run} is not a supernet run folder (no protocol.json)",
                           fix="train one first: nas-core supernet train --run DIR")
    return _read_record(path)


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(read_bytes(path))
        if not isinstance(record, dict) or "protocol" not in record:
            raise ValueError("not a run record")
        return record
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadData(f"{path} is damaged or truncated ({exc})", where=str(path),
                      fix="delete this run folder (or train into another --run folder) to start over") from None


def read_checkpoint(run: Path, epoch: int, device: str = "cpu") -> dict:
    """A checkpoint's state, verified (checksum + load); CorruptFile if it is damaged."""
    path = checkpoint_path(run, epoch)
    data = read_checked(path)
    try:
        return torch.load(io.BytesIO(data), map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure = truncated/damaged file
        raise CorruptFile(path, f"unreadable checkpoint: {type(exc).__name__}") from None


def benchmark_of(record: dict) -> str:
    """The run's benchmark (runs recorded before the benchmark seam name only their dataset)."""
    return record.get("benchmark") or {"cifar10": "nb201", "fmnist16": "mini"}.get(record["dataset"], "nb201")


def build_supernet(proto: SupernetProtocol, channels: int, classes: int, benchmark: str = "nb201") -> Supernet:
    from nas_core import benchmarks

    return benchmarks.get(benchmark).supernet(proto, channels, classes)


def load_data(record: dict, device: str):
    """The run's train / held-out images, from the data root the entry point configured
    (runs do not record the machine's data path: moving the data folder keeps them)."""
    from nas_core.config import data_root

    data = DataProtocol(**record["data_protocol"])
    train, held = train_heldout(record["dataset"], data_root(), seed=data.split_seed,
                                train_fraction=data.train_fraction, max_train=data.max_train,
                                max_heldout=data.max_heldout)
    return train, held


def load_checkpoint(run: Path, epoch: int, device: str = "cpu") -> tuple[Supernet, dict]:
    record = run_record(run)
    proto = SupernetProtocol(**record["protocol"])
    net = build_supernet(proto, record["channels"], record["classes"], benchmark_of(record))
    try:
        state = read_checkpoint(run, epoch, device)
    except CorruptFile as exc:
        quarantine(exc.path, exc.reason)
        raise BadData(f"checkpoint {exc.path} is damaged ({exc.reason}); moved aside", where=str(exc.path),
                      fix=f"rerun `nas-core supernet train --run {run}` (same options) to recompute it") from None
    net.load_state_dict(state["model"])
    return net.to(device), state


def initial_supernet(run: Path, device: str = "cpu") -> Supernet:
    """The run's weights before its first step (epoch 0), rebuilt deterministically from its seed
    exactly as `train_supernet` builds them (a run started from another run's weights has none)."""
    record = run_record(run)
    if record.get("start_from"):
        raise BadParameter(f"{run} started from another run's weights: it has no random init of its own",
                           fix=f"use the source run {record['start_from'][0]}")
    proto = SupernetProtocol(**record["protocol"])
    return _seeded_supernet(proto, record["channels"], record["classes"], benchmark_of(record)).to(device)


def _seeded_supernet(proto: SupernetProtocol, channels: int, classes: int, benchmark: str) -> Supernet:
    torch.manual_seed(proto.seed)  # initial weights, then dropout
    return build_supernet(proto, channels, classes, benchmark)


def train_supernet(proto: SupernetProtocol, run: Path, dataset: str, data_root=None, device: str = "cpu",
                   data_protocol: DataProtocol = DataProtocol(), restrict_to=None, start_from: tuple | None = None,
                   progress: bool = True, stop_after_epoch: int | None = None, benchmark: str | None = None) -> Path:
    """Train (or resume, or reuse) a supernet in `run`.

    restrict_to: the sampler's pool (one-shot pruning; the benchmark's `sampler_pool_ids`);
    start_from: (run, epoch) whose weights initialise this run. stop_after_epoch: testing hook.
    `data_root` (None: the configured one) is used, never recorded.
    """
    from nas_core import benchmarks
    from nas_core.config import data_root as configured_root

    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    benchmark = benchmark or benchmark_of({"dataset": dataset})
    bench = benchmarks.get(benchmark)
    data_root = configured_root(data_root)
    record = {"protocol": asdict(proto), "dataset": dataset, "benchmark": benchmark,
              "data_protocol": asdict(data_protocol),
              "restrict_to": None if restrict_to is None else [k if isinstance(k, str) else int(k) for k in restrict_to],
              "start_from": None if start_from is None else [_run_name(start_from[0]), int(start_from[1])]}
    if proto.sampler == "deiso":  # runs sampled under an older representative rule are not reused
        record["deiso_representative"] = "lowest official index"
    path = run / "protocol.json"
    if path.is_file():
        old = _read_record(path)
        mine = {k: old.get(k) for k in record}
        if mine != record:
            changed = sorted(k for k in record if old.get(k) != record[k])
            raise BadParameter(f"{run} holds a run with a different configuration ({', '.join(changed)})",
                               fix="use another --run folder, or delete this one to start over")
    done, state = list_checkpoints(run), None
    while done and state is None:  # the newest checkpoint that passes its check
        try:
            state = read_checkpoint(run, done[-1], device)
        except CorruptFile as exc:
            quarantine(exc.path, exc.reason)
            done.pop()
    if state is not None and state["epoch"] >= proto.epochs:
        return run

    train, held = train_heldout(dataset, data_root, seed=data_protocol.split_seed,
                                train_fraction=data_protocol.train_fraction, max_train=data_protocol.max_train,
                                max_heldout=data_protocol.max_heldout)
    channels, classes = train.images.shape[1], train.num_classes
    if not path.is_file():
        atomic_write_json(path, {**record, "channels": int(channels), "classes": int(classes)})
    net = _seeded_supernet(proto, channels, classes, benchmark).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=proto.lr, momentum=proto.momentum,
                                weight_decay=proto.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=proto.plateau_factor,
                                                           patience=proto.plateau_patience)
    sampler = bench.sampler(proto.sampler, proto.seed, restrict_to=restrict_to, data_root=data_root, proto=proto)
    gen = torch.Generator().manual_seed(proto.seed)  # data order + augmentation (CPU: reproducible)
    start, log = 0, []
    if state is not None:
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        sampler.load_state_dict(state["sampler"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if device.startswith("cuda") and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"])
        start, log = state["epoch"], state["log"]
    elif start_from is not None:
        src, _ = load_checkpoint(_run_path(start_from[0], run), int(start_from[1]), device)
        net.load_state_dict(src.state_dict())

    images = train.images.to(device)
    labels = train.labels.to(device)
    n = len(labels)
    steps = max(n // proto.batch_size, 1)
    bar = progress_bar(progress, total=proto.epochs, initial=start, desc=f"supernet {proto.sampler} seed {proto.seed}",
                       unit="epoch")
    for epoch in range(start + 1, proto.epochs + 1):
        net.train()
        t0 = time.time()
        order = torch.randperm(n, generator=gen).to(device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        seen = 0
        for step in range(steps):
            idx = order[step * proto.batch_size:(step + 1) * proto.batch_size]
            x = normalise(images[idx], dataset)
            if proto.augment:
                x = augment(x, gen)
            y = labels[idx]
            loss, right = train_step(net, optimizer, sampler.step(), x, y, proto.grad_clip)
            loss_sum += loss * len(y)
            correct += right
            seen += len(y)
        mean_loss = (loss_sum / seen).item()
        scheduler.step(mean_loss)
        if getattr(sampler, "wants_rescore", None) is not None and sampler.wants_rescore(epoch):
            pool = sampler.draw_pool()
            sampler.set_scores(pool, rescore_pool(net, held, pool, dataset, proto.score_batch_size, device))
        log.append({"epoch": epoch, "loss": mean_loss, "accuracy": 100.0 * correct.item() / seen,
                    "lr": optimizer.param_groups[0]["lr"], "seconds": round(time.time() - t0, 3)})
        bar.update(1)
        bar.set_postfix(loss=f"{mean_loss:.3f}", acc=f"{log[-1]['accuracy']:.1f}")
        if epoch % proto.save_every == 0 or epoch == proto.epochs:
            save_checkpoint(run, epoch, net, optimizer, scheduler, sampler, gen, log)
        if stop_after_epoch is not None and epoch >= stop_after_epoch:
            break
    bar.close()
    return run


def train_step(net: Supernet, optimizer, archs, x, y, grad_clip: float):
    """Forward/backward every arch of the step on the same batch; per-parameter averaging."""
    optimizer.zero_grad(set_to_none=True)
    uses: dict[int, int] = {}
    params = {}
    loss_total, right = 0.0, 0
    for arch in archs:
        logits = net(x, arch)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        loss_total = loss_total + loss.detach()
        right = right + (logits.detach().argmax(1) == y).sum()
        if len(archs) > 1:
            for p in net.used_parameters(arch):
                uses[id(p)] = uses.get(id(p), 0) + 1
                params[id(p)] = p
    if len(archs) > 1:
        for key, count in uses.items():
            if params[key].grad is not None and count > 1:
                params[key].grad.div_(count)
    torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
    optimizer.step()
    return loss_total / len(archs), right / len(archs)


def rescore_pool(net: Supernet, held, kit_ids, dataset: str, batch_size: int, device: str) -> np.ndarray:
    """Soft pruning: OS acc of each cell on ONE held-out batch, the LAST images of the held-out
    split (the scoring engine reads from the front, so the two stay apart when it is large)."""
    x = normalise(held.images[-batch_size:].to(device), dataset)
    y = held.labels[-batch_size:].to(device)
    net.scoring_mode()
    accs = []
    with torch.no_grad():
        for k in kit_ids:
            accs.append((net(x, nb201.from_kit_id(int(k))).argmax(1) == y).float().mean().item() * 100.0)
    net.train()
    return np.asarray(accs)


def save_checkpoint(run: Path, epoch: int, net, optimizer, scheduler, sampler, gen, log) -> None:
    state = {"epoch": epoch, "model": net.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "sampler": sampler.state_dict(), "generator": gen.get_state(),
             "torch_rng": torch.get_rng_state(),
             "cuda_rng": torch.cuda.get_rng_state() if torch.cuda.is_available() else None, "log": log}
    buf = io.BytesIO()
    torch.save(_interned(state), buf)
    write_checked(checkpoint_path(run, epoch), buf.getvalue())
    atomic_write_frame(Path(run) / LOG, pd.DataFrame(log))


def _interned(obj):
    """The state with every string interned, so that equal states pickle to equal bytes (the
    scores' cache key holds the checkpoint's size): pickle writes an object it has seen as a
    reference to it, and after a resume some keys are unpickled copies where an uninterrupted
    run has one interned literal."""
    if type(obj) in (dict, OrderedDict):
        out = type(obj)((_interned(k), _interned(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):  # a module's state_dict carries its version information
            out._metadata = obj._metadata
        return out
    if type(obj) is list:
        return [_interned(v) for v in obj]
    if type(obj) is tuple:
        return tuple(_interned(v) for v in obj)
    return sys.intern(obj) if type(obj) is str else obj


def finetune_pruned(run: Path, epoch: int, keep_indices, arch_strs, epochs: int, device: str, dataset: str,
                    data_root, data_protocol: DataProtocol) -> Path:
    """One-shot pruning: continue from `run` at `epoch`, sampling only the kept architectures,
    for `epochs` more epochs. Returns the new run folder (a sibling of `run`)."""
    from nas_core import benchmarks
    from nas_core.cache import config_key

    record = run_record(run)
    proto = SupernetProtocol(**record["protocol"])
    kept = benchmarks.get(benchmark_of(record)).sampler_pool_ids(list(arch_strs))
    kept_json = [k if isinstance(k, str) else int(k) for k in kept]
    key = config_key({"from": Path(run).name, "epoch": epoch, "keep": kept_json, "epochs": epochs})
    target = Path(str(run) + f"-prune{len(kept)}-{key}")
    tuned = replace(proto, epochs=epochs, save_every=max(epochs, 1))
    return train_supernet(tuned, target, dataset, data_root, device, data_protocol, restrict_to=kept,
                          start_from=(run, epoch), benchmark=benchmark_of(record))


def _run_name(run) -> str:
    """A run as recorded in another run's record: its folder name (runs are siblings in the
    cache), so moving the cache keeps the link."""
    return Path(run).name


def _run_path(recorded: str, run: Path) -> Path:
    p = Path(recorded)
    return p if p.is_absolute() else Path(run).parent / p
