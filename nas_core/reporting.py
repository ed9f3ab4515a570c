"""Writing the notebooks' results under outputs/<profile>/, each with the configuration
that made it, and the index page that links them all.

  tables/<rq>_<name>.csv + .md + .csv.meta.json   (the sidecar holds config + caption)
  figures/<rq>_<name>.png + .svg                  (config embedded as metadata) + .meta.json
  README.md                                       (write_index: every table and figure)
Writes are atomic (temporary file + rename).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.cache import atomic_write_json, atomic_write_text
from nas_core.config import REPO_ROOT, outputs_dir

RQ_TITLES = {"rq1": "RQ1 — ranking quality of one-shot and zero-shot estimators",
             "rq2": "RQ2 — biases and variances",
             "rq3": "RQ3 — mitigations",
             "rq4": "RQ4 — training and input data",
             "rq5": "RQ5 — guidelines and search"}


def versions() -> dict:
    import torch

    from nas_core import __version__

    return {"nas_core": __version__, "torch": torch.__version__, "numpy": np.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub markdown table (no extra dependency)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if not np.isfinite(v) else f"{v:.{digits}g}"
        return str(v).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


class Report:
    def __init__(self, profile: str, rq: str, config: dict | None = None, out_root: Path | None = None):
        self.profile, self.rq = profile, rq
        self.root = Path(out_root) if out_root else outputs_dir(profile, (config or {}).get("benchmark", "nb201"))
        self.config = {**(config or {}), "rq": rq, "versions": versions(), "git_commit": git_commit()}
        self.started = time.time()
        self.artefacts: list[Path] = []

    def _meta(self, kind: str, caption: str) -> dict:
        return {**self.config, "kind": kind, "caption": caption,
                "written": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds_since_start": round(time.time() - self.started, 1)}

    def table(self, name: str, frame: pd.DataFrame, caption: str = "") -> Path:
        path = self.root / "tables" / f"{self.rq}_{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, frame.to_csv(index=False))
        atomic_write_text(path.with_suffix(".md"), f"**{caption or name}**\n\n" + markdown_table(frame))
        atomic_write_json(Path(f"{path}.meta.json"), self._meta("table", caption))
        self.artefacts.append(path)
        return path

    def figure(self, name: str, fig, caption: str = "") -> Path:
        import matplotlib.pyplot as plt

        base = self.root / "figures" / f"{self.rq}_{name}"
        base.parent.mkdir(parents=True, exist_ok=True)
        meta = self._meta("figure", caption)
        blob = json.dumps(meta, default=str)
        for ext, metadata in ((".png", {"Description": blob}), (".svg", {"Description": blob})):
            fd, tmp = tempfile.mkstemp(dir=base.parent, suffix=ext)
            os.close(fd)
            try:
                fig.savefig(tmp, dpi=120, bbox_inches="tight", metadata=metadata)
                os.replace(tmp, f"{base}{ext}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        atomic_write_json(Path(f"{base}.png.meta.json"), meta)
        plt.close(fig)
        self.artefacts.append(Path(f"{base}.png"))
        return Path(f"{base}.png")

    def done(self) -> list[Path]:
        """Record the notebook's wall time; return what it wrote."""
        atomic_write_json(self.root / "notebooks" / f"{self.rq}.timing.json",
                          {"rq": self.rq, "wall_time_s": round(time.time() - self.started, 1),
                           "artefacts": [str(p.relative_to(self.root)) for p in self.artefacts]})
        return self.artefacts


def write_index(profile: str, out_root: Path | None = None, benchmark: str = "nb201") -> Path:
    root = Path(out_root) if out_root else outputs_dir(profile, benchmark)
    manifest_path = root / "run_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    lines = [f"# Outputs of the `{profile}` profile", ""]
    if manifest:
        lines += [f"- **data**: {manifest.get('data')}", f"- **benchmark**: `{manifest.get('benchmark')}`, ground truth "
                  f"`{manifest.get('ground_truth')}`", f"- **device**: {manifest.get('device')}; machine: "
                  f"{manifest.get('machine')}", f"- **versions**: {manifest.get('versions')}",
                  f"- **git commit**: {manifest.get('git_commit')}; finished {manifest.get('finished')}",
                  f"- **wall time** of the last invocation: {manifest.get('wall_time_s')} s — latest figure per stage: "
                  f"{manifest.get('timings_s')}", ""]
        history = manifest.get("history", [])
        if history:
            lines += ["| finished | commit | notebooks | wall time (s) | per stage (s) |", "|---|---|---|---|---|"]
            for run in history:
                books = ", ".join(b.split("_")[0] for b in run.get("notebooks", []))
                note = f" ({run['note']})" if run.get("note") else ""
                lines.append(f"| {run.get('finished')} | {run.get('git_commit')} | {books} | {run.get('wall_time_s')}{note} "
                             f"| {run.get('timings_s')} |")
            lines.append("")
        if manifest.get("benchmark") == "mini":
            lines += ["> These results use the kit's built-in **mini benchmark** (Fashion-MNIST), not NAS-Bench-201.", ""]
    for rq, title in RQ_TITLES.items():
        tables = sorted((root / "tables").glob(f"{rq}_*.csv"))
        figures = sorted((root / "figures").glob(f"{rq}_*.png"))
        books = sorted((root / "notebooks").glob(f"{rq}_*.ipynb"))
        if not (tables or figures or books):
            continue
        lines += [f"## {title}", ""]
        for b in books:
            lines.append(f"- executed notebook: [{b.name}](notebooks/{b.name})")
        for t in tables:
            lines.append(f"- table [{t.stem}](tables/{t.name}) ([md](tables/{t.stem}.md)): {_caption(t)}")
        for f in figures:
            lines.append(f"- figure [{f.stem}](figures/{f.name}) ([svg](figures/{f.stem}.svg)): {_caption(f)}")
        lines.append("")
    path = root / "README.md"
    atomic_write_text(path, "\n".join(lines))
    return path


def _caption(path: Path) -> str:
    meta = Path(f"{path}.meta.json")
    if meta.is_file():
        return json.loads(meta.read_text()).get("caption", "")
    return ""
