"""Results on disk: keyed by their configuration, written atomically, resumable.

A `ResultStore` is a folder named by the hash of a configuration dict. It holds
`config.json` (the configuration itself, so every result records what made it) and
numbered parquet parts. A long job appends one part per finished chunk; after an
interruption it asks `done_keys()` and computes only what is missing.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd

from nas_core.config import cache_dir


def config_key(config: dict) -> str:
    """Stable short hash of a JSON-able configuration."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_write_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write csv or parquet (by suffix) through a temporary file + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_frame(path: Path) -> pd.DataFrame:
    path = Path(path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


class ResultStore:
    """An append-only, chunked table in `<cache>/<kind>/<config hash>/`."""

    def __init__(self, kind: str, config: dict, root: Path | None = None):
        self.config = config
        self.key = config_key(config)
        self.path = Path(root or cache_dir()) / kind / self.key
        self.path.mkdir(parents=True, exist_ok=True)
        cfg_file = self.path / "config.json"
        if not cfg_file.exists():
            atomic_write_json(cfg_file, config)

    def parts(self) -> list[Path]:
        return sorted(self.path.glob("part-*.parquet"))

    def append(self, frame: pd.DataFrame, tag: str = "") -> Path:
        """`tag` keeps concurrent writers (shards) from picking the same part name."""
        prefix = f"part-{tag}-" if tag else "part-"
        n = len(self.parts())
        while (self.path / f"{prefix}{n:06d}.parquet").exists():
            n += 1
        target = self.path / f"{prefix}{n:06d}.parquet"
        atomic_write_frame(target, frame)
        return target

    def read(self) -> pd.DataFrame:
        parts = self.parts()
        if not parts:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)

    def done_keys(self, columns: Iterable[str]) -> set:
        frame = self.read()
        if frame.empty:
            return set()
        cols = list(columns)
        return set(map(tuple, frame[cols].drop_duplicates().itertuples(index=False, name=None)))

    def mark_complete(self, summary: dict | None = None) -> None:
        atomic_write_json(self.path / "complete.json", summary or {})

    def is_complete(self) -> bool:
        return (self.path / "complete.json").exists()
