"""Writing the notebooks' results under outputs/<profile>/, each with the configuration
that made it, and the index page that links them all.

  tables/<rq>_<name>.csv + .md + .csv.meta.json   (the sidecar holds config + caption)
  figures/<rq>_<name>.png + .svg                  (config embedded as metadata) + .meta.json
  README.md                                       (write_index: every table and figure)
Writes are atomic (temporary file + rename). Inside a notebook, each figure is also displayed
in its cell and each table as a compact view (a few readable rows, wide, human names); the
full long table stays in the csv. Nothing prints a path: what `table`/`figure`/`done` return
displays as nothing (or a one-line summary) when it is a cell's last expression.
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

from nas_core.cache import atomic_write_frame, atomic_write_json, atomic_write_text
from nas_core.config import REPO_ROOT, outputs_dir, running_in_notebook

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


# Human names of the criteria (nas_core.criteria) and of the estimators, for compact views.
CRITERION_NAMES = {"kendall_tau_b": "τ-b", "kendall_tau_a": "τ-a", "spearman": "ρ", "pearson": "LC",
                   "sparse_kendall_tau": "sparse τ", "p_at_top": "P@top", "p_at_bottom": "P@bottom",
                   "br_at_k": "BR", "wr_at_k": "WR", "tau_in_top": "τ in top", "tau_in_bottom": "τ in bottom"}
ESTIMATOR_NAMES = {"os_acc": "OS acc", "os_loss": "OS loss", "params": "#params", "flops": "#FLOPs",
                   "relu_logdet": "relu_logdet (NASWOT)", "relu": "relu count"}
# what the compact view of a tidy criteria table shows (criterion, K); K None = no K
KEY_CRITERIA = (("kendall_tau_b", None), ("spearman", None), ("p_at_top", 0.05), ("p_at_bottom", 0.05),
                ("br_at_k", 0.05))
LEADERBOARD_CRITERIA = (("kendall_tau_b", None), ("spearman", None), ("p_at_top", 0.05), ("p_at_top", 0.1),
                        ("p_at_bottom", 0.05), ("p_at_bottom", 0.1), ("br_at_k", 0.05), ("wr_at_k", 0.05))
CRITERIA_COLUMNS = ("estimator", "criterion", "k", "value")
ATTRIBUTE_COLUMNS = ("ci_low", "ci_high", "n", "n_invalid", "invalid_policy")


def criterion_label(criterion: str, k=None) -> str:
    """'kendall_tau_b' -> 'τ-b'; ('p_at_top', 0.05) -> 'P@top 5 %'."""
    name = CRITERION_NAMES.get(criterion, criterion)
    if k is None or (isinstance(k, float) and not np.isfinite(k)):
        return name
    return f"{name}{'@' if name in ('BR', 'WR') else ' '}{float(k) * 100:g} %"


def estimator_label(name) -> str:
    return ESTIMATOR_NAMES.get(name, str(name))


def round_sensibly(v) -> str:
    """A number as a reader wants it: integers whole, |v| < 10 with 3 decimals, larger with
    fewer; NaN as an empty cell."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return "" if v is None else str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        if float(v).is_integer() and abs(v) < 1e6:
            return str(int(v))
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.1f}"
        if a >= 10:
            return f"{v:.2f}"
        if a >= 0.001:
            return f"{v:.3f}"
        return f"{v:.1e}"
    return str(v)


def _with_ci(value, low, high) -> str:
    text = round_sensibly(value)
    if low is not None and high is not None and np.isfinite(low) and np.isfinite(high):
        text += f" [{round_sensibly(low)}, {round_sensibly(high)}]"
    return text


def _is_criteria_table(frame: pd.DataFrame) -> bool:
    return set(CRITERIA_COLUMNS) <= set(frame.columns)


def _criteria_wide(frame: pd.DataFrame, wanted) -> tuple[pd.DataFrame, list[str]]:
    """Tidy criteria -> one row per (varying key columns, estimator), one column per wanted
    criterion (τ-b with its interval when the table has one)."""
    notes = []
    keys = [c for c in frame.columns if c not in CRITERIA_COLUMNS + ATTRIBUTE_COLUMNS]
    varying = [c for c in keys if frame[c].nunique(dropna=False) > 1]
    for c in keys:
        if c not in varying and len(frame):
            notes.append(f"{c} = {round_sensibly(frame[c].iloc[0])}")
    for c in ("epoch", "checkpoint"):
        if c in varying and len(varying) > 0:
            last = frame[c].max()
            frame = frame[frame[c] == last]
            varying.remove(c)
            notes.append(f"at the last {c} ({round_sensibly(last)}; every {c} in the full table)")
    rows = []
    index = varying + ["estimator"]
    for key, group in frame.groupby(index, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(index, key))
        row["estimator"] = estimator_label(row["estimator"])
        for criterion, k in wanted:
            sel = group[group["criterion"] == criterion]
            sel = sel[sel["k"].isna()] if k is None else sel[np.isclose(sel["k"].astype(float), k)]
            if sel.empty:
                continue
            r = sel.iloc[0]
            label = criterion_label(criterion, k)
            if criterion == "kendall_tau_b" and "ci_low" in sel.columns and np.isfinite(r.get("ci_low", np.nan)):
                row[f"{label} [95 % CI]"] = _with_ci(r["value"], r["ci_low"], r["ci_high"])
                row["_sort"] = r["value"]
            else:
                row[label] = r["value"]
                if criterion == "kendall_tau_b":
                    row["_sort"] = r["value"]
        if "n" in group.columns:
            row["n"] = group["n"].iloc[0]
        rows.append(row)
    wide = pd.DataFrame(rows)
    if "_sort" in wide.columns:
        if not varying:  # a leaderboard reads best first; along a key, keep the key's order
            wide = wide.sort_values("_sort", ascending=False, kind="stable")
        wide = wide.drop(columns="_sort")
    return wide.reset_index(drop=True), notes


def compact_table(frame: pd.DataFrame, max_rows: int = 12) -> tuple[pd.DataFrame, list[str]]:
    """The readable view of a result table: a tidy criteria table pivoted wide (key criteria,
    human names, τ-b with its interval, best first; along training at the last checkpoint),
    constant columns dropped (and named in the notes), numbers rounded, at most `max_rows`
    rows. Returns (view with string cells, notes for the caption)."""
    notes: list[str] = []
    if _is_criteria_table(frame):
        frame, notes = _criteria_wide(frame, KEY_CRITERIA)
    if len(frame) > 1:
        constant = [c for c in frame.columns if frame[c].nunique(dropna=False) == 1 and c != "estimator"]
        for c in constant:
            notes.append(f"{CRITERION_NAMES.get(c, c)} = {round_sensibly(frame[c].iloc[0])}")
        frame = frame.drop(columns=constant)
    frame = frame.rename(columns={c: CRITERION_NAMES[c] for c in frame.columns if c in CRITERION_NAMES})
    total = len(frame)
    if total > max_rows:
        frame = frame.head(max_rows)
        notes.append(f"first {max_rows} of {total} rows")
    view = frame.apply(lambda col: col.map(round_sensibly)) if len(frame) else frame
    return view.reset_index(drop=True), notes


def leaderboard(crit: pd.DataFrame, seconds: pd.Series | dict | None = None) -> pd.DataFrame:
    """One row per estimator, best τ-b first: τ-b, its 95 % interval (when the table has one),
    ρ, P@top / P@bottom 5 % and 10 %, BR / WR @5 %, n, and seconds per architecture when
    `seconds` (estimator -> s/arch) is given. Numeric; `leaderboard_markdown` formats it."""
    if not _is_criteria_table(crit):
        raise ValueError("leaderboard needs a tidy criteria table (estimator, criterion, k, value)")
    rows = []
    for est, group in crit.groupby("estimator", sort=False):
        row = {"estimator": est}
        for criterion, k in LEADERBOARD_CRITERIA:
            sel = group[group["criterion"] == criterion]
            sel = sel[sel["k"].isna()] if k is None else sel[np.isclose(sel["k"].astype(float), k)]
            value = sel["value"].iloc[0] if len(sel) else np.nan
            row[criterion_label(criterion, k)] = value
            if criterion == "kendall_tau_b":
                for c, label in (("ci_low", "τ-b CI low"), ("ci_high", "τ-b CI high")):
                    row[label] = sel[c].iloc[0] if c in sel.columns and len(sel) else np.nan
        row["n"] = group["n"].iloc[0] if "n" in group.columns else np.nan
        if seconds is not None:
            row["s / arch"] = pd.Series(seconds).get(est, np.nan)
        rows.append(row)
    board = pd.DataFrame(rows).sort_values("τ-b", ascending=False, kind="stable")
    return board.reset_index(drop=True)


def leaderboard_view(board: pd.DataFrame) -> pd.DataFrame:
    """`leaderboard` as strings: τ-b [CI] in one cell, human estimator names, empty columns dropped."""
    view = pd.DataFrame({"estimator": board["estimator"].map(estimator_label)})
    view["τ-b [95 % CI]"] = [_with_ci(v, lo, hi) for v, lo, hi in
                             zip(board["τ-b"], board["τ-b CI low"], board["τ-b CI high"])]
    for c in board.columns:
        if c in ("estimator", "τ-b", "τ-b CI low", "τ-b CI high") or board[c].isna().all():
            continue
        view[c] = board[c].map(round_sensibly)
    return view


class Saved(type(Path())):
    """A written file's path that shows nothing when it ends a notebook cell (no raw paths)."""

    def _ipython_display_(self):
        pass


class SavedList(list):
    """What a notebook wrote: one short line when it ends a cell, never the paths."""

    def _ipython_display_(self):
        from IPython.display import Markdown, display

        tables = sum(1 for p in self if p.suffix == ".csv")
        figures = sum(1 for p in self if p.suffix == ".png")
        display(Markdown(f"*Saved {tables} table(s) and {figures} figure(s) with their configuration; the index "
                         f"of the outputs lists them.*"))


class Report:
    def __init__(self, profile: str, rq: str, config: dict | None = None, out_root: Path | None = None,
                 inline: bool | None = None):
        self.profile, self.rq = profile, rq
        # inline: display figures / compact tables in the cell (default: when in a notebook kernel)
        self.inline = running_in_notebook() if inline is None else bool(inline)
        self.root = Path(out_root) if out_root else outputs_dir(profile, (config or {}).get("benchmark", "nb201"))
        self.config = {**(config or {}), "rq": rq, "versions": versions(), "git_commit": git_commit()}
        self.started = time.time()
        self.artefacts: list[Path] = []

    def _meta(self, kind: str, caption: str) -> dict:
        return {**self.config, "kind": kind, "caption": caption,
                "written": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds_since_start": round(time.time() - self.started, 1)}

    def table(self, name: str, frame: pd.DataFrame, caption: str = "", show: bool = True,
              view: pd.DataFrame | None = None, max_rows: int = 12) -> Path:
        """Write the full table (csv + md + meta); in a notebook, display `view` (default: the
        compact view of `frame`) unless show=False."""
        path = self.root / "tables" / f"{self.rq}_{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, frame.to_csv(index=False))
        atomic_write_text(path.with_suffix(".md"), f"**{caption or name}**\n\n" + markdown_table(frame))
        atomic_write_json(Path(f"{path}.meta.json"), self._meta("table", caption))
        self.artefacts.append(path)
        if show and self.inline:
            self._show_table(frame if view is None else view, caption or name, path.name, max_rows,
                             compact=view is None)
        return Saved(path)

    def leaderboard(self, name: str, crit: pd.DataFrame, seconds=None, caption: str = "") -> Path:
        """Write `leaderboard(crit, seconds)` as a table; in a notebook, show it formatted."""
        board = leaderboard(crit, seconds)
        return self.table(name, board, caption or "Leaderboard", view=leaderboard_view(board), max_rows=len(board))

    def reproduction(self, tables: dict, context: dict, rq: str | None = None) -> Path:
        """The study's published numbers for this notebook beside the kit's (see
        nas_core.analyses.reproduction): written as `<rq>_reproduction` and shown inline.
        `tables`: result tables by name (e.g. {"rq1_zse_criteria": frame}); `context`:
        `reproduction.profile_context(...)`."""
        from nas_core.analyses import reproduction as R

        table = R.reproduction_table(R.load_published(rq or self.rq), tables, context)
        view = table[["setting", "criterion", "published", "kit", "n", "verdict", "reason"]]
        return self.table("reproduction", table, "The study's published numbers beside the kit's", view=view,
                          max_rows=len(table))

    def _show_table(self, frame: pd.DataFrame, caption: str, filename: str, max_rows: int, compact: bool) -> None:
        from IPython.display import Markdown, display

        view, notes = compact_table(frame, max_rows) if compact else (frame, [])
        foot = "; ".join(notes + [f"full table: {filename}"])
        display(Markdown(f"**{caption}**\n\n{markdown_table(view)}\n<small>{foot}</small>\n"))

    def footer(self, n: int | None = None) -> str:
        """What a figure was made from: benchmark, ground truth, profile, n."""
        c = self.config
        n = c.get("n_eval_archs") if n is None else n
        return (f"{c.get('benchmark', '?')} · ground truth {c.get('ground_truth', '?')} · profile {self.profile}"
                + (f" · n = {n} architectures" if n is not None else ""))

    def figure(self, name: str, fig, caption: str = "", show: bool = True, n: int | None = None) -> Path:
        """Save (PNG + SVG, configuration embedded) and, in a notebook, display `fig`, with a
        footer naming benchmark, ground truth, profile and `n` (default: the evaluated archs)."""
        import matplotlib.pyplot as plt

        base = self.root / "figures" / f"{self.rq}_{name}"
        base.parent.mkdir(parents=True, exist_ok=True)
        fig.text(0.01, 0.0, self.footer(n), fontsize=8, color="dimgrey", ha="left", va="top")
        meta = {**self._meta("figure", caption), "n": n if n is not None else self.config.get("n_eval_archs")}
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
        png = Path(f"{base}.png")
        self.artefacts.append(png)
        if show and self.inline:
            from IPython.display import Image, display

            display(Image(data=png.read_bytes(), format="png"))  # the saved file: what the cell shows is what is kept
        return Saved(png)

    def done(self) -> list[Path]:
        """Record the notebook's wall time; return what it wrote."""
        atomic_write_json(self.root / "notebooks" / f"{self.rq}.timing.json",
                          {"rq": self.rq, "wall_time_s": round(time.time() - self.started, 1),
                           "artefacts": [str(p.relative_to(self.root)) for p in self.artefacts]})
        return SavedList(self.artefacts)


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
    lines += _reproduction_lines(root, profile)
    path = root / "README.md"
    atomic_write_text(path, "\n".join(lines))
    return path


def _caption(path: Path) -> str:
    meta = Path(f"{path}.meta.json")
    if meta.is_file():
        return json.loads(meta.read_text()).get("caption", "")
    return ""


def _reproduction_lines(root: Path, profile: str) -> list[str]:
    """The verdicts of every notebook's `<rq>_reproduction` table: counts, then the section
    'what reproduces, what does not yet' (generated, never typed)."""
    from nas_core.analyses import reproduction as R

    frames = [pd.read_csv(p, keep_default_na=False) for p in sorted((root / "tables").glob("*_reproduction.csv"))]
    if not frames:
        return []
    counts = R.summary(frames)
    return ["## The study's published numbers beside the kit's", "", markdown_table(counts),
            R.markdown_section(frames, profile)]


def write_cross_benchmark_summary(profile: str, benchmarks_: list[str]) -> Path:
    """The study's first table across benchmarks: per benchmark, tau and P@top 5 % of OS acc,
    OS loss, #params and the best zero-shot estimators, read from each benchmark's RQ1
    leaderboard (outputs/<profile>[-<benchmark>]/tables/rq1_leaderboard.csv). Written to
    outputs/<profile>-summary/cross_benchmark.{csv,md}."""
    rows = []
    for name in benchmarks_:
        path = outputs_dir(profile, name) / "tables" / "rq1_leaderboard.csv"
        if not path.is_file():
            rows.append({"benchmark": name, "note": "no RQ1 leaderboard (run rq1 for this benchmark)"})
            continue
        board = pd.read_csv(path)
        by = board.set_index("estimator")
        row = {"benchmark": name, "n archs": int(board["n"].max())}
        for est in ("os_acc", "os_loss", "params", "flops"):
            if est in by.index:
                row[f"{est} τ-b"] = by.loc[est, "τ-b"]
                row[f"{est} P@top 5 %"] = by.loc[est, "P@top 5 %"]
        zs = board[~board["estimator"].isin(["os_acc", "os_loss", "params", "flops"])
                   & ~board["estimator"].str.startswith("os_")].sort_values("τ-b", ascending=False)
        row["best zero-shot (τ-b)"] = ", ".join(f"{e} {t:.2f}" for e, t in zip(zs["estimator"][:3], zs["τ-b"][:3]))
        rows.append(row)
    frame = pd.DataFrame(rows)
    published = _published_beside_kit(profile, benchmarks_)
    out = outputs_dir(profile, "summary")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_frame(out / "cross_benchmark.csv", frame)
    atomic_write_text(out / "cross_benchmark.md", f"# Cross-benchmark summary (`{profile}` profile)\n\n"
                      "Kendall's τ-b and P@top 5 % of each estimator against the benchmark's own ground truth, "
                      "from each benchmark's RQ1 leaderboard (its own README says how each was made: ground truth, "
                      "network sizes, and for NDS whether it ran on the made-up fixture)."
                      + (" **Smoke profile: code paths only, not results.**" if profile == "smoke" else "")
                      + "\n\n" + markdown_table(frame) + "\n"
                      + ("\n## The study's published RQ1 numbers beside the kit's\n\nEach benchmark's own rows of its "
                         "`rq1_reproduction` table (the verdict and its reason are computed there).\n\n"
                         + markdown_table(published) + "\n" if len(published) else ""))
    return out / "cross_benchmark.md"


def _published_beside_kit(profile: str, benchmarks_: list[str]) -> pd.DataFrame:
    """Per benchmark, the rows of its RQ1 reproduction table that the study published for that
    benchmark (rows about other benchmarks are 'not comparable' there by construction)."""
    parts = []
    for name in benchmarks_:
        path = outputs_dir(profile, name) / "tables" / "rq1_reproduction.csv"
        if path.is_file():
            table = pd.read_csv(path, dtype=str).fillna("")
            parts.append(table[table["benchmark"] == name][
                ["benchmark", "setting", "criterion", "published", "kit", "verdict", "reason"]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
