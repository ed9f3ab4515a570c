"""`nas-core cache migrate`: a cache keyed by absolute data / run paths (before the benchmark
seam) is re-keyed to the current keys, so the current engines find it and recompute nothing."""
import json

from nas_core.cache import ResultStore, config_key
from nas_core.engines.cache_migrate import migrate

PROTO = {"sampler": "iso", "seed": 0, "C": 4, "N": 1, "epochs": 2}


def _old_cache(root, data_root="/old/place/data"):
    runs = root / "supernet_runs"
    old_key = config_key({"protocol": PROTO, "dataset": "cifar10", "data": data_root})
    run = runs / f"nb201-iso-s0-{old_key}"
    run.mkdir(parents=True)
    record = {"protocol": PROTO, "dataset": "cifar10", "data_root": data_root, "data_protocol": {},
              "restrict_to": None, "start_from": None, "channels": 3, "classes": 10}
    (run / "protocol.json").write_text(json.dumps(record))
    (run / "ckpt_0002.pt").write_bytes(b"weights")
    # a pruned descendant, keyed by the absolute path of its source run
    keep = [1, 2, 3]
    prune_key = config_key({"from": str(run), "epoch": 1, "keep": keep, "epochs": 2})
    pruned = runs / f"{run.name}-prune3-{prune_key}"
    pruned.mkdir()
    (pruned / "protocol.json").write_text(json.dumps({**record, "restrict_to": keep, "start_from": [str(run), 1]}))
    score_cfg = {"engine": "supernet-score-v1", "run": str(run), "epoch": 2, "batches": 1, "batch_size": 8,
                 "ckpt_size": 7}
    ResultStore("supernet_scores", score_cfg, root=root)
    zs_cfg = {"engine": "zeroshot-v2", "dataset": "cifar10", "data_root": data_root, "proxies": ["snip"],
              "seeds": [20], "batches": 1, "batch_size": 8, "input_mode": "real", "C": 16, "N": 5,
              "network": f"supernet-v2:{config_key({'run': str(run), 'epoch': 2})}", "split_seed": 0,
              "torch": "2.13.0", "baseline_macro": {"C": 16}}
    ResultStore("zeroshot", zs_cfg, root=root)
    return run


def test_migration_gives_the_current_keys_and_is_idempotent(tmp_path):
    root = tmp_path / "cache"
    _old_cache(root)
    report = migrate(root)
    assert (report["runs"], report["stores"], report["zeroshot"], report["left_alone"]) == (2, 1, 1, [])
    new_key = config_key({"protocol": PROTO, "dataset": "cifar10", "benchmark": "nb201"})
    run = root / "supernet_runs" / f"nb201-iso-s0-{new_key}"
    record = json.loads((run / "protocol.json").read_text())
    assert "data_root" not in record and record["benchmark"] == "nb201"
    assert (run / "ckpt_0002.pt").read_bytes() == b"weights"
    prune_key = config_key({"from": run.name, "epoch": 1, "keep": [1, 2, 3], "epochs": 2})
    pruned = root / "supernet_runs" / f"{run.name}-prune3-{prune_key}"
    assert json.loads((pruned / "protocol.json").read_text())["start_from"] == [run.name, 1]
    # the stores sit under the keys the current engines compute
    score_cfg = {"engine": "supernet-score-v2", "run": f"supernet_runs/{run.name}", "epoch": 2, "batches": 1,
                 "batch_size": 8, "ckpt_size": 7}
    assert (root / "supernet_scores" / config_key(score_cfg) / "config.json").is_file()
    zs_cfg = {"engine": "zeroshot-v3", "benchmark": "nb201", "dataset": "cifar10", "proxies": ["snip"],
              "seeds": [20], "batches": 1, "batch_size": 8, "input_mode": "real", "C": 16, "N": 5,
              "network": f"supernet-v3:{config_key({'run': f'supernet_runs/{run.name}', 'epoch': 2})}",
              "split_seed": 0, "torch": "2.13.0"}
    assert (root / "zeroshot" / config_key(zs_cfg) / "config.json").is_file()
    assert migrate(root) == {"runs": 0, "stores": 0, "zeroshot": 0, "left_alone": []}


def test_a_run_whose_key_does_not_match_is_left_alone(tmp_path):
    root = tmp_path / "cache"
    run = _old_cache(root)
    run.rename(run.with_name("nb201-iso-s0-0000000000000000"))
    report = migrate(root)
    assert "supernet_runs/nb201-iso-s0-0000000000000000" in report["left_alone"]
    assert (root / "supernet_runs" / "nb201-iso-s0-0000000000000000" / "protocol.json").is_file()


def test_cli_dry_run_changes_nothing(tmp_path, monkeypatch, capsys):
    from nas_core.cli import main

    root = tmp_path / "cache"
    run = _old_cache(root)
    monkeypatch.setenv("NAS_CORE_CACHE", str(root))
    assert main(["cache", "migrate", "--dry-run"]) == 0
    assert "would re-key: 2 supernet run(s)" in capsys.readouterr().out
    assert run.is_dir()
