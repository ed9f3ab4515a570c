"""Benchmark ground truth as one tidy pandas frame, whatever file it came from.

Sources, in the order they are looked for under the data root:
  1. the compact table `nasbench201/nb201_ground_truth.{parquet,csv}` (one row per API index);
  2. a compact table converted earlier from the official files (in the cache);
  3. the official NATS-Bench tss files / NAS-Bench-201 .pth, read once through the official
     `nats_bench` package and converted into the compact table (`nas-core data convert`).
With no data root configured, benchmark "mini" (the kit's own Fashion-MNIST benchmark,
committed under nas_core/resources/) is the ground truth.

Every metric column is named `<dataset>_<metric>`: e.g. `cifar10_test_acc_200ep` (the study's
default), `cifar10valid_valid_acc_200ep` (the cifar10-valid split used by the reference code),
`cifar10valid_valid_acc_12ep` (the 12-epoch schedule). Nothing defaults silently: callers name
the column, and `describe_metric` says what it means.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.cache import atomic_write_frame, config_key
from nas_core.config import cache_dir, data_root as resolve_root
from nas_core.errors import BadData, BadParameter, DataNotFound
from nas_core.space import nb201

BENCHMARKS = ("nb201", "mini")
COMPACT_NAMES = ("nb201_ground_truth.parquet", "nb201_ground_truth.csv")
ID_COLUMNS = ("index", "arch_str")
DEFAULT_METRIC = {"nb201": ("cifar10", "test_acc_200ep"), "mini": ("fmnist", "test_acc_mean")}
NATS_DIR_NAMES = ("NATS-tss-v1_0-3ffb9-simple", "NATS-tss-v1_0-3ffb9-full")
NB201_PTH_GLOB = "NAS-Bench-201-v1_*.pth"
HOW_TO_GET = (
    "put the compact table at <data root>/nasbench201/nb201_ground_truth.csv, or the official "
    "NATS-Bench tss folder (NATS-tss-v1_0-3ffb9-simple) / NAS-Bench-201-v1_1-096897.pth under "
    "<data root>/nasbench201/ (from the NATS-Bench / NAS-Bench-201 project pages), then run "
    "`nas-core data convert`; or run without a data root to use the built-in mini benchmark")


def load_ground_truth(benchmark: str = "nb201", data_root=None) -> pd.DataFrame:
    """The ground-truth frame: index, arch_str, iso_class, iso_representative, <ds>_<metric>..."""
    if benchmark not in BENCHMARKS:
        raise BadParameter(f"unknown benchmark {benchmark!r}", fix=f"use one of: {', '.join(BENCHMARKS)}")
    if benchmark == "mini":
        from nas_core.data.minibench_table import load_mini_table
        return load_mini_table()
    root = resolve_root(data_root, required=True)
    folder = root / "nasbench201"
    for name in COMPACT_NAMES:
        if (folder / name).is_file():
            return _validated(_read(folder / name), folder / name)
    converted = _converted_path(root)
    if converted.is_file():
        return _validated(_read(converted), converted)
    if _official_source(folder) is not None:
        return convert_official(root)
    raise DataNotFound("no NAS-Bench-201 ground truth found", where=str(folder), fix=HOW_TO_GET)


def default_metric_column(benchmark: str) -> str:
    ds, metric = DEFAULT_METRIC[benchmark]
    return f"{ds}_{metric}"


def metric_column(frame: pd.DataFrame, dataset: str, metric: str) -> str:
    """Check that `<dataset>_<metric>` exists and return it (clear error listing the choices)."""
    col = f"{dataset}_{metric}"
    if col not in frame.columns:
        choices = [c for c in frame.columns if c not in ("index", "arch_str", "iso_class", "iso_representative")]
        raise BadParameter(f"ground truth has no column {col!r} (dataset {dataset!r}, metric {metric!r})",
                           fix=f"available columns: {', '.join(choices)}")
    return col


def class_mean_truth(frame: pd.DataFrame, column: str) -> pd.Series:
    """The study's ground truth of a de-isomorphic class: the mean of `column` over the class's
    members. Returned for every architecture (each carries its class mean), indexed by the
    benchmark index; NaN members are skipped."""
    values = frame.groupby("iso_class")[column].transform("mean")
    return pd.Series(values.to_numpy(), index=frame["index"].to_numpy(), name=column)


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw and not raw.endswith(b"\n"):  # the last row was cut: its last field may look valid
            raise BadData(f"the ground-truth table {path} ends inside a row (no final newline): it is truncated",
                          where=str(path), fix="restore or re-download it; " + HOW_TO_GET)
        return pd.read_csv(io.BytesIO(raw))
    except PermissionError:
        raise BadData(f"permission denied reading the ground-truth table {path}", where=str(path),
                      fix="make it readable (chmod a+r), or point --data-root / NAS_CORE_DATA at a copy you can read") from None
    except BadData:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is a malformed file for the user
        raise BadData(f"cannot read the ground-truth table {path}: {exc}", where=str(path),
                      fix="the file is corrupted or not a csv/parquet table; " + HOW_TO_GET) from None


def _validated(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the columns, the row count and every architecture string; add the kit's own
    iso_class / iso_representative when the file does not carry them."""
    missing = [c for c in ID_COLUMNS if c not in frame.columns]
    if missing:
        raise BadData(f"ground-truth table {path} lacks the column(s) {missing}", where=str(path),
                      fix="expected the layout of nb201_ground_truth.csv (index, arch_str, "
                          "<dataset>_<metric> columns); " + HOW_TO_GET)
    if len(frame) != nb201.N_ARCHS or not np.array_equal(frame["index"].to_numpy(), np.arange(nb201.N_ARCHS)):
        raise BadData(f"ground-truth table {path} must have {nb201.N_ARCHS} rows with index 0..{nb201.N_ARCHS - 1} "
                      f"in order; it has {len(frame)} rows", where=str(path),
                      fix="the file is truncated or reordered; restore or re-convert it. " + HOW_TO_GET)
    try:
        kit = nb201.kit_ids_from_strings(frame["arch_str"].astype(str).tolist())
    except BadParameter as exc:
        raise BadData(f"ground-truth table {path} has a malformed architecture: {exc.what}",
                      where=str(path), fix="the file is corrupted; " + HOW_TO_GET) from None
    ops = nb201.all_ops()[kit]
    if len(np.unique(kit)) != nb201.N_ARCHS:
        raise BadData(f"ground-truth table {path} lists some architecture twice", where=str(path), fix=HOW_TO_GET)
    frame = frame.copy()
    iso = nb201.iso_classes_for(ops)
    if "iso_class" in frame.columns and not np.array_equal(frame["iso_class"].to_numpy(), iso):
        raise BadData(f"ground-truth table {path}: its iso_class column disagrees with NAS-Bench-201's "
                      "isomorphism rule", where=str(path), fix=HOW_TO_GET)
    frame["iso_class"] = iso
    frame["iso_representative"] = nb201.class_representatives(kit, frame["index"].to_numpy())
    frame = frame.drop(columns=[c for c in ("is_iso_representative",) if c in frame.columns])
    return frame


# ---- official files ---------------------------------------------------------------------------

def _converted_path(root: Path) -> Path:
    return cache_dir() / "groundtruth" / f"nb201_from_official_{config_key({'root': str(root)})}.parquet"


def _official_source(folder: Path) -> Path | None:
    """The official benchmark under `folder`, the least memory-hungry format first: the NATS-Bench
    tss folder (read one architecture at a time), the NATS-Bench tss single file, the NAS-Bench-201
    .pth. An unextracted NATS .tar is returned too, so that opening it says to extract it."""
    if not folder.is_dir():
        return None
    for name in NATS_DIR_NAMES:
        if (folder / name).is_dir():
            return folder / name
    for pattern in ("NATS-tss-v1_0-*.pickle.pbz2", NB201_PTH_GLOB, "NATS-tss-v1_0-*.tar"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[-1]
    return None


def open_official(source: Path):
    """The official API object (`nats_bench`'s NATStopology) for one official file or folder.

    * NATS-tss-v1_0-3ffb9-simple/ (or -full/): `create(dir, 'tss', fast_mode=True)`, which loads
      `meta.pickle.pbz2` and then one `<index>.pickle.pbz2` per architecture on demand;
    * NATS-tss-v1_0-3ffb9.pickle.pbz2: `create(file, 'tss', fast_mode=False)` (whole file in memory);
    * NAS-Bench-201-v1_*.pth: `create(path)` cannot read it (it expects a bz2 pickle, the .pth is a
      torch file), but its content is the dict `create` accepts ({meta_archs, arch2infos,
      evaluated_indexes}, same ArchResults/ResultsCount state dicts) except that the schedules are
      keyed 'less'/'full' instead of '12'/'200'. It is loaded with torch, the keys are renamed,
      the trained weights dropped (they are not needed and would double the memory when `create`
      copies the dict), and the dict is handed to `create`. Needs RAM for the whole file.
    """
    source = Path(source)
    try:
        import nats_bench
    except ImportError:
        raise DataNotFound("the official `nats_bench` package is needed to read the official files",
                           fix="pip install nats_bench (it is in the kit's environment)") from None
    if source.name.endswith(".tar"):
        raise DataNotFound(f"the official benchmark {source.name} is still a tar archive", where=str(source),
                           fix=f"extract it where it is: tar xf {source} -C {source.parent}")
    if source.is_dir() and not (source / "meta.pickle.pbz2").is_file():
        raise BadData(f"the NATS-Bench folder {source} has no meta.pickle.pbz2", where=str(source),
                      fix="the folder is incomplete; extract NATS-tss-v1_0-3ffb9-simple.tar again")
    try:
        if source.is_dir():
            return nats_bench.create(str(source), "tss", fast_mode=True, verbose=False)
        if source.suffix != ".pth":
            return nats_bench.create(str(source), "tss", fast_mode=False, verbose=False)
        import torch

        # the official .pth is a pickle like the NATS files that nats_bench unpickles itself
        raw = torch.load(source, map_location="cpu", weights_only=False)
        arch2infos = {}
        for index, by_schedule in raw["arch2infos"].items():
            arch2infos[index] = {hp: by_schedule[old] for old, hp in (("less", "12"), ("full", "200"))
                                 if old in by_schedule}
            for state in arch2infos[index].values():
                for trial in state["all_results"].values():
                    trial["net_state_dict"] = None
        as_dict = {"meta_archs": raw["meta_archs"], "arch2infos": arch2infos,
                   "evaluated_indexes": raw["evaluated_indexes"]}
        del raw
        return nats_bench.create(as_dict, "tss", fast_mode=False, verbose=False)
    except Exception as exc:  # noqa: BLE001 - the official reader failed: damaged or foreign file
        raise BadData(f"cannot read the official benchmark {source}: {type(exc).__name__}: {exc}",
                      where=str(source), fix="the file is damaged or not the NATS-Bench tss / NAS-Bench-201 "
                                             "format; download it again. " + HOW_TO_GET) from None


def convert_official(root=None, out: Path | None = None, api=None) -> pd.DataFrame:
    """Read the official benchmark ONCE through `nats_bench` and write the compact table.

    The table is validated BEFORE it is written (15,625 unique architectures), so an incomplete
    benchmark raises BadData and never leaves a file that later loads would trust. It is written
    atomically to `out` (default: the kit's cache, where `load_ground_truth` looks).
    `api` may be given for testing (any object with the NATS-Bench API methods used below).
    """
    root = resolve_root(root, required=True)
    source = _official_source(root / "nasbench201")
    if api is None:
        if source is None:
            raise DataNotFound("no official NATS-Bench / NAS-Bench-201 file found",
                               where=str(root / "nasbench201"), fix=HOW_TO_GET)
        api = open_official(source)
    where = str(source) if source is not None else "the given API object"
    if len(api) != nb201.N_ARCHS:
        raise BadData(f"the official benchmark ({where}) lists {len(api)} architectures; "
                      f"NAS-Bench-201 has {nb201.N_ARCHS}", where=where,
                      fix="the file is incomplete or not the topology (tss) benchmark; " + HOW_TO_GET)
    frame = official_to_frame(api)
    del api
    target = Path(out) if out is not None else _converted_path(root)
    checked = _validated(frame, target)
    atomic_write_frame(target, frame)
    return checked


# (official dataset name, hp, get_more_info key) -> compact column. NATS-Bench semantics:
#   cifar10-valid  trained on 25k CIFAR-10 train images; valid = the other 25k (x-valid),
#                  test = the CIFAR-10 test set (ori-test);
#   cifar10        trained on all 50k; test = ori-test; it has no validation set;
#   cifar100, ImageNet16-120: valid = x-valid, test = x-test (the two halves of the official test set).
# "time-cost" is not a key: it is what NATS-Bench's simulate_train_eval charges for one
# evaluation, train-all-time + valid-per-time (seconds), here averaged over seeds.
OFFICIAL_COLUMNS = {
    ("cifar10", "200", "test-accuracy"): "cifar10_test_acc_200ep",
    ("cifar100", "200", "test-accuracy"): "cifar100_test_acc_200ep",
    ("ImageNet16-120", "200", "test-accuracy"): "imagenet16_test_acc_200ep",
    ("cifar10-valid", "200", "valid-accuracy"): "cifar10valid_valid_acc_200ep",
    ("cifar10-valid", "200", "test-accuracy"): "cifar10valid_test_acc_200ep",
    ("cifar10-valid", "12", "valid-accuracy"): "cifar10valid_valid_acc_12ep",
    ("cifar10-valid", "12", "time-cost"): "cifar10valid_time_cost_12ep",
    ("cifar100", "200", "valid-accuracy"): "cifar100_valid_acc_200ep",
    ("ImageNet16-120", "200", "valid-accuracy"): "imagenet16_valid_acc_200ep",
}
OFFICIAL_DS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16"}


def official_to_frame(api) -> pd.DataFrame:
    """One row per API index. Seeds are averaged explicitly (is_random=False) and hp is always
    given, so neither NATS-Bench silent default (12 epochs, a random seed) can creep in.

    A metric this release does not have (a dataset or schedule missing for an architecture)
    is NaN; a column missing for every architecture is dropped, so asking for it later is a
    clear "no column" error rather than NaNs. In fast mode each architecture is dropped from
    the API's memory once its row is built (otherwise the API would end up holding the
    whole benchmark).
    """
    from tqdm import tqdm

    n = len(api)
    fast = bool(getattr(api, "fast_mode", False))
    rows = []
    for i in tqdm(range(n), desc="reading the official benchmark", unit="arch", disable=None):
        try:
            row = {"index": i, "arch_str": str(api.arch(i))}
            for (ds, hp, key), col in OFFICIAL_COLUMNS.items():
                try:
                    info = api.get_more_info(i, ds, hp=hp, is_random=False)
                    parts = [info["train-all-time"], info["valid-per-time"]] if key == "time-cost" else [info[key]]
                    row[col] = np.nan if None in parts else float(sum(parts))
                except KeyError:  # this dataset / schedule / set is absent from the release
                    row[col] = np.nan
            for ds, short in OFFICIAL_DS.items():
                try:
                    cost = api.get_cost_info(i, ds, hp="200")
                    row[f"flops_M_{short}"], row[f"params_M_{short}"] = float(cost["flops"]), float(cost["params"])
                except KeyError:
                    row[f"flops_M_{short}"] = row[f"params_M_{short}"] = np.nan
        except Exception as exc:  # noqa: BLE001 - a damaged per-architecture file
            raise BadData(f"cannot read architecture {i} of the official benchmark: {type(exc).__name__}: {exc}",
                          where=str(getattr(api, "archive_dir", None) or getattr(api, "filename", None)
                                    or "the official API object"),
                          fix="the benchmark files are damaged or incomplete; download them again. " + HOW_TO_GET) from None
        rows.append(row)
        if fast:
            api.arch2infos_dict.pop(i, None)
    frame = pd.DataFrame(rows)
    return frame.drop(columns=[c for c in frame.columns if frame[c].isna().all()])
