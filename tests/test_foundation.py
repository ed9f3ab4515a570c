"""Config, profiles, cache and the CLI's error path."""
import json

import pandas as pd
import pytest

from nas_core import cache, config, profiles
from nas_core.cli import main
from nas_core.errors import BadParameter, DataNotFound


def test_data_root_from_env_and_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_CORE_DATA", str(tmp_path))
    assert config.data_root() == tmp_path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    assert config.data_root(other) == other.resolve()  # the flag wins over the environment
    monkeypatch.delenv("NAS_CORE_DATA")
    assert config.data_root() is None


def test_wrong_data_root_message(tmp_path):
    with pytest.raises(DataNotFound) as err:
        config.data_root(tmp_path / "missing")
    msg = err.value.message()
    assert "does not exist" in msg and str(tmp_path / "missing") in msg and "NAS_CORE_DATA" in msg


def test_required_data_root(monkeypatch):
    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    with pytest.raises(DataNotFound, match="no data root"):
        config.data_root(required=True)


def test_devices():
    assert config.resolve_device("cpu") == "cpu"
    assert config.resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(BadParameter, match="unknown device"):
        config.resolve_device("tpu")


def test_profiles_and_overrides():
    with pytest.raises(BadParameter, match="unknown profile"):
        profiles.check_profile("fast")
    base = profiles.protocol("data", "quick")
    changed = profiles.protocol("data", "quick", split_seed=7)
    assert changed.split_seed == 7 and changed.max_train == base.max_train
    with pytest.raises(BadParameter, match="no field"):
        profiles.protocol("data", "quick", nonsense=1)


def test_config_key_is_order_independent():
    assert cache.config_key({"a": 1, "b": [1, 2]}) == cache.config_key({"b": [1, 2], "a": 1})
    assert cache.config_key({"a": 1}) != cache.config_key({"a": 2})


def test_result_store_append_resume(tmp_path):
    store = cache.ResultStore("demo", {"x": 1}, root=tmp_path)
    assert store.read().empty and store.done_keys(["i"]) == set()
    store.append(pd.DataFrame({"i": [0, 1], "v": [0.5, 0.25]}))
    store.append(pd.DataFrame({"i": [2], "v": [1.0]}))
    again = cache.ResultStore("demo", {"x": 1}, root=tmp_path)  # a rerun finds the same folder
    assert again.path == store.path
    assert again.done_keys(["i"]) == {(0,), (1,), (2,)}
    assert json.loads((store.path / "config.json").read_text()) == {"x": 1}
    assert cache.ResultStore("demo", {"x": 2}, root=tmp_path).path != store.path


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "t.csv"
    cache.atomic_write_frame(target, pd.DataFrame({"a": [1]}))

    class Boom(pd.DataFrame):
        def to_csv(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        cache.atomic_write_frame(target, Boom({"a": [2]}))
    assert pd.read_csv(target)["a"].tolist() == [1]  # old content intact
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary left behind


def test_cli_user_error_is_one_message(tmp_path, capsys):
    rc = main(["space", "export", "--out", str(tmp_path / "x.csv"), "--data-root", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert rc == 2 and "does not exist" in err and "Traceback" not in err


def test_space_export_kit_order(tmp_path):
    out = tmp_path / "space.csv"
    assert main(["space", "export", "--order", "kit", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert len(frame) == 15625 and frame["iso_representative"].sum() == 6466
    assert {"has_conv_path", "n_nor_conv_3x3", "depth", "params_M_cifar100", "flops_M_imagenet16"} <= set(frame.columns)


def test_space_export_official_order_is_kit_computed(tmp_path, nb201_raw_table, data_root):
    out = tmp_path / "space.csv"
    assert main(["space", "export", "--out", str(out), "--data-root", str(data_root)]) == 0
    frame = pd.read_csv(out)
    assert frame["arch_str"].tolist() == nb201_raw_table["arch_str"].tolist()
    assert (frame["iso_class"] == nb201_raw_table["iso_class"]).all()
    assert ((frame["params_M_cifar10"] - nb201_raw_table["params_M_cifar10"]).abs() < 1e-6).all()


def test_parse_shard_accepts_i_of_n_and_refuses_the_rest():
    from nas_core.config import parse_shard
    from nas_core.errors import BadParameter

    assert parse_shard(None) == (0, 1) and parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1/0", "-1/3", "1/2/3"):
        with pytest.raises(BadParameter, match="bad --shard"):
            parse_shard(bad)
