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
    seam_overhead(truth)


def seam_overhead(truth, repeats: int = 5):
    """The benchmark seam costs nothing measurable: the same work through the registry's NB201
    object vs the space functions it delegates to, best of `repeats`, same run."""
    from nas_core import benchmarks
    from nas_core.space import nb201
    from nas_core.space.complexity import dataset_macro, params_flops
    from nas_core.space.features import arch_features, flops_groups
    from nas_core.space.selection import select_archs

    bench = benchmarks.get("nb201")
    strs = truth["arch_str"].tolist()

    def direct():
        ops = nb201.ops_from_strings(strs)
        params_flops(ops, dataset_macro("cifar10"))
        nb201.space_table().iso_key[nb201.kit_ids_of(ops)]
        arch_features(strs)
        select_archs("sample:500", truth, seed=0, bench=None)
        flops_groups(params_flops(ops, dataset_macro("cifar10"))[1])

    def seam():
        bench.params_flops(strs)
        bench.iso_keys(strs)
        bench.features(strs)
        select_archs("sample:500", truth, seed=0, bench=bench)
        flops_groups(bench.stratify_flops(strs))

    times = {}
    for name, fn in (("direct", direct), ("seam", seam)):
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        times[name] = best
    print(f"space work, direct space functions   {times['direct']:7.3f} s   (params/FLOPs, iso keys, features, "
          "sample:500, FLOPs groups; best of 5)")
    print(f"same work through the benchmark seam {times['seam']:7.3f} s")
    print(f"ratio seam / direct                  {times['seam'] / times['direct']:7.2f} x")


if __name__ == "__main__":
    main()
