"""How long loading the NB201 ground truth and building every architecture's features takes.

Baseline (same run): a naive per-architecture path that parses each string and counts
params by instantiating nothing but Python loops over the ops, the way a notebook would
without the vectorised space module.
    NAS_CORE_DATA=/path/to/data python benchmarks/bench_space.py
"""
import time

import numpy as np


def main():
    t0 = time.perf_counter()
    from nas_core.data.groundtruth import load_ground_truth
    from nas_core.space import nb201
    from nas_core.space.features import arch_features
    t_import = time.perf_counter() - t0

    nb201.space_table.cache_clear()
    t0 = time.perf_counter()
    truth = load_ground_truth("nb201")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    feats = arch_features(truth["arch_str"])
    t_feat = time.perf_counter() - t0

    # naive baseline: per-arch python, no cached space table, no vectorisation
    from nas_core.space.complexity import dataset_macro, op_cost
    p_op, f_op, fp, ff = op_cost(dataset_macro("cifar10"))
    t0 = time.perf_counter()
    rows = []
    for s in truth["arch_str"]:
        ops = nb201.parse(s)
        rows.append((nb201.canonical_string(ops), nb201.has_conv_path(ops), nb201.conv_depth(ops),
                     sum(p_op[o] for o in ops) + fp, sum(f_op[o] for o in ops) + ff,
                     [ops.count(o) for o in range(5)]))
    t_naive = time.perf_counter() - t0

    print(f"imports (pandas, numpy, kit)         {t_import:7.3f} s")
    print(f"load + validate 15,625-row table     {t_load:7.3f} s")
    print(f"features for all 15,625 archs        {t_feat:7.3f} s   ({len(feats.columns)} columns)")
    print(f"table + features                     {t_load + t_feat:7.3f} s")
    print(f"naive per-arch python baseline       {t_naive:7.3f} s   (features only)")
    print(f"ratio baseline / kit features        {t_naive / t_feat:7.2f} x")
    assert len(feats) == 15625 and np.isfinite(feats['flops_M']).all()


if __name__ == "__main__":
    main()
