"""The official-file path of the ground-truth loader, on tiny benchmarks written in the official
formats by nats_bench's own classes (tests/fixtures_official.py), read by nats_bench's own API."""
import os

import nats_bench
import numpy as np
import pandas as pd
import pytest

from fixtures_official import (make_results, seed_mean, write_tiny_nats_file, write_tiny_nats_tss,
                               write_tiny_nb201_pth)
from nas_core.cli import main
from nas_core.data.groundtruth import (_converted_path, convert_official, load_ground_truth, official_to_frame,
                                       open_official)
from nas_core.errors import BadData, DataNotFound
from nas_core.space import nb201

ARCHS = [nb201.format_arch(ops) for ops in [(3, 3, 4, 1, 3, 1), (0, 1, 0, 2, 0, 4), (4, 2, 1, 2, 1, 1)]]
NATS_DIR = "NATS-tss-v1_0-3ffb9-simple"

# What each compact column means in NATS-Bench terms, written out independently of the loader:
# column -> (hp = training epochs, official dataset name, evaluation set of the trials).
SEMANTICS = {
    "cifar10_test_acc_200ep": ("200", "cifar10", "ori-test"),
    "cifar100_test_acc_200ep": ("200", "cifar100", "x-test"),
    "imagenet16_test_acc_200ep": ("200", "ImageNet16-120", "x-test"),
    "cifar10valid_valid_acc_200ep": ("200", "cifar10-valid", "x-valid"),
    "cifar10valid_test_acc_200ep": ("200", "cifar10-valid", "ori-test"),
    "cifar10valid_valid_acc_12ep": ("12", "cifar10-valid", "x-valid"),
    "cifar100_valid_acc_200ep": ("200", "cifar100", "x-valid"),
    "imagenet16_valid_acc_200ep": ("200", "ImageNet16-120", "x-valid"),
}
for _ds, _short in (("cifar10", "cifar10"), ("cifar100", "cifar100"), ("ImageNet16-120", "imagenet16")):
    SEMANTICS[f"flops_M_{_short}"] = ("200", _ds, "flops")
    SEMANTICS[f"params_M_{_short}"] = ("200", _ds, "params")


def expected_frame(results) -> pd.DataFrame:
    rows = []
    for i in sorted(results):
        row = {col: seed_mean(results, i, *spec) for col, spec in SEMANTICS.items()}
        # NATS-Bench's cost of one 12-epoch evaluation: all training epochs + one validation pass
        row["cifar10valid_time_cost_12ep"] = (12 * seed_mean(results, i, "12", "cifar10-valid", "train_time")
                                              + seed_mean(results, i, "12", "cifar10-valid", "eval_time"))
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A data root whose nasbench201/ holds the tiny fast-mode folder."""
    root = tmp_path_factory.mktemp("root")
    results = make_results(len(ARCHS))
    write_tiny_nats_tss(root / "nasbench201" / NATS_DIR, ARCHS, results)
    return root, results


def fast_api(root):
    return nats_bench.create(str(root / "nasbench201" / NATS_DIR), "tss", fast_mode=True, verbose=False)


def test_frame_is_the_seed_mean_of_every_column(tiny):
    root, results = tiny
    frame = official_to_frame(fast_api(root))
    expected = expected_frame(results)
    assert frame["index"].tolist() == [0, 1, 2] and frame["arch_str"].tolist() == ARCHS
    assert set(frame.columns) == {"index", "arch_str"} | set(expected.columns)
    for col in expected.columns:
        np.testing.assert_allclose(frame[col].to_numpy(), expected[col].to_numpy(), rtol=1e-12, err_msg=col)


def test_schedule_and_seeds_are_explicit(tiny):
    root, results = tiny
    api = fast_api(root)
    frame = official_to_frame(api)
    for i in range(len(ARCHS)):
        trials = results[i]["200"]["cifar10"]
        assert len(trials) >= 2
        # the mean is not any single trial: a random seed would show
        assert all(abs(frame.at[i, "cifar10_test_acc_200ep"] - t["ori-test"]) > 1e-6 for t in trials.values())
        # 12 and 200 epochs are different numbers, and neither leaks into the other
        assert frame.at[i, "cifar10valid_valid_acc_12ep"] != frame.at[i, "cifar10valid_valid_acc_200ep"]
        assert frame.at[i, "cifar10valid_valid_acc_12ep"] == pytest.approx(
            seed_mean(results, i, "12", "cifar10-valid", "x-valid"), rel=1e-12)
        # the trap being avoided: nats_bench's defaults are hp='12' and a random seed
        silent = api.get_more_info(i, "cifar10-valid")["valid-accuracy"]
        assert silent != pytest.approx(frame.at[i, "cifar10valid_valid_acc_200ep"])
        assert silent in [t["x-valid"] for t in results[i]["12"]["cifar10-valid"].values()]
    # arch 2 has three trials: its mean uses all three
    three = results[2]["200"]["cifar10-valid"]
    assert len(three) == 3
    assert frame.at[2, "cifar10valid_valid_acc_200ep"] == pytest.approx(np.mean([t["x-valid"] for t in three.values()]))


def test_fast_mode_keeps_one_architecture_in_memory_and_rereads_identically(tiny):
    root, _ = tiny
    api = fast_api(root)
    first = official_to_frame(api)
    assert len(api.arch2infos_dict) == 0  # each architecture dropped after its row
    pd.testing.assert_frame_equal(first, official_to_frame(api))


def test_every_official_format_gives_the_same_table(tiny, tmp_path):
    root, results = tiny
    reference = official_to_frame(fast_api(root))
    sources = [
        write_tiny_nats_tss(tmp_path / "padded", ARCHS, results, zero_pad=True),  # 000000.pickle.pbz2 names
        write_tiny_nats_file(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2", ARCHS, results),
        write_tiny_nb201_pth(tmp_path / "NAS-Bench-201-v1_1-096897.pth", ARCHS, results),
    ]
    assert (tmp_path / "padded" / "000000.pickle.pbz2").is_file()
    for source in sources:
        pd.testing.assert_frame_equal(official_to_frame(open_official(source)), reference, obj=str(source.name))


def test_absent_metrics_are_nan_and_absent_columns_dropped(tmp_path):
    results = make_results(len(ARCHS))
    del results[1]["12"]  # one architecture without the 12-epoch schedule
    for i in results:  # no architecture evaluated on CIFAR-100
        for hp in results[i]:
            del results[i][hp]["cifar100"]
    frame = official_to_frame(open_official(write_tiny_nats_tss(tmp_path / NATS_DIR, ARCHS, results)))
    col = frame["cifar10valid_valid_acc_12ep"]
    assert col.isna().tolist() == [False, True, False]
    assert not any("cifar100" in c for c in frame.columns)
    assert frame["cifar10_test_acc_200ep"].notna().all()


def test_convert_on_an_incomplete_benchmark_is_a_clear_error_and_writes_nothing(tiny, tmp_path):
    root, _ = tiny
    out = tmp_path / "converted.parquet"
    with pytest.raises(BadData, match="lists 3 architectures; NAS-Bench-201 has 15625"):
        convert_official(root, out=out, api=fast_api(root))
    with pytest.raises(BadData, match="lists 3 architectures") as info:  # found and opened by itself
        convert_official(root, out=out)
    assert NATS_DIR in info.value.message()
    with pytest.raises(BadData, match="lists 3 architectures"):  # the loader converts on first use
        load_ground_truth("nb201", root)
    assert not out.exists() and not _converted_path(root).exists()


class FullSizeApi:
    """Stands in for the official API with all 15,625 architectures (writing 15,625 real files
    would make the test slow); it refuses the NATS-Bench defaults."""

    fast_mode = False

    def __init__(self):
        self.strs = [nb201.format_arch(ops) for ops in nb201.all_ops().tolist()]

    def __len__(self):
        return len(self.strs)

    def arch(self, i):
        return self.strs[i]

    def get_more_info(self, i, dataset, iepoch=None, hp="12", is_random=True):
        assert is_random is False and hp in ("12", "200")
        info = {"test-accuracy": 50 + i / 1000 + (hp == "200"), "train-all-time": 12.0, "valid-per-time": 0.5}
        if dataset != "cifar10":
            info["valid-accuracy"] = 40 + i / 1000
        return info

    def get_cost_info(self, i, dataset, hp="12"):
        return {"flops": 1.0 + i, "params": 0.5, "latency": None}


def test_convert_writes_the_table_atomically_and_the_loader_finds_it(tmp_path):
    root = tmp_path / "root"
    (root / "nasbench201").mkdir(parents=True)
    out = tmp_path / "out" / "nb201.parquet"
    frame = convert_official(root, out=out, api=FullSizeApi())
    assert len(frame) == nb201.N_ARCHS and {"iso_class", "iso_representative"} <= set(frame.columns)
    assert os.listdir(out.parent) == ["nb201.parquet"]  # no temporary file left behind
    written = pd.read_parquet(out)
    assert written["cifar10_test_acc_200ep"].iloc[7] == pytest.approx(51.007)
    assert "cifar10_valid_acc_200ep" not in written.columns  # cifar10 (train+valid) has no validation set
    # default target: the cache, where load_ground_truth looks next time
    convert_official(root, api=FullSizeApi())
    truth = load_ground_truth("nb201", root)
    assert len(truth) == nb201.N_ARCHS and truth["cifar10valid_time_cost_12ep"].eq(12.5).all()


def test_a_bad_full_size_conversion_is_refused_before_anything_is_written(tmp_path):
    api = FullSizeApi()
    api.strs[1] = api.strs[0]  # right count, one architecture listed twice
    out = tmp_path / "nb201.parquet"
    with pytest.raises(BadData, match="twice"):
        convert_official(tmp_path, out=out, api=api)
    assert not out.exists()


def test_cli_convert_reports_errors_and_reuses_the_converted_table(tiny, capsys):
    root, _ = tiny
    assert main(["data", "convert", "--data-root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "lists 3 architectures" in err and "Traceback" not in err
    target = _converted_path(root)
    convert_official(root, out=target, api=FullSizeApi())
    assert main(["data", "convert", "--data-root", str(root)]) == 0
    assert "reusing" in capsys.readouterr().out
    assert main(["data", "convert", "--data-root", str(root), "--force"]) == 2  # really re-reads the source
    assert main(["data", "convert", "--data-root", str(root), "--out", str(target.with_suffix(".txt"))]) == 2


def test_unusable_official_sources_are_clear_errors(tmp_path):
    folder = tmp_path / "nasbench201"
    (folder / NATS_DIR).mkdir(parents=True)
    with pytest.raises(BadData, match="no meta.pickle.pbz2"):
        convert_official(tmp_path)
    (folder / NATS_DIR / "meta.pickle.pbz2").write_bytes(b"not bz2 at all")
    with pytest.raises(BadData, match="cannot read the official benchmark"):
        convert_official(tmp_path)
    (folder / NATS_DIR / "meta.pickle.pbz2").unlink()
    (folder / NATS_DIR).rmdir()
    (folder / f"{NATS_DIR}.tar").write_bytes(b"")
    with pytest.raises(DataNotFound, match="still a tar archive"):
        convert_official(tmp_path)
    (folder / f"{NATS_DIR}.tar").unlink()
    (folder / "NAS-Bench-201-v1_1-096897.pth").write_bytes(b"\x00junk")
    with pytest.raises(BadData, match="cannot read the official benchmark"):
        convert_official(tmp_path)


def test_a_missing_architecture_file_names_the_architecture(tmp_path):
    results = make_results(len(ARCHS))
    folder = write_tiny_nats_tss(tmp_path / NATS_DIR, ARCHS, results)
    (folder / "1.pickle.pbz2").unlink()
    with pytest.raises(BadData, match="cannot read architecture 1"):
        official_to_frame(open_official(folder))
