"""`nas-core space export`: the kit's own per-architecture facts (nothing copied from a file)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from nas_core.cache import atomic_write_frame
from nas_core.errors import BadParameter


def register(subparsers) -> None:
    space = subparsers.add_parser("space", help="the search space: export per-architecture facts")
    sub = space.add_subparsers(dest="space_command", metavar="ACTION")
    export = sub.add_parser("export", help="one row per architecture, computed by the kit")
    export.add_argument("--benchmark", default="nb201", help="search space (nb201)")
    export.add_argument("--order", choices=("official", "kit"), default="official",
                        help="row order: the benchmark's API index (needs the data root) or the kit's "
                             "base-5 enumeration (default: official)")
    export.add_argument("--data-root", default=None, help="data root (default: $NAS_CORE_DATA)")
    export.add_argument("--out", required=True, help="output .csv or .parquet")
    export.set_defaults(func=run_export)


def space_frame(arch_strs, indices) -> pd.DataFrame:
    """index, arch_str, iso_class, iso_representative, has_conv_path, n_<op>, depth,
    params_M_<ds>, flops_M_<ds> -- all computed from the architecture itself."""
    from nas_core.space import nb201
    from nas_core.space.complexity import DATASETS, dataset_macro, op_counts, params_flops

    ops = nb201.ops_from_strings(list(arch_strs)).astype(np.int64)
    table = nb201.space_table()
    kit = nb201.kit_ids_of(ops)
    iso = nb201.iso_classes_for(ops)
    first = pd.Series(np.arange(len(iso))).groupby(iso).transform("min").to_numpy()
    frame = pd.DataFrame({"index": indices, "arch_str": list(arch_strs), "iso_class": iso,
                          "iso_representative": first == np.arange(len(iso)),
                          "has_conv_path": table.has_conv_path[kit]})
    counts = op_counts(ops)
    for i, op in enumerate(nb201.OPS):
        frame[f"n_{op}"] = counts[:, i]
    frame["depth"] = table.depth[kit]
    for ds in DATASETS:
        p, f = params_flops(ops, dataset_macro(ds))
        frame[f"params_M_{ds}"], frame[f"flops_M_{ds}"] = p.round(6), f.round(6)
    return frame


def run_export(args) -> int:
    from nas_core.space import nb201

    if args.benchmark != "nb201":
        raise BadParameter(f"space export supports --benchmark nb201, got {args.benchmark!r}")
    if args.order == "official":
        from nas_core.data.groundtruth import load_ground_truth

        truth = load_ground_truth("nb201", args.data_root)
        arch_strs, indices = truth["arch_str"].tolist(), truth["index"].to_numpy()
    else:
        arch_strs = [nb201.format_arch(row) for row in nb201.all_ops().tolist()]
        indices = np.arange(nb201.N_ARCHS)
    frame = space_frame(arch_strs, indices)
    atomic_write_frame(args.out, frame)
    print(f"wrote {len(frame)} architectures ({frame['iso_representative'].sum()} isomorphism classes) to {args.out}")
    return 0
