"""The benchmark seam: every registered space answers the same questions, and NB201 behind the
seam is NB201 (same numbers as the space modules it delegates to)."""
import numpy as np
import pandas as pd
import pytest

from nas_core import benchmarks
from nas_core.benchmarks.base import NotApplicable
from nas_core.errors import BadParameter
from nas_core.space import nb201, nb301

NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"


def test_registry_names_and_clear_error():
    assert {"nb201", "nb301", "mini"} <= set(benchmarks.available())
    with pytest.raises(BadParameter, match="(?s)unknown benchmark 'nb999'.*nb201"):
        benchmarks.get("nb999")
    assert benchmarks.resolve_name("auto", None) == "mini"
    assert benchmarks.resolve_name(None, "/some/root") == "nb201"
    assert benchmarks.resolve_name("nb301", None) == "nb301"


def test_nb201_behind_the_seam_equals_the_space_module():
    from nas_core.nets.network import count_parameters
    from nas_core.space.complexity import dataset_macro, params_flops

    bench = benchmarks.get("nb201")
    strs = [nb201.format_arch(o) for o in nb201.all_ops()[::97]]
    p, f = bench.params_flops(strs)
    p0, f0 = params_flops(nb201.ops_from_strings(strs), dataset_macro("cifar10"))
    assert np.array_equal(p, p0) and np.array_equal(f, f0)
    assert np.array_equal(bench.iso_keys(strs), nb201.space_table().iso_key[nb201.kit_ids_from_strings(strs)])
    net = bench.network(bench.parse(NB201_ARCH), seed=3)
    assert count_parameters(net) / 1e6 == pytest.approx(bench.params_flops([NB201_ARCH])[0][0])


def test_nb201_mutation_pairs_flag_isomorphic_pairs_as_no_ops():
    bench = benchmarks.get("nb201")
    a = nb201.parse(NB201_ARCH)
    b = list(a)
    b[3] = nb201.OPS.index("nor_conv_1x1")  # edge 3 changes its op: one mutation
    pairs = bench.mutation_pairs([NB201_ARCH, nb201.format_arch(b)])
    direct = pairs[(pairs["i"] == 0) & (pairs["j"] == 1) & ~pairs["no_op"]]
    assert set(zip(direct["from_op"], direct["to_op"])) >= {("skip_connect", "nor_conv_1x1")}


def test_nb301_object_parses_counts_and_builds():
    from nas_core.nets.network import count_parameters

    bench = benchmarks.get("nb301")
    arch = nb301.sample(1, seed=5)[0]
    s = bench.format(arch)
    assert bench.parse(s) == nb301.canonical(arch)
    params, flops = bench.params_flops([s], C=8, N=5)
    net = bench.network(bench.parse(s), seed=0, C=8, N=5)
    assert count_parameters(net) == round(params[0] * 1e6)
    assert flops[0] > 0
    with pytest.raises(BadParameter, match="op"):
        bench.parse(s.replace("sep_conv_3x3", "conv_9x9").replace("skip_connect", "conv_9x9"))
    with pytest.raises(NotApplicable, match="de-isomorphic"):
        bench.sampler("deiso", 0)


def test_nb301_one_op_pairs_found_and_labelled():
    bench = benchmarks.get("nb301")
    a = nb301.sample(1, seed=7)[0]
    b = next(n for n in nb301.neighbours(a) if nb301.mutation_kind(a, n) == "op")
    c = next(n for n in nb301.neighbours(a) if nb301.mutation_kind(a, n) == "input")
    pairs = bench.mutation_pairs([bench.format(a), bench.format(b), bench.format(c)])
    assert set(zip(pairs["i"], pairs["j"])) == {(0, 1), (1, 0)}  # input mutations are not op pairs
    changed = [(x[0], y[0]) for ca, cb in zip(a, b) for x, y in zip(ca, cb) if x != y]
    ops = {nb301.OPS[changed[0][0]], nb301.OPS[changed[0][1]]} if len(changed) == 1 else None
    row = pairs[(pairs["i"] == 0)].iloc[0]
    if ops is not None:
        assert {row["from_op"], row["to_op"]} == ops


def test_nb301_features_have_the_columns_the_analyses_use():
    bench = benchmarks.get("nb301")
    strs = [bench.format(a) for a in nb301.sample(12, seed=1)]
    feats = bench.features(strs)
    assert {"params_M", "flops_M", "flops_group"} <= set(feats.columns) and len(feats) == 12
    counts = bench.graph_features(strs)
    ops = [c for c in counts.columns if c.startswith("normal_") and c.removeprefix("normal_") in nb301.OPS]
    assert len(counts) == 12 and (counts[ops].sum(1) == 8).all()  # 8 (op, input) pairs per cell


def test_benchmark_protocol_overrides_apply_per_profile():
    nb301_bench, nb201_bench = benchmarks.get("nb301"), benchmarks.get("nb201")
    assert nb301_bench.protocol("supernet", "paper").C == 16 and nb301_bench.protocol("supernet", "paper").N == 8
    assert nb201_bench.protocol("supernet", "paper").N == 5
    assert nb301_bench.protocol("study", "quick").rq3_samplers == ()
    assert nb301_bench.protocol("study", "quick", eval_archs="all").eval_archs == "all"  # explicit wins


def test_study_requires_data_for_a_data_benchmark(monkeypatch):
    from nas_core.engines.study import Study
    from nas_core.errors import DataNotFound

    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    with pytest.raises(DataNotFound, match="nb301.*needs a data root"):
        Study("smoke", benchmark="nb301")


def test_cache_keys_do_not_contain_the_data_path(tmp_path, monkeypatch):
    """Moving the data folder keeps the cache: the same sweep under two data roots hits one key."""
    from nas_core.cache import config_key  # noqa: F401 - documents what the key is made of
    from nas_core.engines import zeroshot

    seen = []
    real = zeroshot.ResultStore

    class Spy(real):
        def __init__(self, kind, config, **kw):
            seen.append(config)
            super().__init__(kind, config, **kw)

    monkeypatch.setattr(zeroshot, "ResultStore", Spy)
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path / "cache"))
    for root in ("a", "b"):
        (tmp_path / root).mkdir()
        try:
            zeroshot.run_zero_shot([0], [NB201_ARCH], ["params"], seeds=(20,), batches=1, batch_size=2,
                                   dataset="cifar10", data_root=tmp_path / root, progress=False)
        except Exception:  # noqa: BLE001 - no images in the fake roots; the key is made before loading
            pass
    assert len(seen) == 2 and seen[0] == seen[1] and not any(str(tmp_path) in str(v) for v in seen[0].values())
    assert pd.Series(seen[0]).get("benchmark") == "nb201"
