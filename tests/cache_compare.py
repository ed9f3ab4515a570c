"""Are two caches' results identical? (tests/test_executor.py, benchmarks/bench_executor.py)

Two runs of the same study into different cache folders write the same results under
different file names: parts are named by time and process, and some configuration keys hold
the cache's own path (a supernet run's folder). So the comparison is logical:

* result stores (`<kind>/<hash>/`) are paired by their `config.json` with the cache root
  replaced by a placeholder, and a zero-shot store on a supernet's weights by the run folder
  and epoch behind its network tag (the tag hashes the run's absolute path); each pair must
  hold the same rows as the store reads them (one row per unique key), sorted, with equal
  values (NaN equal to NaN);
* supernet checkpoints must hold equal tensors (weights, optimizer and RNG states), equal
  sampler state and equal training logs; `protocol.json` files must be equal;
* every other file must be equal byte for byte.

What records timings is not a result and is left out: the `seconds` column of zero-shot rows
and of training logs (so a checkpoint's checksum sidecar, which covers its log, is not
compared either), `job_timings/` (the executors' per-job seconds) and `job_logs/`.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch

STORE_KINDS = ("zeroshot", "supernet_scores", "forgetting", "gradient_similarity", "bn_gamma_similarity")
TIMING_COLUMNS = ("seconds",)
IGNORED_TOP = ("job_timings", "job_logs")
# decoded images and the space table: inputs cached by whichever process needs them first (a
# process that has them in memory writes nothing), compared when both caches hold them
OPTIONAL_TOP = ("images", "space")
UNIQUE = {"zeroshot": ["index", "seed", "batch", "proxy"], "supernet_scores": ["index", "batch"]}


def _normalise(text: str, root: Path) -> str:
    text = text.replace(str(root.resolve()), "<CACHE>").replace(str(root), "<CACHE>")
    for name, alias in _aliases(root).items():
        text = text.replace(name, alias)
    return text


_PRUNED = re.compile(r"^(.*-prune\d+-)([0-9a-f]{16})$")


def _aliases(root: Path) -> dict[str, str]:
    """A pruned run's folder is named by a hash of its source run's absolute path: it is
    renamed after its (path-normalised) run record instead."""
    out = {}
    for run in (Path(root) / "supernet_runs").glob("*-prune*"):
        m = _PRUNED.match(run.name)
        if m and (run / "protocol.json").is_file():
            text = (run / "protocol.json").read_text().replace(str(Path(root).resolve()), "<CACHE>")
            out[run.name] = m.group(1) + "rec" + hashlib.sha256(text.encode()).hexdigest()[:13]
    return out


def _rel(path: Path, root: Path) -> Path:
    rel = path.relative_to(root)
    aliases = _aliases(root)
    return Path(*[aliases.get(part, part) for part in rel.parts])


def _supernet_tags(root: Path) -> dict[str, str]:
    """{network tag of a zero-shot sweep on supernet weights: 'run folder @ epoch'}."""
    from nas_core.cache import config_key

    tags = {}
    for run in sorted((root / "supernet_runs").glob("*")):
        for epoch in range(0, 1 + max([int(p.stem.split("_")[1]) for p in run.glob("ckpt_*.pt")] or [0])):
            key = config_key({"run": str(run.resolve()), "epoch": epoch})
            tags[f"supernet-v2:{key}"] = f"supernet:{run.name}@{epoch}"
    return tags


def _store_key(folder: Path, root: Path, tags: dict) -> str:
    config = json.loads((folder / "config.json").read_text())
    if str(config.get("network", "")).startswith("supernet-v2:"):
        config["network"] = tags.get(config["network"], "unknown supernet " + config["network"])
    return folder.parent.name + ":" + _normalise(json.dumps(config, sort_keys=True), root)


def read_store(folder: Path) -> pd.DataFrame:
    """The rows a ResultStore reads (one per unique key), sorted, timing columns dropped."""
    kind = folder.parent.name
    parts = sorted(folder.glob("part-*.parquet"))
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()
    if kind in UNIQUE and len(frame):
        frame = frame.drop_duplicates(subset=UNIQUE[kind], keep="first")
    frame = frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame.columns])
    if len(frame):
        frame = frame.sort_values(list(frame.columns), ignore_index=True, kind="stable")
    return frame.reset_index(drop=True)


def _stores(root: Path) -> dict[str, Path]:
    tags = _supernet_tags(root)
    return {_store_key(f, root, tags): f for kind in STORE_KINDS for f in sorted((root / kind).glob("*"))
            if (f / "config.json").is_file()}


def _same_tensors(a, b, where: str, problems: list) -> None:
    if isinstance(a, torch.Tensor):
        if not (isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)):
            problems.append(f"{where}: tensors differ")
    elif isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            problems.append(f"{where}: keys differ")
            return
        for k in a:
            _same_tensors(a[k], b[k], f"{where}.{k}", problems)
    elif isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            problems.append(f"{where}: lengths differ")
            return
        for k, (x, y) in enumerate(zip(a, b)):
            _same_tensors(x, y, f"{where}[{k}]", problems)
    elif isinstance(a, np.ndarray):
        if not np.array_equal(a, b):
            problems.append(f"{where}: arrays differ")
    elif isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return
    elif a != b:
        problems.append(f"{where}: {a!r} != {b!r}")


def _checkpoint(path: Path) -> dict:
    state = torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=False)
    for row in state.get("log", []):
        for c in TIMING_COLUMNS:
            row.pop(c, None)
    return state


def compare_caches(a: Path, b: Path) -> list[str]:
    """Problems found (empty: identical results). Also returns nothing compared as a problem."""
    a, b = Path(a), Path(b)
    problems: list[str] = []
    sa, sb = _stores(a), _stores(b)
    for key in sorted(set(sa) ^ set(sb)):
        problems.append(f"store only in {'first' if key in sa else 'second'} cache: {key[:160]}")
    n_rows = 0
    for key in sorted(set(sa) & set(sb)):
        fa, fb = read_store(sa[key]), read_store(sb[key])
        n_rows += len(fa)
        try:
            pd.testing.assert_frame_equal(fa, fb, check_exact=True)
        except AssertionError as exc:
            problems.append(f"store {sa[key].relative_to(a)} vs {sb[key].relative_to(b)}: {str(exc).splitlines()[0]}")
    covered = {p for f in list(sa.values()) for p in f.iterdir()} | {p for f in list(sb.values()) for p in f.iterdir()}
    files_a = {_rel(p, a): p for p in a.rglob("*") if p.is_file() and p not in covered}
    files_b = {_rel(p, b): p for p in b.rglob("*") if p.is_file() and p not in covered}
    files_a = {r: p for r, p in files_a.items() if r.parts[0] not in IGNORED_TOP}
    files_b = {r: p for r, p in files_b.items() if r.parts[0] not in IGNORED_TOP}
    for rel in sorted(set(files_a) ^ set(files_b)):
        if rel.parts[0] in OPTIONAL_TOP:
            continue
        problems.append(f"file only in {'first' if rel in files_a else 'second'} cache: {rel}")
    n_ckpt = 0
    for rel in sorted(set(files_a) & set(files_b)):
        pa, pb = files_a[rel], files_b[rel]
        if rel.suffix == ".pt":
            n_ckpt += 1
            _same_tensors(_checkpoint(pa), _checkpoint(pb), str(rel), problems)
        elif rel.name == "log.csv":
            da, db = (pd.read_csv(p).drop(columns=list(TIMING_COLUMNS), errors="ignore") for p in (pa, pb))
            if not da.equals(db):
                problems.append(f"{rel}: training logs differ")
        elif rel.name.endswith(".pt.sha256"):
            continue  # the checksum of a checkpoint, whose log holds seconds: compared as tensors above
        elif rel.name == "protocol.json":
            if _normalise(pa.read_text(), a) != _normalise(pb.read_text(), b):
                problems.append(f"{rel}: run records differ")
        elif pa.read_bytes() != pb.read_bytes():
            problems.append(f"{rel}: bytes differ")
    if not sa or not n_ckpt:
        problems.append(f"nothing to compare ({len(sa)} stores, {n_ckpt} checkpoints)")
    compare_caches.last_counts = {"stores": len(sa), "rows": n_rows, "checkpoints": n_ckpt}
    return problems
