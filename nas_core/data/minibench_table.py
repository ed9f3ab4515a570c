"""The mini benchmark's ground truth: a committed table (nas_core/resources/mini_bench.csv).

It is the kit's own result (see `nas_core.engines.minibench` and its provenance json), the
ground truth used when no NAS-Bench-201 data root is configured. Its `index` is the kit's
base-5 architecture id (the official NB201 index order only comes with the benchmark files).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from nas_core.errors import DataNotFound
from nas_core.space import nb201

RESOURCE_DIR = Path(__file__).resolve().parents[1] / "resources"
TABLE = RESOURCE_DIR / "mini_bench.csv"


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    if not TABLE.is_file():
        raise DataNotFound("the mini benchmark table is missing", where=str(TABLE),
                           fix="build it with `nas-core mini-bench build` (resumable), or set NAS_CORE_DATA to "
                               "a folder with NAS-Bench-201 ground truth and CIFAR-10")
    return pd.read_csv(TABLE)


def load_mini_table() -> pd.DataFrame:
    """index, arch_str, fmnist_test_acc_seed*, fmnist_test_acc_mean, params_M, flops_M,
    iso_class (kit numbering), iso_representative (all True: one arch per class)."""
    frame = _read().copy()
    ops = nb201.ops_from_strings(frame["arch_str"].tolist())
    frame["iso_class"] = nb201.iso_classes_for(ops)
    frame["iso_representative"] = True
    return frame
