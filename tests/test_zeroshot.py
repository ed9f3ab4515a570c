"""The zero-shot engine: determinism, cache reuse, resume after interruption, NaN handling, CLI."""

import numpy as np
import pandas as pd
import pytest
from torch import nn

from nas_core.data.images import fashion_mnist_dir
from nas_core.engines import zeroshot
from nas_core.errors import BadParameter
from nas_core.space import nb201

ARCHS = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
         "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
         "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|",
         "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"]
PROXIES = ["grad_norm", "snip", "synflow", "jacob_cov", "relu_logdet", "params"]
needs_fmnist = pytest.mark.skipif(fashion_mnist_dir() is None, reason="Fashion-MNIST not installed")


def sweep(**kw):
    args = dict(indices=range(len(ARCHS)), arch_strs=ARCHS, proxies=PROXIES, seeds=[20], batches=2, batch_size=16,
                dataset="fmnist", benchmark="mini", C=4, N=1, progress=False, chunk=1)
    args.update(kw)
    return zeroshot.run_zero_shot(**args)


@needs_fmnist
def test_tidy_columns_and_determinism(tmp_path, monkeypatch):
    first = sweep()
    assert list(first.columns[:7]) == ["index", "arch_str", "seed", "batch", "proxy", "value", "seconds"]
    assert len(first) == len(ARCHS) * 2 * len(PROXIES)
    monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path / "other-cache"))  # recompute from scratch
    second = sweep()
    pd.testing.assert_series_equal(first["value"], second["value"])


@needs_fmnist
def test_rerun_reuses_cache_and_resumes(monkeypatch):
    calls = []
    real = zeroshot.score_network

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(zeroshot, "score_network", counting)
    with pytest.raises(KeyboardInterrupt):
        sweep(stop_after=2)  # interrupted after two architectures
    assert len(calls) == 2 * 2  # 2 archs x 2 batches
    calls.clear()
    resumed = sweep()
    assert len(calls) == 2 * 2  # only the two missing architectures were computed
    calls.clear()
    again = sweep()
    assert calls == []  # a rerun with the same options reuses the cache
    pd.testing.assert_frame_equal(resumed, again)
    monkeypatch.setattr(zeroshot, "score_network", real)
    # the resumed result equals an uninterrupted run in a fresh cache
    monkeypatch.setenv("NAS_CORE_CACHE", str(__import__("tempfile").mkdtemp()))
    fresh = sweep()
    pd.testing.assert_series_equal(fresh["value"], resumed["value"])


class Exploding(nn.Module):
    """A network whose output overflows float32: every gradient proxy becomes NaN."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
        self.fc = nn.Linear(2, 10)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)) * 1e38 * 1e38)


@needs_fmnist
def test_numerical_failures_are_nan_with_reason():
    frame = sweep(make_network=lambda ops, seed: Exploding(), network_tag="exploding",
                  proxies=["grad_norm", "snip", "jacob_cov", "params"])
    bad = frame[frame["proxy"].isin(["grad_norm", "snip", "jacob_cov"])]
    assert bad["value"].isna().all() and (bad["reason"] != "").all()
    assert frame[frame["proxy"] == "params"]["value"].notna().all()  # the sweep went on
    assert zeroshot.summary(frame).set_index("proxy").loc["snip", "n_nan"] == len(ARCHS) * 2


@needs_fmnist
def test_input_modes_and_wide_table():
    ones = sweep(input_mode="ones", proxies=["grad_norm"])
    real = sweep(input_mode="real", proxies=["grad_norm"])
    assert not np.allclose(ones["value"], real["value"])
    wide = zeroshot.to_wide(real, batches=1)
    assert list(wide.columns) == ["index", "grad_norm"] and len(wide) == len(ARCHS)
    first_batch = real[real["batch"] == 0].set_index("index")["value"]
    assert np.allclose(wide.set_index("index")["grad_norm"], first_batch)
    with pytest.raises(Exception, match="unknown input mode"):
        sweep(input_mode="pink")


def test_unknown_proxy_is_a_clear_error():
    with pytest.raises(Exception, match="unknown proxy"):
        zeroshot.run_zero_shot([0], ARCHS[:1], ["snap"], progress=False)


def test_cli_zero_shot_then_evaluate(tmp_path, data_root):
    from nas_core.cli import main

    out = tmp_path / "zs.csv"
    assert main(["zero-shot", "--benchmark", "nb201", "--archs", "sample:12", "--proxies",
                 "synflow,snip,params", "--profile", "smoke", "--data-root", str(data_root), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns[:7]) == ["index", "arch_str", "seed", "batch", "proxy", "value", "seconds"]
    crit = tmp_path / "crit.csv"
    assert main(["evaluate", "--scores", str(out), "--benchmark", "nb201", "--data-root", str(data_root),
                 "--out", str(crit)]) == 0
    table = pd.read_csv(crit)
    assert set(table["estimator"]) == {"synflow", "snip", "params"}


@needs_fmnist
def test_complexity_baselines_describe_the_benchmarks_network_not_the_proxy_network():
    from nas_core.space.complexity import Macro, params_flops

    frame = sweep(proxies=["params", "flops"], dataset="fmnist16")
    got = frame[frame["batch"] == 0].pivot(index="index", columns="proxy", values="value").sort_index()
    ops = nb201.ops_from_strings(ARCHS)
    # the mini benchmark's network (C8/N1, 16x16, 1 channel), although the proxies ran on C4/N1
    p_m, f_m = params_flops(ops, Macro(C=8, N=1, resolution=16, num_classes=10, in_channels=1))
    assert np.allclose(got["params"], p_m) and np.allclose(got["flops"], f_m)
    from nas_core import benchmarks

    assert benchmarks.get("nb201").macro() == Macro(C=16, N=5, resolution=32, num_classes=10)


@needs_fmnist
def test_worker_processes_give_the_serial_values(monkeypatch, tmp_path):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # workers run one thread each; float32 sums depend on the thread count
    try:
        serial = sweep(workers=1)
        monkeypatch.setenv("NAS_CORE_CACHE", str(tmp_path / "parallel"))
        parallel = sweep(workers=2)
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), parallel.drop(columns="seconds"))


def test_worker_count_choice():
    assert zeroshot._workers(None, 3, "cpu", None) == 1  # too few architectures to pay a start-up
    assert zeroshot._workers(None, 10_000, "cuda", None) == 1
    assert zeroshot._workers(None, 10_000, "cpu", lambda ops, seed: None) == 1  # a caller's network: serial
    assert zeroshot._workers(3, 5, "cpu", None) == 3
    with pytest.raises(BadParameter):
        zeroshot._workers(0, 5, "cpu", None)
    # asked for explicitly, worker processes share a GPU (they overlap launch-bound architectures)
    assert zeroshot._workers(2, 5, "cuda", None) == 2
    with pytest.raises(BadParameter):  # a lambda cannot be sent to a worker process
        zeroshot._workers(2, 5, "cpu", lambda ops, seed: None)


def _workers_in_daemon(queue):
    from nas_core.engines.zeroshot import _workers

    queue.put(_workers(None, 1000, "cpu", None))


def test_default_workers_stay_serial_inside_a_daemonic_process():
    """Pool and cluster workers are daemonic and may not start children: the sweep runs serially."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_workers_in_daemon, args=(queue,), daemon=True)
    proc.start()
    proc.join(120)
    assert queue.get(timeout=10) == 1
