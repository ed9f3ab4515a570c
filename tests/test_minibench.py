"""The mini benchmark: its sample, its trainer (deterministic, resumable) and its table."""
import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_core.data.images import fashion_mnist_dir
from nas_core.data.minibench_table import TABLE
from nas_core.engines import minibench as mb
from nas_core.errors import DataNotFound
from nas_core.protocols.minibench import MINI_BENCH
from nas_core.space import nb201
from nas_core.space.features import flops_group

needs_fmnist = pytest.mark.skipif(fashion_mnist_dir() is None, reason="Fashion-MNIST not installed")
TINY = dataclasses.replace(MINI_BENCH, n_archs=5, seeds=(0,), train_images=300, epochs=1, batch_size=64)


def test_sample_is_deiso_with_a_conv_path_and_stratified_over_flops():
    kit = mb.mini_archs(MINI_BENCH)
    table = nb201.space_table()
    assert len(kit) == MINI_BENCH.n_archs >= 300
    assert len(np.unique(table.iso_key[kit])) == len(kit)          # one per isomorphism class
    assert table.has_conv_path[kit].all()
    # stratified: every FLOPs quintile of the pool gets its equal share
    pool = mb.space_pool()
    reps = pool[pool["iso_representative"] & table.has_conv_path[pool["index"].to_numpy()]]
    groups = pd.Series(flops_group(table.ops[reps["index"].to_numpy()]), index=reps["index"].to_numpy())
    assert groups.loc[kit].value_counts().tolist() == [MINI_BENCH.n_archs // 5] * 5
    assert np.array_equal(kit, mb.mini_archs(MINI_BENCH))           # seeded


@needs_fmnist
def test_training_is_deterministic_and_build_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path / "cache"))
    ops = nb201.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|")
    a, b = mb.train_one(ops, 0, TINY), mb.train_one(ops, 0, TINY)
    assert a["test_acc"] == b["test_acc"] and a["train_loss"] == b["train_loss"]
    assert 10.0 < a["test_acc"] <= 100.0
    first = mb.build(TINY, limit=2, progress=False)
    assert len(first) == 2
    again = mb.build(TINY, progress=False)                          # resumes: trains the other 3 only
    assert len(again) == 5 and again.drop_duplicates(["index", "seed"]).shape[0] == 5
    assert set(first["index"]) <= set(again["index"])
    table = mb.assemble(TINY)
    assert list(table["index"]) == list(mb.mini_archs(TINY))
    assert np.allclose(table["fmnist_test_acc_mean"], table["fmnist_test_acc_seed0"])
    out = mb.write_table(tmp_path / "res", TINY)
    assert pd.read_csv(out).shape[0] == 5 and (tmp_path / "res" / "mini_bench_provenance.json").is_file()


def test_quality_is_scipy_kendall():
    rng = np.random.default_rng(0)
    a = rng.normal(85, 1, 40)
    table = pd.DataFrame({"fmnist_test_acc_seed0": a, "fmnist_test_acc_seed1": a + rng.normal(0, 0.5, 40)})
    table["fmnist_test_acc_mean"] = table.mean(axis=1)
    q = mb.quality(table)
    assert q["seed_tau"] == pytest.approx(stats.kendalltau(table.iloc[:, 0], table.iloc[:, 1]).statistic, abs=1e-4)


def test_a_missing_table_says_how_to_build_it(monkeypatch, tmp_path):
    from nas_core.data import minibench_table as mt

    monkeypatch.setattr(mt, "TABLE", tmp_path / "nothing.csv")
    mt._read.cache_clear()
    try:
        with pytest.raises(DataNotFound, match="mini benchmark table is missing") as err:
            mt.load_mini_table()
        assert "nas-core mini-bench build" in err.value.fix
    finally:
        mt._read.cache_clear()


@needs_fmnist
@pytest.mark.skipif(not TABLE.is_file(), reason="mini benchmark table not built")
def test_two_architectures_of_the_table_reproduce_within_the_seed_spread():
    """Re-train two archs with the protocol and the build's thread count (from the provenance:
    CPU float reductions depend on it, and a different count diverges like another seed)."""
    import json

    import torch

    from nas_core.data.minibench_table import load_mini_table

    table = load_mini_table()
    provenance = json.loads((TABLE.parent / "mini_bench_provenance.json").read_text())
    spread = float(np.abs(table["fmnist_test_acc_seed0"] - table["fmnist_test_acc_seed1"]).mean())
    threads = torch.get_num_threads()
    torch.set_num_threads(provenance["hardware"]["torch_threads"])
    try:
        for row in (table.iloc[0], table.iloc[len(table) // 2]):
            acc = mb.train_one(nb201.parse(row["arch_str"]), 0, MINI_BENCH)["test_acc"]
            assert abs(acc - row["fmnist_test_acc_seed0"]) <= spread, (row["arch_str"], acc, row["fmnist_test_acc_seed0"])
    finally:
        torch.set_num_threads(threads)
