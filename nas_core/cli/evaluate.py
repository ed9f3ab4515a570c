"""`nas-core evaluate`: every ranking criterion of a scores file against the benchmark truth.

    nas-core evaluate --scores FILE --benchmark nb201 --dataset cifar10 --metric test_acc_200ep
                      [--deiso] [--out FILE.csv] [--data-root DIR] [--bootstrap B]
                      [--invalid worst|drop] [--negate col1,col2]

FILE (.csv or .parquet) is either wide -- a column `index` (the benchmark's API index) and one
numeric column per estimator -- or tidy long -- columns index, proxy, value and optionally
seed, batch, which are averaged over (mean of seeds and batches per index and proxy; a group
with any NaN/inf value stays invalid) and pivoted to one column per proxy.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.cli.checks import BENCHMARK_HELP, benchmark_and_root, integer, number
from nas_core.errors import BadData, BadParameter, DataNotFound

LONG_KEYS = ("index", "proxy", "value")
AVERAGED = ("seed", "batch")
# descriptive columns of the engines' tidy output (zero-shot: arch_str, seconds, reason)
DESCRIPTIVE = ("arch_str", "seconds", "reason")
SUFFIXES = (".csv", ".parquet")
TRUTH_ID_COLUMNS = ("index", "arch_str", "iso_class", "iso_representative")


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="ranking criteria of estimator scores against the ground truth",
                              description="Kendall tau, Spearman, P@top/bottom K, BR/WR@K, ... of every "
                                          "estimator column of a scores file (see docs/criteria.md).")
    p.add_argument("--scores", required=True, help="scores .csv/.parquet: index + one column per estimator, "
                                                    "or tidy index, proxy, value[, seed, batch]")
    p.add_argument("--benchmark", default="auto", help=BENCHMARK_HELP)
    p.add_argument("--dataset", default=None, help="ground-truth dataset (default: the benchmark's, cifar10 on nb201)")
    p.add_argument("--metric", default=None,
                   help="ground-truth metric (default: the benchmark's, test_acc_200ep on nb201)")
    p.add_argument("--truth", choices=("class-mean", "raw"), default="class-mean",
                   help="ground truth of an architecture: the mean over its isomorphism class (the study's, "
                        "default) or its own benchmark value (raw)")
    p.add_argument("--deiso", action="store_true",
                   help="average scores and truth inside each isomorphism class first")
    p.add_argument("--out", default=None, help="write the tidy table to this .csv/.parquet")
    p.add_argument("--data-root", default=None, help="data root (default: $NAS_CORE_DATA)")
    p.add_argument("--bootstrap", type=integer(0), default=0, help="bootstrap resamples for 95%% intervals (default 0)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--invalid", choices=("worst", "drop"), default="worst",
                   help="NaN/inf scores: rank them last (worst, default) or drop them")
    p.add_argument("--negate", default="", help="comma-separated estimators to negate (e.g. a loss)")
    p.add_argument("--sparse-bin", type=number(0.0, low_open=True), default=1.0,
                   help="bin width of the ground truth for the sparse tau, in its units (default 1.0)")
    p.set_defaults(func=run_evaluate)


def read_scores(path) -> pd.DataFrame:
    """Wide scores frame (index + one column per estimator) from a wide or tidy long file."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise BadParameter(f"scores file must be .csv or .parquet, got {path.name!r}")
    if not path.is_file():
        raise DataNotFound(f"scores file {path} not found", where=str(path.parent))
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a malformed file for the user
        raise BadData(f"cannot read the scores file {path}: {exc}", where=str(path)) from None
    if set(LONG_KEYS) <= set(frame.columns):
        return long_to_wide(frame)
    if "index" not in frame.columns:
        raise BadData(f"scores file {path} has no 'index' column", where=str(path),
                      fix="wide: index + one column per estimator; long: index, proxy, value[, seed, batch]")
    # an engine's measurement rows (even one per index, e.g. `supernet score --batches 1`)
    if set(AVERAGED + DESCRIPTIVE + ("epoch", "checkpoint")) & set(frame.columns):
        return measurements_to_wide(frame)
    return frame


def measurements_to_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Wide rows per measurement (e.g. `supernet score`: index, arch_str, epoch, batch, os_acc,
    os_loss): average every estimator column over seed and batch. Other key columns (epoch)
    must be constant, for the same reason as in `long_to_wide`."""
    keys = [c for c in ("epoch", "checkpoint") if c in frame.columns]
    varying = [c for c in keys if frame[c].nunique(dropna=False) > 1]
    if varying:
        raise BadData(f"scores have several values of {varying}; averaging would mix checkpoints",
                      fix="filter the file to one checkpoint first (e.g. `supernet score --epoch E`)")
    estimators = [c for c in frame.columns if c not in ("index",) + AVERAGED + DESCRIPTIVE + tuple(keys)]
    values = frame[estimators].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(float))
    grouped = values.assign(index=frame["index"].to_numpy()).groupby("index", sort=True)
    mean = grouped.mean()
    invalid = pd.DataFrame(bad, columns=estimators).assign(index=frame["index"].to_numpy()).groupby("index").any()
    return mean.mask(invalid).reset_index()  # an invalid measurement is never averaged away


def long_to_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Average a tidy long table over seed and batch, then one column per proxy. Other columns
    must be constant: averaging over, say, checkpoints would silently mix different things."""
    extra = [c for c in frame.columns if c not in LONG_KEYS + AVERAGED + DESCRIPTIVE]
    varying = [c for c in extra if frame[c].nunique(dropna=False) > 1]
    if varying:
        raise BadData(f"tidy scores have column(s) {varying} with several values; averaging would mix them",
                      fix="filter the file to one value of each (e.g. one checkpoint) first")
    keys = [c for c in ("index", "proxy") + AVERAGED if c in frame.columns]
    if frame.duplicated(keys).any():
        raise BadData(f"tidy scores repeat a ({', '.join(keys)}) combination",
                      fix="give one row per index, proxy, seed and batch")
    try:
        frame["value"].astype(np.float64)
    except (TypeError, ValueError):
        raise BadData("tidy scores: the value column is not numeric") from None
    from nas_core.engines.evaluate import long_to_wide as kit_long_to_wide

    return kit_long_to_wide(frame)  # the kit's one rule: an invalid value is never averaged away


def _ground_truth(args) -> tuple[pd.DataFrame, str]:
    bench, root = benchmark_and_root(args.benchmark, args.data_root)
    args.benchmark = bench.name
    frame = bench.ground_truth(root)
    default = bench.default_metric_of(frame).partition("_")[::2]
    dataset, metric = args.dataset or default[0], args.metric or default[1]
    column = f"{dataset}_{metric}"
    if column not in frame.columns or column in TRUTH_ID_COLUMNS:
        choices = [c for c in frame.columns if c not in TRUTH_ID_COLUMNS]
        raise BadParameter(f"ground truth of {args.benchmark} has no column {column!r} "
                           f"(dataset {dataset!r}, metric {metric!r})",
                           fix=f"available <dataset>_<metric> columns: {', '.join(choices)}")
    return frame, column


def run_evaluate(args) -> int:
    from nas_core.cache import atomic_write_frame
    from nas_core.engines.evaluate import deiso_aggregate, evaluate, format_table

    if args.out and Path(args.out).suffix not in SUFFIXES:
        raise BadParameter(f"--out must end in .csv or .parquet, got {args.out!r}")
    scores = read_scores(args.scores)
    frame, column = _ground_truth(args)
    truth = frame.set_index("index")[column]
    if args.truth == "class-mean" and "iso_class" in frame.columns:
        from nas_core.data.groundtruth import class_mean_truth

        truth = class_mean_truth(frame, column)  # isomorphic cells compute one function: one truth
    if args.deiso:
        if "iso_class" not in frame.columns:
            raise BadData(f"ground truth of {args.benchmark} has no iso_class column; --deiso needs it")
        scores, truth = deiso_aggregate(scores, truth, frame.set_index("index")["iso_class"])
    negate = [c.strip() for c in args.negate.split(",") if c.strip()]
    table = evaluate(scores, truth, invalid=args.invalid, bootstrap=args.bootstrap, seed=args.seed,
                     negate=negate, bin_width=args.sparse_bin)
    print(f"ground truth: {args.benchmark} {column} ({args.truth}){' (de-isomorphic classes)' if args.deiso else ''}; "
          f"{len(scores)} architectures; invalid scores: {args.invalid}"
          + (f"; negated: {', '.join(negate)}" if negate else ""))
    print(format_table(table))
    if args.out:
        atomic_write_frame(Path(args.out), table)
        print(f"wrote {args.out}")
    return 0
