"""Test helpers for tests/test_executor.py, installed in every Dask worker as worker plugins
(a restarted worker gets them again): a tiny protocol, and faults that kill the worker process
the first time only (a marker file, created exclusively, says the fault has fired)."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

# the smoke profile, smaller still: every job kind, seconds per job on one core
TINY = {
    "study": dict(eval_archs="sample:12", rq4_archs="sample:4", rq3_samplers=("deiso", "mc:2"), diag_archs=3,
                  bootstrap=20, op_prune_archs="sample:8"),
    "supernet": dict(C=2, batch_size=64, score_batches=2, score_batch_size=32),
    "data": dict(max_train=256, max_heldout=128),
    "zeroshot": dict(batches=2, batch_size=16, proxies=("snip", "synflow", "jacob_cov", "relu_logdet", "params", "flops")),
}


def tiny_protocols() -> dict:
    """{section: the tiny smoke protocol} (the originals are restored by the caller)."""
    import importlib

    out = {}
    for section, fields in TINY.items():
        module = importlib.import_module(f"nas_core.protocols.{section}")
        out[section] = dataclasses.replace(module.PROFILES["smoke"], **fields)
    return out


def install_tiny(protocols: dict) -> dict:
    """Put the tiny protocols in place; returns the previous ones."""
    import importlib

    previous = {}
    for section, proto in protocols.items():
        module = importlib.import_module(f"nas_core.protocols.{section}")
        previous[section] = module.PROFILES["smoke"]
        module.PROFILES["smoke"] = proto
    return previous


class TinyProtocols(WorkerPlugin):
    name = "nas-core-tiny-protocols"

    def __init__(self):
        self.protocols = tiny_protocols()

    def setup(self, worker):
        install_tiny(self.protocols)


def _first_time(marker: Path) -> bool:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


class KillOnce(WorkerPlugin):
    """The worker process exits (os._exit, as if killed) once when a zero-shot job starts scoring
    its `arch`-th architecture (progress is saved after every architecture, so the first ones
    are in the cache), and once right after a supernet (not a fine-tuning) wrote its checkpoint
    of epoch `epoch`."""
    name = "nas-core-kill-once"

    def __init__(self, markers: str, arch: int = 3, epoch: int = 1):
        self.markers, self.arch, self.epoch = markers, arch, epoch

    def setup(self, worker):
        from nas_core.engines import supernet_train, zeroshot

        markers, arch, epoch = Path(self.markers), self.arch, self.epoch
        sweep, score_arch, save = zeroshot.run_zero_shot, zeroshot._score_arch, supernet_train.save_checkpoint
        seen = [0]

        def run_zero_shot(*args, **kwargs):
            seen[0] = 0  # count the architectures of this sweep (one job)
            kwargs.update(chunk=1, save_seconds=0.0)  # save after every architecture
            return sweep(*args, **kwargs)

        def scored(job, index, arch_str, seeds=None):
            seen[0] += 1
            if seen[0] == arch and _first_time(markers / "zeroshot"):
                os._exit(1)
            return score_arch(job, index, arch_str, seeds)

        def save_checkpoint(run, ep, *args):
            save(run, ep, *args)
            if ep == epoch and "-prune" not in Path(run).name and _first_time(markers / "supernet"):
                os._exit(1)

        zeroshot.run_zero_shot, zeroshot._score_arch = run_zero_shot, scored
        supernet_train.save_checkpoint = save_checkpoint


class ToyActions(WorkerPlugin):
    """Two actions for a graph of toy jobs: `ok` does nothing, `fail` raises a kit error."""
    name = "nas-core-toy-actions"

    def setup(self, worker):
        install_toy_actions()


def install_toy_actions() -> None:
    from nas_core.engines import jobs
    from nas_core.errors import BadParameter

    def fail(study, what):
        raise BadParameter(f"{what} went wrong", fix="nothing to fix: a test")

    jobs.ACTIONS.update(ok=lambda study, **kwargs: None, fail=fail)
