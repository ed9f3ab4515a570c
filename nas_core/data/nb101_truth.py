"""NAS-Bench-101 ground truth as one tidy frame (docs/nb101.md, "Ground truth").

Looked for under the data root, first found wins:
  1. `nasbench101/nb101_ground_truth.csv`: a user's export of the official benchmark (below);
  2. `nasbench101/nb101_ground_truth_sample.csv`: the 500-cell sample (columns adjacency, ops,
     val_accuracy, flops, params). Its accuracy is the 108-epoch VALIDATION accuracy of ONE
     of the benchmark's three training runs, not the test accuracy averaged over runs that the
     study ranks by: say so beside any comparison with the study.
`load_nb101_truth(path=...)` reads any table of that layout directly.

The official file (`nasbench_full.tfrecord` / `nasbench_only108.tfrecord`) can only be read
through the benchmark's own API, which needs TensorFlow 1.x; the kit reads a CSV export
instead (docs/nb101.md shows the few lines that write it where that API runs).

Table layout: one row per cell; either the columns `adjacency` (the n*n-character flattened
upper-triangular matrix, n <= 7) and `ops` (comma-separated labels, input first, output
last), or one column `arch_str` = "<adjacency>|<ops>"; then metric columns. Recognised
metric names are renamed to the kit's `<dataset>_<metric>` convention (`COLUMN_NAMES`);
other columns are kept as they are.

The frame: index (row), arch_str (the PRUNED cell, `space.nb101.format_arch`), hash (the
benchmark's graph hash), iso_class (cells with one hash share a class; numbered by first
appearance), iso_representative (the first row of each class), the metric columns, and
params_M_cifar10 / flops_M_cifar10 computed by the kit. A `params` column in the file must
equal the kit's count (it catches a mangled adjacency column).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.config import data_root as resolve_root
from nas_core.errors import BadData, BadParameter, DataNotFound
from nas_core.space import nb101

FOLDER = "nasbench101"
FULL_NAME = "nb101_ground_truth.csv"
SAMPLE_NAME = "nb101_ground_truth_sample.csv"
# file column -> kit column
COLUMN_NAMES = {
    "val_accuracy": "cifar10_valid_acc_108ep",
    "validation_accuracy": "cifar10_valid_acc_108ep",
    "test_accuracy": "cifar10_test_acc_108ep",
    "params": "params_M_file",          # millions, as in the sample
    "flops": "flops_M_file",            # millions, as in the sample
    "trainable_parameters": "params_file",  # the official API's raw count
}
DEFAULT_METRIC = {SAMPLE_NAME: "cifar10_valid_acc_108ep", FULL_NAME: "cifar10_test_acc_108ep"}
HOW_TO_GET = (
    f"put a CSV export of NAS-Bench-101 at <data root>/{FOLDER}/{FULL_NAME} (columns adjacency, ops, "
    "test_accuracy, ...; docs/nb101.md shows how to write it from the official .tfrecord), or the 500-cell "
    f"sample at <data root>/{FOLDER}/{SAMPLE_NAME}")


def find_table(data_root=None) -> Path:
    root = resolve_root(data_root, required=True)
    folder = root / FOLDER
    for name in (FULL_NAME, SAMPLE_NAME):
        if (folder / name).is_file():
            return folder / name
    raise DataNotFound("no NAS-Bench-101 ground truth found", where=str(folder), fix=HOW_TO_GET)


def default_metric_column(path: Path) -> str:
    """The sample's validation accuracy, or a full export's test accuracy."""
    return DEFAULT_METRIC.get(Path(path).name, "cifar10_test_acc_108ep")


def load_nb101_truth(data_root=None, path=None) -> pd.DataFrame:
    """The ground-truth frame (module docstring) of `path`, or of the table under the data root."""
    path = Path(path) if path is not None else find_table(data_root)
    if not path.is_file():
        raise DataNotFound(f"NAS-Bench-101 table {path} not found", where=str(path), fix=HOW_TO_GET)
    return tidy(read_table(path), str(path))


def read_table(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise BadData(f"permission denied reading {path}", where=str(path), fix="make it readable") from None
    if raw and not raw.endswith(b"\n"):
        raise BadData(f"the NAS-Bench-101 table {path} ends inside a row (no final newline): it is truncated",
                      where=str(path), fix="restore or re-export it")
    try:
        # adjacency strings start with 0: read them as text, never as numbers
        return pd.read_csv(io.BytesIO(raw), dtype={"adjacency": str, "ops": str, "arch_str": str})
    except Exception as exc:  # noqa: BLE001 - any parse failure is a malformed file for the user
        raise BadData(f"cannot read the NAS-Bench-101 table {path}: {exc}", where=str(path),
                      fix="expected a CSV file; " + HOW_TO_GET) from None


def tidy(table: pd.DataFrame, where: str = "table") -> pd.DataFrame:
    """Validate every cell, prune it, hash it, group equal cells, rename known metrics."""
    if "arch_str" in table.columns:
        specs = [(s, None) for s in table["arch_str"].tolist()]
    elif {"adjacency", "ops"} <= set(table.columns):
        specs = list(zip(table["adjacency"].tolist(), table["ops"].tolist()))
    else:
        raise BadData(f"NAS-Bench-101 table {where} needs the columns adjacency and ops (or arch_str); it has "
                      f"{list(table.columns)}", where=where, fix=HOW_TO_GET)
    if not len(table):
        raise BadData(f"NAS-Bench-101 table {where} has no rows", where=where, fix=HOW_TO_GET)
    cells = []
    for row, (adj, ops) in enumerate(specs):
        try:
            cells.append(nb101.parse(adj, ops) if ops is not None else nb101.parse(adj))
        except BadParameter as exc:
            raise BadData(f"NAS-Bench-101 table {where}, row {row + 1}: {exc.what}", where=where,
                          fix=exc.fix or HOW_TO_GET) from None
    frame = pd.DataFrame({"index": np.arange(len(cells)),
                          "arch_str": [nb101.format_arch(c) for c in cells],
                          "hash": [c.hash for c in cells]})
    _, first, inverse = np.unique(frame["hash"].to_numpy(), return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    frame["iso_class"] = rank[inverse]
    frame["iso_representative"] = ~frame["hash"].duplicated()
    skip = {"arch_str", "adjacency", "ops", "index", "hash", "iso_class", "iso_representative"}
    for col in table.columns:
        if col not in skip:
            frame[COLUMN_NAMES.get(col, col)] = table[col].to_numpy()
    pf = np.array([nb101.params_flops(c) for c in cells], dtype=np.float64) / 1e6
    frame["params_M_cifar10"], frame["flops_M_cifar10"] = pf[:, 0], pf[:, 1]
    for col, scale in (("params_M_file", 1e6), ("params_file", 1.0)):
        if col in frame.columns:
            _check_params(frame[col].to_numpy(dtype=float), pf[:, 0] * 1e6 / scale, col, scale, where)
    return frame


def _check_params(given: np.ndarray, ours: np.ndarray, col: str, scale: float, where: str) -> None:
    bad = np.flatnonzero(~np.isclose(given, ours, rtol=0, atol=0.5 / scale))
    if len(bad):
        r = bad[0]
        unit = " M" if scale > 1 else ""
        raise BadData(f"NAS-Bench-101 table {where}, row {r + 1}: its parameter count says {given[r]:g}{unit} but "
                      f"the cell's network has {ours[r]:g}{unit} ({len(bad)} rows disagree)", where=where,
                      fix="the adjacency or ops column is damaged (e.g. read as numbers by a spreadsheet); "
                          "re-export the table")
