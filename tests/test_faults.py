"""An unlucky user: bad values, truncated / zeroed / unreadable files. Each fault ends in one
clear message naming the flag or the file (exit 2, no traceback), or heals itself (the damaged
cached file is moved aside and recomputed, never used)."""
import io
import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nas_core.errors import BadData, BadParameter

REPO = Path(__file__).parents[1]


def cli(argv, capsys):
    """(exit status, stderr) of `nas-core ARGV` run in-process; argparse errors exit too."""
    from nas_core.cli import main

    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero":
        path.write_bytes(b"")
    else:  # same size, different bytes in the middle
        mid = len(data) // 2
        path.write_bytes(data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 64]) + data[mid + 64:])
        assert path.stat().st_size == len(data)


# ---- numeric overrides: refused at parse time, naming the flag and the range, nothing written -----

@pytest.mark.parametrize("argv, flag", [
    (["supernet", "train", "--profile", "smoke", "--batch-size", "-1"], "--batch-size"),
    (["supernet", "train", "--profile", "smoke", "--batch-size", "0"], "--batch-size"),
    (["supernet", "train", "--profile", "smoke", "--epochs", "0"], "--epochs"),
    (["supernet", "train", "--profile", "smoke", "--save-every", "0"], "--save-every"),
    (["supernet", "train", "--profile", "smoke", "--C", "0"], "--C"),
    (["supernet", "train", "--profile", "smoke", "--lr", "nan"], "--lr"),
    (["supernet", "train", "--profile", "smoke", "--dropout", "1.5"], "--dropout"),
    (["supernet", "train", "--profile", "smoke", "--augment", "2"], "--augment"),
])
def test_supernet_train_bad_values_write_nothing(argv, flag, tmp_path, capsys):
    run = tmp_path / "run"
    rc, err = cli(argv + ["--run", str(run)], capsys)
    assert rc == 2 and f"argument {flag}" in err and ("out of range" in err or "expected" in err)
    assert not run.exists()


@pytest.mark.parametrize("extra, flag", [
    (["--C", "0"], "--C"), (["--N", "-2"], "--N"), (["--batch-size", "0"], "--batch-size"),
    (["--batches", "0"], "--batches"), (["--seeds", "1,,2"], "--seeds"), (["--seeds", "-3"], "--seeds"),
    (["--proxies", ""], "--proxies"), (["--proxies", "snip,"], "--proxies"),
])
def test_zero_shot_bad_values(extra, flag, tmp_path, capsys):
    out = tmp_path / "z.csv"
    rc, err = cli(["zero-shot", "--profile", "smoke", "--archs", "sample:3", *extra, "--out", str(out)], capsys)
    assert rc == 2 and f"argument {flag}" in err
    assert not out.exists()


@pytest.mark.parametrize("argv", [["zero-shot", "--archs", "sample:3"], ["supernet", "score", "--run", "r"]])
def test_out_with_an_unsupported_suffix(argv, tmp_path, capsys):
    rc, err = cli(argv + ["--out", str(tmp_path / "x.txt")], capsys)
    assert rc == 2 and "argument --out" in err and ".csv or .parquet" in err
    assert not (tmp_path / "x.txt").exists()


def test_empty_archs_file(tmp_path, capsys):
    archs = tmp_path / "archs.txt"
    archs.write_text("")
    rc, err = cli(["zero-shot", "--profile", "smoke", "--archs", str(archs), "--proxies", "params",
                   "--out", str(tmp_path / "z.csv")], capsys)
    assert rc == 2 and "is empty" in err and str(archs) in err
    assert not (tmp_path / "z.csv").exists()


@pytest.mark.parametrize("args", [["--only"], ["--profile"], ["--profile", "--only", "rq1"], ["--shard"]])
def test_run_all_option_without_value(args):
    out = subprocess.run(["bash", str(REPO / "run_all.sh"), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert f"{args[0]} needs a value" in out.stderr


# ---- cache faults heal: reported with the path, moved aside, recomputed ---------------------------

def _sweep(indices):
    from nas_core.data.groundtruth import load_ground_truth
    from nas_core.engines.zeroshot import run_zero_shot

    truth = load_ground_truth("mini")
    lookup = dict(zip(truth["index"], truth["arch_str"]))
    indices = truth["index"].tolist()[:indices]
    return run_zero_shot(indices, [lookup[i] for i in indices], ["params", "flops"], seeds=(20,), batches=1,
                         batch_size=8, dataset="fmnist16", benchmark="mini", C=4, N=1, chunk=2, progress=False)


@pytest.mark.parametrize("how", ["truncate", "zero", "flip"])
def test_damaged_cache_part_is_moved_aside_and_recomputed(how, capsys):
    from nas_core.config import cache_dir

    indices = 6
    first = _sweep(indices)
    parts = sorted(cache_dir().glob("zeroshot/*/part-*.parquet"))
    assert len(parts) == 3
    damage(parts[1], how)
    capsys.readouterr()
    again = _sweep(indices)
    err = capsys.readouterr().err
    assert str(parts[1]) in err and "moved aside" in err and "Traceback" not in err
    assert parts[1].with_name(parts[1].name + ".corrupt").is_file()
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), first.drop(columns="seconds"))


def test_same_size_corruption_of_cached_images_is_detected(capsys):
    from nas_core.config import cache_dir
    from nas_core.data.images import load_images

    reference = load_images("fmnist", "train").images.clone()
    files = list(cache_dir().glob("images/*/images.npy"))
    assert len(files) == 1
    damage(files[0], "flip")
    capsys.readouterr()
    healed = load_images("fmnist", "train").images
    err = capsys.readouterr().err
    assert str(files[0]) in err and "checksum" in err
    assert torch.equal(healed, reference)
    assert files[0].with_name("images.npy.corrupt").is_file()


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_damaged_space_table_is_recomputed(how, capsys):
    from nas_core.config import cache_dir
    from nas_core.space import nb201

    nb201.space_table.cache_clear()
    reference = nb201.space_table()
    path = cache_dir() / "space" / f"nb201_table_v{nb201.SPACE_TABLE_VERSION}.npz"
    damage(path, how)
    nb201.space_table.cache_clear()
    capsys.readouterr()
    table = nb201.space_table()
    assert str(path) in capsys.readouterr().err
    for field in ("iso_key", "has_conv_path", "depth", "live"):
        assert np.array_equal(getattr(table, field), getattr(reference, field))


# ---- supernet checkpoints and protocol.json ------------------------------------------------------

def _train(run, epochs=2):
    from nas_core.engines.supernet_train import train_supernet
    from nas_core.protocols.data import DataProtocol
    from nas_core.protocols.supernet import SupernetProtocol

    proto = SupernetProtocol(C=2, N=1, epochs=epochs, save_every=1, batch_size=64, plateau_patience=1)
    return train_supernet(proto, run, "fmnist16", None, "cpu", DataProtocol(max_train=128, max_heldout=64),
                          progress=False)


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_bad_last_checkpoint_falls_back_to_the_previous_one(how, tmp_path, capsys):
    from nas_core.engines.supernet_train import checkpoint_path, read_checkpoint

    torch.set_num_threads(1)
    run = _train(tmp_path / "run")
    reference = read_checkpoint(run, 2)["model"]
    damage(checkpoint_path(run, 2), how)
    capsys.readouterr()
    _train(run)  # the rerun notices, resumes from epoch 1 and recomputes epoch 2 exactly
    assert str(checkpoint_path(run, 2)) in capsys.readouterr().err
    healed = read_checkpoint(run, 2)["model"]
    assert all(torch.equal(healed[k], reference[k]) for k in reference)
    assert checkpoint_path(run, 2).with_name("ckpt_0002.pt.corrupt").is_file()


def test_truncated_protocol_json_is_named(tmp_path, capsys):
    torch.set_num_threads(1)
    run = _train(tmp_path / "run", epochs=1)
    damage(run / "protocol.json", "truncate")
    rc, err = cli(["supernet", "score", "--run", str(run), "--out", str(tmp_path / "s.csv")], capsys)
    assert rc == 2 and str(run / "protocol.json") in err and "damaged or truncated" in err
    with pytest.raises(BadData, match="protocol.json"):
        _train(run, epochs=1)


# ---- data files ----------------------------------------------------------------------------------

def _npz(root: Path) -> Path:
    from PIL import Image

    blobs, offsets = [], [0]
    for i in range(4):
        buf = io.BytesIO()
        Image.fromarray(np.full((32, 32, 3), 60 * i, np.uint8)).save(buf, format="JPEG")
        blobs.append(buf.getvalue())
        offsets.append(offsets[-1] + len(blobs[-1]))
    arrays = {}
    for split in ("train", "test"):
        arrays.update({f"{split}_jpeg": np.frombuffer(b"".join(blobs), np.uint8), f"{split}_offsets": np.array(offsets),
                       f"{split}_labels": np.arange(4)})
    path = root / "cifar10" / "cifar10_jpeg_q75.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, **arrays)
    return path


def test_truncated_cifar_npz(tmp_path):
    from nas_core.data.images import load_images

    path = _npz(tmp_path)
    assert len(load_images("cifar10", "train", tmp_path)) == 4  # the intact file reads
    damage(path, "truncate")  # new size: a new decode-cache key, so the file itself is read
    with pytest.raises(BadData, match="truncated or damaged") as exc:
        load_images("cifar10", "train", tmp_path)
    assert str(path) in exc.value.message()


def test_data_check_reports_a_truncated_npz(tmp_path, capsys):
    from nas_core.cli import main

    path = _npz(tmp_path)
    damage(path, "truncate")
    rc = main(["data", "check", "--data-root", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 2 and "Traceback" not in captured.err
    assert f"PROBLEM: cannot read {path}" in captured.out and "truncated or damaged" in captured.out


def test_ground_truth_cut_inside_its_last_row(tmp_path):
    from nas_core.data.groundtruth import _read

    path = tmp_path / "nb201_ground_truth.csv"
    path.write_text("index,arch_str,cifar10_test_acc_200ep\n0,a,93.5\n1,b,91.25\n")
    assert len(_read(path)) == 2
    path.write_text("index,arch_str,cifar10_test_acc_200ep\n0,a,93.5\n1,b,91.2")  # cut in the last value
    with pytest.raises(BadData, match="ends inside a row"):
        _read(path)


def test_ground_truth_permission_error_is_not_called_corruption(tmp_path, monkeypatch):
    from nas_core.data import groundtruth

    path = tmp_path / "nb201_ground_truth.csv"
    path.write_text("index\n0\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(groundtruth, "open", denied, raising=False)  # root ignores chmod 000
    with pytest.raises(BadData) as exc:
        groundtruth._read(path)
    assert "permission denied" in exc.value.message() and "corrupt" not in exc.value.message()


# ---- outputs -------------------------------------------------------------------------------------

def test_evaluate_reads_supernet_score_output_with_one_batch(tmp_path):
    from nas_core.cli.evaluate import read_scores

    frame = pd.DataFrame({"index": [3, 1, 2], "arch_str": ["a", "b", "c"], "epoch": 5, "batch": 0,
                          "os_acc": [50.0, 60.0, 70.0], "os_loss": [1.5, 1.2, 0.9]})
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    wide = read_scores(path).set_index("index")
    assert sorted(wide.columns) == ["os_acc", "os_loss"]
    assert wide.loc[3, "os_acc"] == 50.0 and wide.loc[2, "os_loss"] == 0.9


def test_written_files_are_readable_per_umask(tmp_path):
    from nas_core.cache import ResultStore, atomic_write_frame

    old = os.umask(0o022)
    os.umask(old)
    expected = 0o666 & ~old
    atomic_write_frame(tmp_path / "a.csv", pd.DataFrame({"x": [1]}))
    part = ResultStore("t", {"a": 1}, root=tmp_path).append(pd.DataFrame({"x": [1]}))
    for path in (tmp_path / "a.csv", part):
        assert stat.S_IMODE(path.stat().st_mode) == expected


def test_notebook_parameter_error_prints_without_traceback(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    result = shell.run_cell("from nas_core.engines.study import Study\nStudy.open(profile='nope')")
    out = capsys.readouterr()
    assert not result.success and isinstance(result.error_in_exec, BadParameter)
    text = out.out + out.err
    assert "unknown profile 'nope'" in text and "Traceback" not in text and "study.py" not in text
