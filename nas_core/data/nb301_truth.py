"""NAS-Bench-301 ground truth as one tidy frame (docs/nb301.md: ground truth).

Columns: `index` (0..n-1, in the row order of the source, first occurrence after merging),
`arch_str` (the kit's canonical string, `nb301.format_arch`), `val_acc` (CIFAR-10 validation
accuracy, percent), `params_M`, `flops_M` (the sample's own columns where it has them, else the
closed form of `nb301_cost`, which reproduces the sample's columns exactly), `source`.

Sources, looked for in this order under `<data root>/nasbench301/` (the first one found is used;
`source=` picks one explicitly):
  sample    nb301_ground_truth_sample.csv: a sample of 1,218 cells with columns dataset,
            normal_genotype, reduce_genotype, val_accuracy, flops, params. These are REAL
            training results from the NAS-Bench-301 training data (architectures trained for
            100 epochs), NOT predictions of the NB301 surrogate model. The study's NB301 ground
            truth is the surrogate's noise-free prediction, so numbers computed on the sample
            are not the study's numbers.
  user      nb301_user_truth.csv: columns normal_genotype, reduce_genotype, val_accuracy, or
            arch_str, val_accuracy (percent; `arch_str` = "<normal>|<reduce>").
  official  the NB301 training-data JSON files (one file per trained network, e.g. the folder
            nb_301_v13_lc_iclr_final/<optimizer>/results_<n>.json of the NB301 data release),
            anywhere below nasbench301/. A file's genotype is in "optimized_hyperparamater_config"
            (sic): "NetworkSelectorDatasetInfo:darts:edge_<cell>_<e>" = op name of edge e (edge
            e of intermediate node k from input j is e = (0, 2, 5, 9)[k] + j), and
            "...:inputs_node_<cell>_<k+2>" = "i_j", the two inputs of node k >= 1 (node 0
            always reads 0 and 1); the accuracy is "info"[0]["val_accuracy"] (percent). The
            parsed rows are cached (keyed by the files' names, sizes and times).
Several rows with the same canonical architecture (repeated training runs) become one row with
their mean accuracy; `frame.attrs["n_merged"]` says how many rows were folded away.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.cache import atomic_write_frame, config_key
from nas_core.config import cache_dir, data_root as resolve_root
from nas_core.errors import BadData, BadParameter, DataNotFound, KitError
from nas_core.space import nb301
from nas_core.space.nb301_cost import params_flops

FOLDER = "nasbench301"
SAMPLE_NAME = "nb301_ground_truth_sample.csv"
USER_NAME = "nb301_user_truth.csv"
SOURCES = ("sample", "user", "official")
COLUMNS = ("index", "arch_str", "val_acc", "params_M", "flops_M", "source")
CONFIG_KEY = "optimized_hyperparamater_config"  # the official files' spelling
PREFIX = "NetworkSelectorDatasetInfo:darts:"
EDGE_START = (0, 2, 5, 9)
HOW_TO_GET = (
    f"put one of: the NB301 sample CSV at <data root>/{FOLDER}/{SAMPLE_NAME}; your own table at "
    f"<data root>/{FOLDER}/{USER_NAME} (columns normal_genotype,reduce_genotype,val_accuracy or "
    f"arch_str,val_accuracy, accuracy in percent); or the NAS-Bench-301 training data (the "
    f"nb_301_v13_lc_iclr_final folder of JSON files from the NAS-Bench-301 data release, see "
    f"github.com/automl/nasbench301) under <data root>/{FOLDER}/")


def load_nb301_truth(data_root=None, source: str | None = None) -> pd.DataFrame:
    """The NB301 ground-truth frame (see the module docstring) from the first source found, or
    from `source` ("sample" | "user" | "official")."""
    if source is not None and source not in SOURCES:
        raise BadParameter(f"unknown NB301 ground-truth source {source!r}", fix=f"use one of: {', '.join(SOURCES)}")
    root = resolve_root(data_root, required=True)
    folder = root / FOLDER
    for name in SOURCES if source is None else (source,):
        found = _locate(folder, name)
        if found is not None:
            return _READERS[name](found)
    what = "no NAS-Bench-301 ground truth found" if source is None else f"no NB301 {source} ground truth found"
    raise DataNotFound(what, where=str(folder), fix=HOW_TO_GET)


def _locate(folder: Path, source: str):
    if source == "sample":
        return folder / SAMPLE_NAME if (folder / SAMPLE_NAME).is_file() else None
    if source == "user":
        return folder / USER_NAME if (folder / USER_NAME).is_file() else None
    files = sorted(folder.rglob("*.json")) if folder.is_dir() else []
    return files or None


# ----------------------------------------------------------------------------- readers

def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadData(f"cannot read {path.name} as CSV: {exc}", where=str(path),
                      fix="write a comma-separated table with a header row") from None


def _need(frame: pd.DataFrame, columns, path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BadData(f"{path.name} lacks column(s) {', '.join(missing)}", where=str(path),
                      fix=f"columns found: {', '.join(map(str, frame.columns))}; " + HOW_TO_GET)


def _archs_from_genotypes(normals, reduces, path: Path) -> list[nb301.Arch]:
    archs = []
    for row, (normal, reduce) in enumerate(zip(normals, reduces)):
        try:
            archs.append(nb301.from_genotypes(normal, reduce))
        except KitError as exc:
            raise BadData(f"{path.name}, data row {row + 1}: {exc.what}", where=str(path), fix=exc.fix) from None
    return archs


def _accuracy(values, path: Path) -> np.ndarray:
    acc = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(acc))
    if len(bad):
        raise BadData(f"{path.name}: val_accuracy of data row {bad[0] + 1} is not a number", where=str(path))
    if len(acc) and acc.max() <= 1.0:
        raise BadData(f"{path.name}: every val_accuracy is <= 1; the kit expects percent", where=str(path),
                      fix="multiply the accuracies by 100")
    if len(acc) and (acc.min() < 0 or acc.max() > 100):
        raise BadData(f"{path.name}: val_accuracy must lie in [0, 100] (percent)", where=str(path))
    return acc


def read_sample(path: Path) -> pd.DataFrame:
    """The NB301 sample CSV (real NB301 training results, not the surrogate)."""
    raw = _read_csv(path)
    _need(raw, ("normal_genotype", "reduce_genotype", "val_accuracy", "params", "flops"), path)
    if "dataset" in raw.columns:
        others = sorted(set(raw["dataset"]) - {"cifar10"})
        if others:
            raise BadData(f"{path.name} has rows of dataset(s) {others}; NB301 is CIFAR-10 only", where=str(path))
    archs = _archs_from_genotypes(raw["normal_genotype"], raw["reduce_genotype"], path)
    rows = pd.DataFrame({"arch": archs, "val_acc": _accuracy(raw["val_accuracy"], path),
                         "params_M": raw["params"].astype(float), "flops_M": raw["flops"].astype(float)})
    return _finish(rows, "sample", path)


def read_user(path: Path) -> pd.DataFrame:
    """A user table: normal_genotype, reduce_genotype, val_accuracy (or arch_str, val_accuracy)."""
    raw = _read_csv(path)
    if "arch_str" in raw.columns:
        _need(raw, ("arch_str", "val_accuracy"), path)
        parts = [s.split("|", 1) + [""] for s in raw["arch_str"].astype(str)]
        normals, reduces = [p[0] for p in parts], [p[1] for p in parts]
    else:
        _need(raw, ("normal_genotype", "reduce_genotype", "val_accuracy"), path)
        normals, reduces = raw["normal_genotype"], raw["reduce_genotype"]
    archs = _archs_from_genotypes(normals, reduces, path)
    rows = pd.DataFrame({"arch": archs, "val_acc": _accuracy(raw["val_accuracy"], path)})
    return _finish(rows, "user", path)


def genotype_from_config(config: dict, where: str = "") -> nb301.Arch:
    """The Arch of an official NB301 configuration dict (see the module docstring)."""
    cells = []
    for cell in nb301.CELLS:
        pairs = []
        for node in range(nb301.N_NODES):
            if node == 0:
                inputs = (0, 1)
            else:
                key = f"{PREFIX}inputs_node_{cell}_{node + 2}"
                try:
                    inputs = tuple(int(v) for v in str(config[key]).split("_"))
                except KeyError:
                    raise BadData(f"{where}: the configuration lacks {key!r}", where=where) from None
                except ValueError:
                    raise BadData(f"{where}: {key!r} = {config[key]!r} is not 'i_j'", where=where) from None
            for inp in inputs:
                key = f"{PREFIX}edge_{cell}_{EDGE_START[node] + inp}"
                if key not in config:
                    raise BadData(f"{where}: the configuration lacks {key!r} (node {node} reads input {inp})",
                                  where=where)
                pairs.append((config[key], inp))
        cells.append(pairs)
    try:
        return nb301.canonical(cells)
    except KitError as exc:
        raise BadData(f"{where}: {exc.what}", where=where, fix=exc.fix) from None


def read_official_file(path: Path) -> tuple[str, float]:
    """(arch_str, val_accuracy %) of one official NB301 training-result JSON."""
    try:
        blob = json.loads(Path(path).read_text())
        config = blob[CONFIG_KEY]
        info = blob["info"]
        info = info[0] if isinstance(info, list) else info
        acc = float(info["val_accuracy"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadData(f"cannot read {Path(path).name} as JSON: {exc}", where=str(path)) from None
    except (KeyError, IndexError, TypeError, ValueError):
        raise BadData(f"{Path(path).name} is not an NB301 training result (needs {CONFIG_KEY!r} and "
                      "info[0].val_accuracy)", where=str(path)) from None
    return nb301.format_arch(genotype_from_config(config, str(path))), acc


def read_official(files) -> pd.DataFrame:
    """All official JSON files (sorted by path) -> frame; the per-file rows are cached."""
    files = sorted(Path(f) for f in files)
    stamp = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    cached = cache_dir() / "groundtruth" / f"nb301_official_{config_key({'files': stamp})}.parquet"
    if cached.is_file():
        per_file = pd.read_parquet(cached)
    else:
        parsed = [read_official_file(f) for f in files]
        per_file = pd.DataFrame(parsed, columns=["arch_str", "val_acc"])
        atomic_write_frame(cached, per_file)
    rows = pd.DataFrame({"arch": [nb301.parse(s) for s in per_file["arch_str"]],
                         "val_acc": per_file["val_acc"].to_numpy(dtype=np.float64)})
    _accuracy(rows["val_acc"], files[0].parent)
    return _finish(rows, "official", files[0].parent)


_READERS = {"sample": read_sample, "user": read_user, "official": read_official}


def _finish(rows: pd.DataFrame, source: str, path: Path) -> pd.DataFrame:
    """Merge duplicate canonical archs (mean accuracy, first occurrence's position), add the
    complexity columns where the source has none, and number the rows."""
    rows = rows.assign(arch_str=[nb301.format_arch(a) for a in rows["arch"]])
    n_read = len(rows)
    if n_read == 0:
        raise BadData(f"{Path(path).name} holds no architecture", where=str(path), fix=HOW_TO_GET)
    agg = {"val_acc": "mean", "arch": "first"}
    agg.update({c: "first" for c in ("params_M", "flops_M") if c in rows.columns})
    merged = rows.groupby("arch_str", sort=False).agg(agg).reset_index()
    if "params_M" not in merged.columns:
        merged["params_M"], merged["flops_M"] = params_flops(list(merged["arch"]))
    merged["source"] = source
    merged.insert(0, "index", np.arange(len(merged)))
    frame = merged[list(COLUMNS)].reset_index(drop=True)
    frame.attrs.update({"source": source, "path": str(path), "n_rows_read": n_read,
                        "n_merged": n_read - len(frame)})
    return frame
