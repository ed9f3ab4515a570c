"""Scoring architectures with a supernet checkpoint (the one-shot estimator).

Every architecture is evaluated on the same held-out batches (the run's 80/20 split of the
training set) with BN in train mode (batch statistics; running statistics are never used),
dropout off and no gradients. Per-batch OS accuracy (%) and OS loss (mean cross-entropy)
are kept, so any number of batches can be analysed later. Results are cached per (run,
checkpoint, scoring configuration) in chunks, so scoring resumes after an interruption.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from nas_core.cache import ResultStore, atomic_write_bytes, atomic_write_json, config_key
from nas_core.config import progress_bar
from nas_core.data.images import normalise
from nas_core import benchmarks
from nas_core.engines.supernet_train import (benchmark_of, checkpoint_path, initial_supernet, list_checkpoints,
                                             load_checkpoint, load_data, run_record)
from nas_core.errors import BadParameter
from nas_core.nets.supernet import SupernetArch

COLUMNS = ["index", "arch_str", "epoch", "batch", "os_acc", "os_loss"]


def run_key(run: Path) -> str:
    """A run folder as cache keys name it: relative to the cache (moving the cache keeps the
    keys), the absolute path only for a run kept elsewhere."""
    from nas_core.config import cache_dir

    run = Path(run).resolve()
    root = cache_dir().resolve()
    return str(run.relative_to(root)) if run.is_relative_to(root) else str(run)


def heldout_batches(run: Path, batches: int, batch_size: int, device: str):
    record = run_record(run)
    _, held = load_data(record, device)
    need = batches * batch_size
    if len(held) < need:
        raise BadParameter(f"scoring needs {batches} x {batch_size} = {need} held-out images; the run's split has "
                           f"{len(held)}", fix="use fewer --batches or a smaller --batch-size")
    x = normalise(held.images[:need].to(device), record["dataset"])
    y = held.labels[:need].to(device)
    return x.view(batches, batch_size, *x.shape[1:]), y.view(batches, batch_size)


def score_supernet(run: Path, epoch: int, indices, arch_strs, batches: int, batch_size: int,
                   device: str = "cpu", chunk: int = 200, progress: bool = True) -> pd.DataFrame:
    run = Path(run)
    if epoch not in list_checkpoints(run):
        raise BadParameter(f"run {run} has no checkpoint for epoch {epoch}",
                           fix=f"available epochs: {list_checkpoints(run)}")
    indices = [int(i) for i in indices]
    record = run_record(run)
    bench = benchmarks.get(benchmark_of(record))
    config = {"engine": "supernet-score-v2", "run": run_key(run), "epoch": int(epoch), "batches": batches,
              "batch_size": batch_size, "ckpt_size": checkpoint_path(run, epoch).stat().st_size}
    store = ResultStore("supernet_scores", config, unique=["index", "batch"])
    done = {k[0] for k in store.done_keys(["index"])}
    todo = [(i, s) for i, s in zip(indices, arch_strs) if i not in done]
    if todo:
        net, _ = load_checkpoint(run, epoch, device)
        net.scoring_mode()
        x, y = heldout_batches(run, batches, batch_size, device)
        bar = progress_bar(progress, total=len(todo), desc=f"scoring epoch {epoch}", unit="arch")
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            accs = torch.empty(len(part), batches, device=device)
            losses = torch.empty(len(part), batches, device=device)
            with torch.inference_mode():
                for a, (_, arch_str) in enumerate(part):
                    arch = bench.parse(arch_str)
                    for b in range(batches):
                        logits = net(x[b], arch)
                        losses[a, b] = F.cross_entropy(logits, y[b])
                        accs[a, b] = (logits.argmax(1) == y[b]).float().mean() * 100.0
                    bar.update(1)
            accs, losses = accs.cpu().numpy(), losses.cpu().numpy()  # one transfer per chunk
            store.append(pd.DataFrame({
                "index": np.repeat([i for i, _ in part], batches), "arch_str": np.repeat([s for _, s in part], batches),
                "epoch": int(epoch), "batch": np.tile(np.arange(batches), len(part)),
                "os_acc": accs.ravel(), "os_loss": losses.ravel()}))
        bar.close()
    frame = store.read()
    return frame[frame["index"].isin(indices)].sort_values(["index", "batch"], ignore_index=True)[COLUMNS]


def post_deiso(scores: pd.DataFrame, iso_class: pd.Series) -> pd.DataFrame:
    """Average per-arch scores within isomorphism classes; every member gets its class mean."""
    cls = iso_class.reindex(scores["index"]).to_numpy()
    cols = [c for c in scores.columns if c not in ("index", "arch_str", "epoch", "batch")]
    out = scores.copy()
    out[cols] = scores[cols].groupby(cls).transform("mean").to_numpy()
    return out


def average_checkpoints(run: Path, epochs) -> Path:
    """Temporal ensemble of weights: a run folder holding one checkpoint (numbered as the last
    epoch) whose floating-point tensors are the mean of the given checkpoints'. BN running
    statistics are averaged too but never used (scoring uses batch statistics)."""
    run = Path(run)
    epochs = sorted(int(e) for e in epochs)
    target = Path(f"{run}-avg{'-'.join(map(str, epochs))}")
    if checkpoint_path(target, epochs[-1]).is_file():
        return target
    states = [load_checkpoint(run, e)[1]["model"] for e in epochs]  # verified
    mean = {k: (torch.stack([s[k].float() for s in states]).mean(0).to(states[-1][k].dtype)
                if states[-1][k].is_floating_point() else states[-1][k]) for k in states[-1]}
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_json(target / "protocol.json", {**run_record(run), "averaged_from": epochs})
    buf = io.BytesIO()
    torch.save({"epoch": epochs[-1], "model": mean}, buf)
    atomic_write_bytes(checkpoint_path(target, epochs[-1]), buf.getvalue())
    return target


def arch_network_factory(run: Path, epoch: int, device: str = "cpu"):
    """(make_network(ops, seed), tag) for the zero-shot engine: the supernet restricted to each
    architecture (RQ4), at checkpoint `epoch`; epoch 0 is the supernet's own random init
    (rebuilt from the run's seed exactly as training builds it). The seed is ignored: the
    weights are the supernet's. Dropout is removed (as in scoring), whatever mode the proxies
    put the network in. A supernet whose layers are weight slices (NDS) hands out a standalone
    copy of the architecture instead (`standalone`), the same function with ordinary layers."""
    net = initial_supernet(Path(run), device) if int(epoch) == 0 else load_checkpoint(Path(run), epoch, device)[0]
    net.dropout = torch.nn.Identity()
    tag = f"supernet-v3:{config_key({'run': run_key(run), 'epoch': int(epoch)})}"

    def make(ops, seed):
        if hasattr(net, "standalone"):  # sliced weights (NDS): a copy with ordinary conv layers
            return net.standalone(ops)
        return SupernetArch(net, ops)

    return make, tag
