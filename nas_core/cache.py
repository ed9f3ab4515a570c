"""Results on disk: keyed by their configuration, written atomically, resumable.

A `ResultStore` is a folder named by the hash of a configuration dict. It holds
`config.json` (the configuration itself, so every result records what made it) and
parquet parts. A long job appends one part per finished chunk; after an interruption it
asks `done_keys()` and computes only what is missing.

Concurrency: every part gets a name no other writer can pick (time, pid, random suffix) and
is created exclusively (hard link of a finished temporary file), so writers never overwrite
each other; readers see only finished parts (temporaries are hidden dot-files) and keep ONE
row per `unique` key, so processes sweeping overlapping work never produce duplicates.

Integrity: a part's name carries the sha256 of its bytes; other cached artefacts (decoded
images, the space table, checkpoints) carry a `<file>.sha256` sidecar (`write_checked` /
`read_checked`). A corrupt or truncated artefact is reported with its path, moved aside as
`<file>.corrupt` and recomputed -- never used.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from nas_core.config import cache_dir
from nas_core.errors import BadData


def config_key(config: dict) -> str:
    """Stable short hash of a JSON-able configuration."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write through a temporary file + rename. `exclusive`: fail with FileExistsError rather
    than replace an existing file (the finished file is hard-linked into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file normal permissions
        if exclusive:
            os.link(tmp, path)  # atomic and exclusive: raises FileExistsError if taken
            os.unlink(tmp)
        else:
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
    atomic_write_bytes(Path(path), frame_bytes(frame, Path(path).suffix))


def frame_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    buf = io.BytesIO()
    if suffix == ".parquet":
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    return frame.to_csv(index=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_checked(path: Path, data: bytes) -> None:
    """Atomic write plus a `.sha256` sidecar, written first: a file whose sidecar disagrees
    is known to be damaged."""
    path = Path(path)
    atomic_write_text(_sidecar(path), sha256(data) + "\n")
    atomic_write_bytes(path, data)


class CorruptFile(Exception):
    """A cached artefact failed its check (internal: callers move it aside and recompute)."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


def read_bytes(path: Path) -> bytes:
    """The file's bytes; an unreadable file (permissions) is a user error naming the path."""
    try:
        return Path(path).read_bytes()
    except PermissionError:
        raise BadData(f"permission denied reading {path}", where=str(path),
                      fix="make the file readable (chmod a+r) or point the kit at a folder you own") from None


def read_checked(path: Path) -> bytes:
    """The bytes of a file written by `write_checked`, verified against its sidecar (a file
    without a sidecar is trusted: written before checksums existed)."""
    path = Path(path)
    data = read_bytes(path)
    side = _sidecar(path)
    if side.is_file():
        expected = read_bytes(side).decode(errors="replace").strip()
        if sha256(data) != expected:
            raise CorruptFile(path, f"checksum mismatch ({len(data)} bytes)")
    return data


def quarantine(path: Path, reason: str) -> Path | None:
    """Move a damaged cached file aside (`<file>.corrupt`) with a warning naming it; it will
    be recomputed. Another process may have moved it already: that is fine."""
    path = Path(path)
    target = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    side = _sidecar(path)
    if side.exists():
        try:
            os.replace(side, side.with_name(side.name + ".corrupt"))
        except FileNotFoundError:
            pass
    print(f"nas-core: warning: {path} is damaged ({reason}); moved aside to {target.name}, "
          "it will be recomputed", file=sys.stderr)
    return target


_DIGEST = re.compile(r"-h([0-9a-f]{16})\.parquet$")


class ResultStore:
    """An append-only, chunked table in `<cache>/<kind>/<config hash>/`.

    `unique`: the columns identifying a result; reads keep the first row (oldest part) per key,
    so overlapping writers cannot duplicate results.
    """

    def __init__(self, kind: str, config: dict, root: Path | None = None, unique: Sequence[str] | None = None):
        self.config = config
        self.key = config_key(config)
        self.unique = list(unique) if unique else None
        self.path = Path(root or cache_dir()) / kind / self.key
        self.path.mkdir(parents=True, exist_ok=True)
        cfg_file = self.path / "config.json"
        if not cfg_file.exists():
            atomic_write_json(cfg_file, config)

    def parts(self) -> list[Path]:
        return sorted(self.path.glob("part-*.parquet"))

    def append(self, frame: pd.DataFrame, tag: str = "") -> Path:
        """A new part under a name unique to this writer (time, pid, random), created
        exclusively; the name ends with the checksum of the bytes."""
        data = frame_bytes(frame, ".parquet")
        prefix = f"part-{tag}-" if tag else "part-"
        while True:
            name = (f"{prefix}{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                    f"-h{sha256(data)[:16]}.parquet")
            try:
                atomic_write_bytes(self.path / name, data, exclusive=True)
                return self.path / name
            except FileExistsError:  # practically impossible; never overwrite
                continue

    def _read_part(self, path: Path) -> pd.DataFrame | None:
        try:
            data = read_bytes(path)
        except FileNotFoundError:  # moved aside by a concurrent reader
            return None
        digest = _DIGEST.search(path.name)
        if digest and sha256(data)[:16] != digest.group(1):
            quarantine(path, f"checksum mismatch ({len(data)} bytes)")
            return None
        try:
            return pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - any parse failure = truncated/damaged part
            quarantine(path, f"unreadable parquet: {type(exc).__name__}")
            return None

    def read(self) -> pd.DataFrame:
        frames = [f for f in (self._read_part(p) for p in self.parts()) if f is not None]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        if self.unique:
            frame = frame.drop_duplicates(subset=self.unique, keep="first", ignore_index=True)
        return frame

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
