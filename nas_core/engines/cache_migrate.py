"""Re-key a cache written before the benchmark seam, so that nothing is recomputed.

Caches of earlier kit versions put the absolute data path (and absolute run paths) into their
keys; the current keys name the benchmark instead and refer to runs by their place in the
cache, so moving the data folder or the cache keeps every result. `migrate(cache)` renames
what it can prove to be the same computation and rewrites its recorded configuration:

  supernet_runs/   a run whose folder key equals the old key of its own protocol.json gets the
                   new key; its averaged (`-avg…`) and pruned (`-prune…`) descendants follow,
                   and records lose `data_root`, gain `benchmark`, name their source run by folder
  supernet_scores/ forgetting/ gradient_similarity/ bn_gamma_similarity/
                   stores of a migrated run: `run` becomes the cache-relative path
  zeroshot/        `zeroshot-v2` stores: `data_root` and `baseline_macro` go, `benchmark` comes,
                   and a supernet network tag is re-derived from the migrated run

An entry that does not match its old key (a stale run of an even older rule) is left as it is
and reported. The migration is idempotent: a second call finds nothing to do.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from nas_core.cache import atomic_write_json, config_key

DATASET_BENCHMARK = {"cifar10": "nb201", "fmnist16": "mini"}
RUN_STORES = ("supernet_scores", "forgetting", "gradient_similarity", "bn_gamma_similarity")
_PRUNE = re.compile(r"^(?P<base>.+)-prune(?P<n>\d+)-(?P<key>[0-9a-f]{16})$")
_AVG = re.compile(r"^(?P<base>.+)-avg(?P<epochs>[\d-]+)$")


def migrate(cache: Path, dry_run: bool = False) -> dict:
    """Re-key `cache` in place; returns counts per kind and the entries left alone."""
    cache = Path(cache).resolve()
    report = {"runs": 0, "stores": 0, "zeroshot": 0, "left_alone": []}
    renamed = _migrate_runs(cache, report, dry_run)  # old absolute run path -> new folder name
    for kind in RUN_STORES:
        for cfg_file in sorted((cache / kind).glob("*/config.json")):
            config = _read(cfg_file)
            new = _store_config(config, cache, renamed)
            if new is not None:
                _move_store(cfg_file.parent, new, dry_run)
                report["stores"] += 1
    tags = _tag_map(cache, renamed)
    for cfg_file in sorted((cache / "zeroshot").glob("*/config.json")):
        config = _read(cfg_file)
        new = _zeroshot_config(config, tags)
        if new is not None:
            _move_store(cfg_file.parent, new, dry_run)
            report["zeroshot"] += 1
    return report


# ---- supernet runs -----------------------------------------------------------------------------

def _old_run_key(record: dict) -> str:
    spec = {"protocol": record["protocol"], "dataset": record["dataset"], "data": str(record.get("data_root"))}
    if "deiso_representative" in record:
        spec["deiso_representative"] = record["deiso_representative"]
    return config_key(spec)


def _new_run_key(record: dict, benchmark: str) -> str:
    spec = {"protocol": record["protocol"], "dataset": record["dataset"], "benchmark": benchmark}
    if "deiso_representative" in record:
        spec["deiso_representative"] = record["deiso_representative"]
    return config_key(spec)


def _migrate_runs(cache: Path, report: dict, dry_run: bool) -> dict[str, str]:
    runs = cache / "supernet_runs"
    renamed: dict[str, str] = {}
    if not runs.is_dir():
        return renamed
    folders = sorted(p for p in runs.iterdir() if (p / "protocol.json").is_file())
    # base runs first, then their descendants (whose names start with the base's)
    for folder in sorted(folders, key=lambda p: (bool(_PRUNE.match(p.name) or _AVG.match(p.name)), p.name)):
        record = _read(folder / "protocol.json")
        if "data_root" not in record:
            continue  # already current
        benchmark = DATASET_BENCHMARK.get(record.get("dataset"))
        new_name = _new_run_name(folder, record, benchmark, cache, renamed)
        if new_name is None:
            report["left_alone"].append(f"supernet_runs/{folder.name}")
            continue
        new_record = {k: v for k, v in record.items() if k != "data_root"}
        new_record["benchmark"] = benchmark
        if record.get("start_from"):
            src, epoch = record["start_from"]
            new_record["start_from"] = [renamed.get(str(Path(src)), Path(src).name), int(epoch)]
        renamed[str(folder)] = new_name
        report["runs"] += 1
        if not dry_run:
            atomic_write_json(folder / "protocol.json", new_record)
            if new_name != folder.name:
                os.replace(folder, runs / new_name)
    return renamed


def _new_run_name(folder: Path, record: dict, benchmark, cache: Path, renamed: dict) -> str | None:
    if benchmark is None:
        return None
    name = folder.name
    m = _AVG.match(name)
    if m:
        base = str(folder.parent / m["base"])
        return f"{renamed[base]}-avg{m['epochs']}" if base in renamed else None
    m = _PRUNE.match(name)
    if m:
        base = str(folder.parent / m["base"])
        if base not in renamed or not record.get("start_from"):
            return None
        keep, epoch = record["restrict_to"], int(record["start_from"][1])
        epochs = record["protocol"]["epochs"]
        if config_key({"from": base, "epoch": epoch, "keep": keep, "epochs": epochs}) != m["key"]:
            return None
        key = config_key({"from": renamed[base], "epoch": epoch, "keep": keep, "epochs": epochs})
        return f"{renamed[base]}-prune{m['n']}-{key}"
    if not name.endswith("-" + _old_run_key(record)):
        return None
    return name[: -16] + _new_run_key(record, benchmark)


# ---- stores ------------------------------------------------------------------------------------

def _store_config(config: dict, cache: Path, renamed: dict) -> dict | None:
    run = config.get("run")
    if not run or not Path(run).is_absolute() or run not in renamed:
        return None
    new = {**config, "run": f"supernet_runs/{renamed[run]}"}
    if new.get("engine") == "supernet-score-v1":
        new["engine"] = "supernet-score-v2"
    return new


def _tag_map(cache: Path, renamed: dict) -> dict[str, str]:
    """Old supernet network tags (hash of an absolute run path and an epoch) -> new ones."""
    tags = {}
    for old, new in renamed.items():
        folder = cache / "supernet_runs" / new
        folder = folder if folder.is_dir() else Path(old)  # a dry run renames nothing
        epochs = [0] + [int(p.stem.split("_")[1]) for p in folder.glob("ckpt_*.pt")]
        for epoch in epochs:
            tags[f"supernet-v2:{config_key({'run': old, 'epoch': epoch})}"] = \
                f"supernet-v3:{config_key({'run': f'supernet_runs/{new}', 'epoch': epoch})}"
    return tags


def _zeroshot_config(config: dict, tags: dict) -> dict | None:
    if config.get("engine") != "zeroshot-v2":
        return None
    benchmark = DATASET_BENCHMARK.get(config.get("dataset"))
    network = config.get("network", "random-init")
    if benchmark is None or (network != "random-init" and network not in tags):
        return None
    new = {k: v for k, v in config.items() if k not in ("data_root", "baseline_macro")}
    new.update(engine="zeroshot-v3", benchmark=benchmark, network=tags.get(network, network))
    return new


def _move_store(folder: Path, config: dict, dry_run: bool) -> None:
    target = folder.parent / config_key(config)
    if dry_run:
        return
    atomic_write_json(folder / "config.json", config)
    if target != folder:
        if target.exists():  # the new key already has results: keep both sets of parts
            for part in folder.iterdir():
                if part.name != "config.json":
                    os.replace(part, target / part.name)
            (folder / "config.json").unlink()
            folder.rmdir()
        else:
            os.replace(folder, target)


def _read(path: Path) -> dict:
    return json.loads(Path(path).read_text())
