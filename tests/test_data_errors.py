"""Clear errors from the ground-truth loader and the `nas-core data` commands.

The tables here are synthetic: every NAS-Bench-201 architecture (the kit's own enumeration)
with made-up accuracies; nothing comes from the real benchmark."""
import os

import numpy as np
import pandas as pd
import pytest

from nas_core.cli import main
from nas_core.data.groundtruth import load_ground_truth
from nas_core.errors import BadData, DataNotFound
from nas_core.space import nb201


@pytest.fixture(scope="module")
def synthetic():
    strs = [nb201.format_arch(ops) for ops in nb201.all_ops().tolist()]
    rng = np.random.default_rng(0)
    return pd.DataFrame({"index": np.arange(len(strs)), "arch_str": strs,
                         "cifar10_test_acc_200ep": rng.uniform(10, 94, len(strs)).round(3)})


def root_with(tmp_path, write) -> str:
    folder = tmp_path / "root" / "nasbench201"
    folder.mkdir(parents=True)
    write(folder)
    return str(tmp_path / "root")


def csv_root(tmp_path, frame):
    return root_with(tmp_path, lambda f: frame.to_csv(f / "nb201_ground_truth.csv", index=False))


def test_a_valid_table_loads(tmp_path, synthetic):
    truth = load_ground_truth("nb201", csv_root(tmp_path, synthetic))
    assert len(truth) == nb201.N_ARCHS and truth["iso_class"].nunique() == 6466
    np.testing.assert_array_equal(truth["cifar10_test_acc_200ep"], synthetic["cifar10_test_acc_200ep"])


def test_a_wrong_data_root_names_the_path_and_the_fix(tmp_path):
    wrong = tmp_path / "no-such-folder"
    with pytest.raises(DataNotFound) as info:
        load_ground_truth("nb201", wrong)
    message = info.value.message()
    assert str(wrong) in message and "does not exist" in message and "how to fix: point --data-root" in message


@pytest.mark.parametrize("make_folder", [False, True])
def test_a_missing_ground_truth_file(tmp_path, make_folder):
    if make_folder:
        (tmp_path / "nasbench201").mkdir()
    with pytest.raises(DataNotFound, match="no NAS-Bench-201 ground truth found") as info:
        load_ground_truth("nb201", tmp_path)
    message = info.value.message()
    assert str(tmp_path / "nasbench201") in message and "nb201_ground_truth.csv" in message
    assert "NATS-tss-v1_0-3ffb9-simple" in message


def test_truncated_csv_rows(tmp_path, synthetic):
    text = synthetic.to_csv(index=False)
    cut = text[: len(text) // 2 + 7]  # half the rows, the last one cut mid-line
    root = root_with(tmp_path, lambda f: (f / "nb201_ground_truth.csv").write_text(cut))
    with pytest.raises(BadData, match="truncated") as info:
        load_ground_truth("nb201", root)
    assert "truncated" in info.value.message()


def test_a_garbage_architecture_string(tmp_path, synthetic):
    bad = synthetic.copy()
    bad.loc[123, "arch_str"] = "|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    with pytest.raises(BadData, match="malformed architecture"):
        load_ground_truth("nb201", csv_root(tmp_path, bad))


def test_a_duplicated_architecture(tmp_path, synthetic):
    bad = synthetic.copy()
    bad.loc[5, "arch_str"] = bad.loc[4, "arch_str"]
    with pytest.raises(BadData, match="twice"):
        load_ground_truth("nb201", csv_root(tmp_path, bad))


def test_a_missing_column(tmp_path, synthetic):
    with pytest.raises(BadData, match="lacks the column"):
        load_ground_truth("nb201", csv_root(tmp_path, synthetic.drop(columns=["arch_str"])))


@pytest.mark.parametrize("name", ["nb201_ground_truth.csv", "nb201_ground_truth.parquet"])
def test_binary_junk(tmp_path, name):
    junk = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    root = root_with(tmp_path, lambda f: (f / name).write_bytes(junk))
    with pytest.raises(BadData) as info:
        load_ground_truth("nb201", root)
    assert name in info.value.message()


# ---- through the CLI: one message, no traceback, exit 2 for commands that need the data ------

def test_cli_load_errors_exit_2_without_traceback(tmp_path, synthetic, capsys):
    out = str(tmp_path / "space.csv")
    wrong = str(tmp_path / "no-such-folder")
    junk = root_with(tmp_path, lambda f: (f / "nb201_ground_truth.csv").write_text("index,arch_str\n0,|x|\n"))
    for root, expected in ((wrong, "does not exist"), (junk, "must have 15625 rows")):
        assert main(["space", "export", "--data-root", root, "--out", out]) == 2
        err = capsys.readouterr().err
        assert err.startswith("nas-core: error:") and expected in err and "Traceback" not in err
    assert main(["data", "check", "--data-root", wrong]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not os.path.exists(out)


def test_cli_check_reports_unreadable_files_and_the_rest(tmp_path, capsys):
    root = root_with(tmp_path, lambda f: (f / "nb201_ground_truth.csv").write_bytes(b"\x00\xff" * 100))
    assert main(["data", "check", "--data-root", root]) == 2
    out = capsys.readouterr().out
    assert "NAS-Bench-201 ground truth: PROBLEM" in out and "CIFAR-10 images: missing" in out
    batches = tmp_path / "root" / "cifar10" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    (batches / "data_batch_1").write_bytes(b"junk")
    assert main(["data", "check", "--data-root", root]) == 2
    out = capsys.readouterr().out
    assert "CIFAR-10 images: PROBLEM: cannot read" in out and "CIFAR-100 images: missing" in out
    assert "Traceback" not in out


def test_cli_check_on_an_empty_root_lists_what_is_missing(tmp_path, capsys):
    assert main(["data", "check", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"data root: {tmp_path}" in out
    for line in ("NAS-Bench-201 ground truth: missing", "CIFAR-10 images: missing", "CIFAR-100 images: missing",
                 "ImageNet16-120 images: missing", "Fashion-MNIST:"):
        assert line in out
    assert "how to fix" in out and "Traceback" not in out


def test_cli_check_finds_the_shared_data(data_root, capsys):
    if not (data_root / "nasbench201" / "nb201_ground_truth.csv").is_file():
        pytest.skip("compact NB201 table not present")
    assert main(["data", "check", "--data-root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "ground truth: compact table" in out and "15625 architectures, 6466 isomorphism classes" in out
    if (data_root / "cifar10" / "cifar10_jpeg_q75.npz").is_file():
        assert "CIFAR-10 images: encoded-image npz" in out and "50000 train + 10000 test" in out


def test_cli_check_without_a_data_root(monkeypatch, capsys):
    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    assert main(["data", "check"]) == 0
    assert "none configured" in capsys.readouterr().out


def test_cli_layout_prints_the_documented_layout(capsys):
    assert main(["data", "layout"]) == 0
    out = capsys.readouterr().out
    assert "nasbench201/nb201_ground_truth.csv" in out and "NATS-tss-v1_0-3ffb9-simple" in out
