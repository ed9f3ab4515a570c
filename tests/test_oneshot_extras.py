"""The study's added one-shot analyses: relative P@K stability, seed ensembles, equal-budget
comparison points, mean OS acc, op pruning's pool, the soft-pruning sampler (probabilities and
exact resume) and the BN-gamma gradient similarity."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import special, stats

from nas_core.analyses import oneshot_extras as X
from nas_core.data.images import fashion_mnist_dir
from nas_core.engines import supernet_train
from nas_core.engines.supernet_diagnostics import _held_out_batch, gradient_similarity
from nas_core.errors import BadParameter
from nas_core.protocols.data import DataProtocol
from nas_core.protocols.supernet import SupernetProtocol
from nas_core.samplers import SoftPruningSampler, make_sampler, ops_pruned_pool
from nas_core.space import nb201

needs_fmnist = pytest.mark.skipif(fashion_mnist_dir() is None, reason="Fashion-MNIST not installed")
TINY = SupernetProtocol(C=4, N=1, epochs=3, save_every=1, batch_size=64, score_batches=1, score_batch_size=32)
TINY_DATA = DataProtocol(max_train=256, max_heldout=128)


def test_relative_p_at_k_on_known_rankings():
    later = pd.Series(np.arange(200, dtype=float))  # arch i has score i: 199 best, 0 worst
    earlier = later.copy()
    earlier[[199, 150]] = earlier[[150, 199]].to_numpy()  # best swapped with a middle arch
    earlier[[0, 5]] = earlier[[5, 0]].to_numpy()          # worst swapped inside the bottom 5 %
    out = X.adjacent_topk_stability({10: earlier, 20: later}).set_index(["criterion", "k"])["value"]
    # K = 0.5 % -> n = 1: the earlier best (arch 150) is not the later best (arch 199)
    assert out[("rel_p_at_top", 0.005)] == 0.0
    # K = 5 % -> n = 10: earlier top-10 = {190..198, 150}, later top-10 = {190..199} -> 9/10
    assert out[("rel_p_at_top", 0.05)] == pytest.approx(0.9)
    assert out[("rel_p_at_bottom", 0.005)] == 0.0  # earlier worst is arch 5, later worst arch 0
    assert out[("rel_p_at_bottom", 0.05)] == 1.0    # same bottom-10 set {0..9}
    tau = out[("relative_tau", np.nan)] if ("relative_tau", np.nan) in out.index else out.loc["relative_tau"].iloc[0]
    assert tau == pytest.approx(stats.kendalltau(earlier, later).statistic)


def test_relative_p_at_k_skips_k_below_one_arch():
    a = pd.Series([1.0, 2.0, 3.0, 4.0])
    out = X.adjacent_topk_stability({1: a, 2: a[::-1].reset_index(drop=True)})
    top = out[out["criterion"] == "rel_p_at_top"].set_index("k")["value"]
    assert np.isnan(top[0.005]) and np.isnan(top[0.05])  # floor(0.05 * 4) = 0


def test_seed_ensemble_averages_common_archs():
    s0 = pd.Series([10.0, 20.0, 30.0], index=[1, 2, 3])
    s1 = pd.Series([40.0, 0.0, 50.0], index=[2, 3, 4])
    ens = X.seed_ensemble({0: s0, 1: s1})
    assert ens.to_dict() == {2: 30.0, 3: 15.0}  # (20+40)/2, (30+0)/2; archs 1 and 4 not in both
    with pytest.raises(BadParameter):
        X.seed_ensemble({})


def test_mean_os_acc_averages_batches_then_archs():
    tidy = pd.DataFrame({"epoch": [1, 1, 1, 1, 2, 2], "index": [7, 7, 8, 8, 7, 8], "batch": [0, 1, 0, 1, 0, 0],
                         "os_acc": [10.0, 30.0, 50.0, 50.0, 60.0, 80.0]})
    out = X.mean_os_acc_along_training(tidy).set_index("epoch")
    assert out.loc[1, "mean_os_acc"] == 35.0 and out.loc[1, "std"] == 15.0  # archs 20 and 50
    assert out.loc[2, "mean_os_acc"] == 70.0 and out.loc[2, "n"] == 2


def test_equal_budget_points():
    crit = pd.DataFrame({"variant": ["iso"] * 2 + ["mc:2"] * 2 + ["fair"] * 2, "epoch": [5, 10, 5, 10, 5, 10],
                         "value": [1, 2, 3, 4, 5, 6]})
    crit = X.with_arch_updates(crit)
    assert crit["arch_updates"].tolist() == [5, 10, 10, 20, 25, 50]
    pts = X.equal_budget_points(crit)
    upd = pts[pts["comparison"] == "equal arch updates"].set_index("variant")
    # budget = iso's 10: mc:2 hits it at epoch 5; fair's closest is its first checkpoint (25)
    assert upd["epoch"].to_dict() == {"iso": 10, "mc:2": 5, "fair": 5}
    assert upd["updates_ratio"].to_dict() == {"iso": 1.0, "mc:2": 1.0, "fair": 2.5}
    tie = X.equal_budget_points(X.with_arch_updates(pd.DataFrame(
        {"variant": ["iso", "iso", "mc:3", "mc:3"], "epoch": [2, 4, 1, 2], "value": [0, 0, 0, 0]})))
    assert tie[tie["comparison"] == "equal arch updates"].set_index("variant")["epoch"].to_dict() == {"iso": 4, "mc:3": 1}
    ep = pts[pts["comparison"] == "equal epochs"]
    assert set(ep["epoch"]) == {10} and len(ep) == 3


def test_op_pruned_pool_excludes_ops():
    one = ops_pruned_pool(["avg_pool_3x3"])
    two = ops_pruned_pool(["avg_pool_3x3", "nor_conv_1x1"])
    assert len(one) == 4 ** 6 and len(two) == 3 ** 6  # the other ops on every edge
    pool = nb201.all_ops()[two]
    assert not np.isin(pool, [nb201.OPS.index("avg_pool_3x3"), nb201.OPS.index("nor_conv_1x1")]).any()
    sampler = make_sampler("without:avg_pool_3x3+nor_conv_1x1", 0)
    drawn = np.array([sampler.step()[0] for _ in range(300)])
    assert not np.isin(drawn, [2, 4]).any() and np.isin(drawn, [3]).any()
    with pytest.raises(BadParameter):
        make_sampler("without:max_pool", 0)


def test_soft_sampler_probabilities_and_state():
    s = make_sampler("soft:2,3,0.5,8", 0)
    assert isinstance(s, SoftPruningSampler)
    assert [s.wants_rescore(e) for e in range(1, 9)] == [False, True, False, False, True, False, False, True]
    pool = s.draw_pool()
    assert len(set(pool.tolist())) == 8
    accs = np.array([10.0, 11.0, 12.0, 9.0, 10.5, 10.0, 13.0, 8.0])
    s.set_scores(pool, accs)
    assert np.allclose(s.probs, special.softmax(accs / 0.5))
    drawn = [nb201.to_kit_id(s.step()[0]) for _ in range(20000)]
    freq = pd.Series(drawn).value_counts(normalize=True).reindex(pool, fill_value=0).to_numpy()
    assert np.abs(freq - s.probs).max() < 0.02
    state = s.state_dict()
    after = [s.step()[0] for _ in range(20)]
    t = make_sampler("soft:2,3,0.5,8", 99)
    t.load_state_dict(state)
    assert [t.step()[0] for _ in range(20)] == after
    for bad in ("soft:1,0,1,8", "soft:1,1,0,8", "soft:x"):
        with pytest.raises(BadParameter):
            make_sampler(bad, 0)


def _weights(run, epoch):
    return torch.load(supernet_train.checkpoint_path(run, epoch), weights_only=False)["model"]


@needs_fmnist
def test_soft_pruning_resume_is_bit_identical(tmp_path):
    proto = replace(TINY, sampler="soft:1,1,1.0,6")
    straight = supernet_train.train_supernet(proto, tmp_path / "a", "fmnist", None, "cpu", TINY_DATA, progress=False)
    supernet_train.train_supernet(proto, tmp_path / "b", "fmnist", None, "cpu", TINY_DATA, progress=False,
                                  stop_after_epoch=1)
    resumed = supernet_train.train_supernet(proto, tmp_path / "b", "fmnist", None, "cpu", TINY_DATA, progress=False)
    a, b = _weights(straight, 3), _weights(resumed, 3)
    assert all(torch.equal(a[k], b[k]) for k in a)
    state = torch.load(supernet_train.checkpoint_path(straight, 2), weights_only=False)["sampler"]
    assert len(state["candidates"]) == 6 and state["probs"].sum() == pytest.approx(1.0)
    # the pool's probabilities come from the rescoring at the end of epoch 2 (same weights, same batch)
    net, _ = supernet_train.load_checkpoint(straight, 2)
    record = supernet_train.run_record(straight)
    _, held = supernet_train.load_data(record, "cpu")
    accs = supernet_train.rescore_pool(net, held, state["candidates"], "fmnist", proto.score_batch_size, "cpu")
    assert np.allclose(state["probs"], special.softmax(accs / 1.0))


@needs_fmnist
def test_bn_gamma_similarity_on_affine_supernet(tmp_path):
    run = supernet_train.train_supernet(replace(TINY, affine=True, epochs=1), tmp_path / "run", "fmnist", None,
                                        "cpu", TINY_DATA, progress=False)
    gs = gradient_similarity(run, n_archs=2, bn_scale_only=True)
    assert "classifier" not in set(gs["layer"])  # no BN there: only gammas count
    assert {"stem", "lastact"} <= set(gs["layer"])
    # reference: the cosine of the two archs' gradients on the last BN's gamma, by hand
    net, _ = supernet_train.load_checkpoint(run, 1)
    _, x, y = _held_out_batch(supernet_train.run_record(run), "cpu", size=128)
    net.scoring_mode()
    sampler = make_sampler("iso", 20_000 + 1)
    gamma = net.lastact[0].weight
    g = [torch.autograd.grad(torch.nn.functional.cross_entropy(net(x, sampler.step()[0]), y), gamma)[0].numpy()
         for _ in range(2)]
    ref = float(g[0] @ g[1] / np.linalg.norm(g[0]) / np.linalg.norm(g[1]))
    assert gs[gs["layer"] == "lastact"]["cosine"].iloc[0] == pytest.approx(ref, rel=1e-5)
