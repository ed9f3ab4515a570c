"""Supernet: equivalence with the standalone network, samplers, exact resume, scoring, pruning."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from nas_core.data.images import fashion_mnist_dir
from nas_core.engines import supernet_score, supernet_train
from nas_core.engines.supernet_diagnostics import forgetting_values, gradient_similarity
from nas_core.errors import BadParameter
from nas_core.nets.network import NB201Network
from nas_core.nets.supernet import Supernet, copy_into_standalone
from nas_core.protocols.data import DataProtocol
from nas_core.protocols.supernet import SupernetProtocol
from nas_core.samplers import make_sampler
from nas_core.space import nb201

needs_fmnist = pytest.mark.skipif(fashion_mnist_dir() is None, reason="Fashion-MNIST not installed")
TINY = SupernetProtocol(C=4, N=1, epochs=2, save_every=1, batch_size=64, score_batches=2, score_batch_size=32)
TINY_DATA = DataProtocol(max_train=256, max_heldout=128)


@pytest.mark.parametrize("affine", [False, True])
def test_supernet_restricted_equals_standalone(affine):
    torch.manual_seed(0)
    sn = Supernet(C=4, N=2, affine=affine)
    with torch.no_grad():  # non-trivial BN affine and biases
        for p in sn.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.randn(5, 3, 8, 8)
    sn.scoring_mode()
    for kid in range(0, nb201.N_ARCHS, 211):
        arch = nb201.from_kit_id(kid)
        net = NB201Network(arch, C=4, N=2, cell_affine=affine)
        copy_into_standalone(sn, arch, net)
        net.train()
        assert torch.equal(sn(x, arch), net(x)), nb201.format_arch(arch)


def test_iso_sampler_uniform_per_edge_and_rejects_conv_less():
    sampler = make_sampler("iso", 0)
    archs = np.array([sampler.step()[0] for _ in range(6000)])
    assert nb201.space_table().has_conv_path[nb201.kit_ids_of(archs)].all()
    # the pool (archs with a conv path) is uniform: compare edge-op counts with the pool's own
    pool = nb201.all_ops()[sampler.pool]
    for e in range(6):
        observed = np.bincount(archs[:, e], minlength=5)
        expected = np.bincount(pool[:, e], minlength=5) / len(pool) * len(archs)
        assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_deiso_sampler_uniform_over_classes():
    sampler = make_sampler("deiso", 1)
    table = nb201.space_table()
    draws = [nb201.to_kit_id(sampler.step()[0]) for _ in range(20000)]
    classes = table.iso_key[draws]
    assert len(np.unique(draws)) == len(np.unique(classes))  # one representative per class
    counts = np.bincount(classes, minlength=table.iso_key.max() + 1)[np.unique(table.iso_key[sampler.pool])]
    assert stats.chisquare(counts).pvalue > 1e-3
    # iso sampling is NOT uniform over classes: big classes are drawn more often
    iso = make_sampler("iso", 1)
    iso_classes = table.iso_key[[nb201.to_kit_id(iso.step()[0]) for _ in range(20000)]]
    iso_counts = np.bincount(iso_classes, minlength=table.iso_key.max() + 1)[np.unique(table.iso_key[sampler.pool])]
    assert stats.chisquare(iso_counts).pvalue < 1e-6


def test_fair_sampler_every_op_once_per_edge():
    sampler = make_sampler("fair", 2)
    for _ in range(200):
        group = np.array(sampler.step())
        assert group.shape == (5, 6)
        assert all(sorted(group[:, e]) == [0, 1, 2, 3, 4] for e in range(6))
        assert nb201.space_table().has_conv_path[nb201.kit_ids_of(group)].all()


def test_sampler_state_round_trip_and_errors():
    a = make_sampler("mc:3", 5)
    state = a.state_dict()
    first = [a.step() for _ in range(4)]
    a.load_state_dict(state)
    assert [a.step() for _ in range(4)] == first
    with pytest.raises(BadParameter):
        make_sampler("mc:x", 0)
    with pytest.raises(BadParameter):
        make_sampler("greedy", 0)


def test_mc_step_averages_gradients_per_parameter():
    torch.manual_seed(0)
    net = Supernet(C=4, N=1, dropout=0.0)
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
    a1, a2 = nb201.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"), \
        nb201.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|")
    grads = []
    for arch in (a1, a2):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x, arch), y).backward()
        grads.append({n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None})
    opt = torch.optim.SGD(net.parameters(), lr=0.0)  # lr 0: inspect the gradients only
    supernet_train.train_step(net, opt, [a1, a2], x, y, grad_clip=1e9)
    got = {n: p.grad for n, p in net.named_parameters() if p.grad is not None}
    shared = "cells.0.edges.0.ops.3.1.weight"  # conv3x3 on edge 0->1: used by both
    only_a2 = "cells.0.edges.3.ops.2.1.weight"  # conv1x1 on edge 0->3: used by a2 only
    assert torch.allclose(got[shared], (grads[0][shared] + grads[1][shared]) / 2, atol=1e-7)
    assert torch.allclose(got[only_a2], grads[1][only_a2], atol=1e-7)
    assert torch.allclose(got["classifier.weight"], (grads[0]["classifier.weight"] + grads[1]["classifier.weight"]) / 2, atol=1e-7)


def _weights(run, epoch):
    return torch.load(supernet_train.checkpoint_path(run, epoch), weights_only=False)["model"]


@needs_fmnist
def test_resume_is_bit_identical(tmp_path):
    proto = replace(TINY, epochs=3, sampler="mc:2")
    straight = supernet_train.train_supernet(proto, tmp_path / "a", "fmnist", None, "cpu", TINY_DATA, progress=False)
    supernet_train.train_supernet(proto, tmp_path / "b", "fmnist", None, "cpu", TINY_DATA, progress=False,
                                  stop_after_epoch=1)
    assert supernet_train.list_checkpoints(tmp_path / "b") == [1]
    resumed = supernet_train.train_supernet(proto, tmp_path / "b", "fmnist", None, "cpu", TINY_DATA, progress=False)
    a, b = _weights(straight, 3), _weights(resumed, 3)
    assert all(torch.equal(a[k], b[k]) for k in a)
    log_a, log_b = pd.read_csv(straight / "log.csv"), pd.read_csv(resumed / "log.csv")
    assert list(log_a.columns) == ["epoch", "loss", "accuracy", "lr", "seconds"]
    assert np.array_equal(log_a["loss"], log_b["loss"])
    with pytest.raises(BadParameter, match="different configuration"):
        supernet_train.train_supernet(replace(proto, lr=0.1), tmp_path / "b", "fmnist", None, "cpu", TINY_DATA)


@needs_fmnist
def test_scoring_semantics_pruning_and_ensemble(tmp_path):
    run = supernet_train.train_supernet(TINY, tmp_path / "run", "fmnist", None, "cpu", TINY_DATA, progress=False)
    archs = [nb201.format_arch(nb201.from_kit_id(k)) for k in (1234, 5678, 9012, 13000)]
    scores = supernet_score.score_supernet(run, 2, range(4), archs, batches=2, batch_size=32, progress=False)
    assert list(scores.columns) == ["index", "arch_str", "epoch", "batch", "os_acc", "os_loss"]
    assert len(scores) == 8
    # by hand: BN in train mode, dropout off, batch 1 of the held-out split
    net, _ = supernet_train.load_checkpoint(run, 2)
    net.scoring_mode()
    x, y = supernet_score.heldout_batches(run, 2, 32, "cpu")
    with torch.no_grad():
        logits = net(x[1], nb201.parse(archs[2]))
    row = scores[(scores["index"] == 2) & (scores["batch"] == 1)].iloc[0]
    assert row["os_loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, y[1]).item(), rel=1e-6)
    assert row["os_acc"] == pytest.approx((logits.argmax(1) == y[1]).float().mean().item() * 100)
    again = supernet_score.score_supernet(run, 2, range(4), archs, batches=2, batch_size=32, progress=False)
    pd.testing.assert_frame_equal(scores, again)  # cached
    # temporal ensemble of weights: the mean of the two checkpoints
    avg = supernet_score.average_checkpoints(run, [1, 2])
    w1, w2, wa = _weights(run, 1), _weights(run, 2), _weights(avg, 2)
    key = "classifier.weight"
    assert torch.allclose(wa[key], (w1[key] + w2[key]) / 2)
    # one-shot pruning: fine-tuning only ever samples the kept architectures
    keep = archs[:2]
    pruned = supernet_train.finetune_pruned(run, 1, [0, 1], keep, epochs=1, device="cpu", dataset="fmnist",
                                            data_root=None, data_protocol=TINY_DATA)
    record = supernet_train.run_record(pruned)
    assert sorted(record["restrict_to"]) == sorted(nb201.kit_ids_from_strings(keep).tolist())
    sampler = make_sampler("iso", 0, restrict_to=np.array(record["restrict_to"]))
    assert {nb201.to_kit_id(sampler.step()[0]) for _ in range(50)} <= set(record["restrict_to"])
    w_start, w_after = _weights(run, 1), _weights(pruned, 1)
    changed = [k for k in w_start if not torch.equal(w_start[k], w_after[k])]
    assert changed and "classifier.weight" in changed


@needs_fmnist
def test_diagnostics(tmp_path, monkeypatch):
    from nas_core.engines import supernet_diagnostics

    run = supernet_train.train_supernet(TINY, tmp_path / "run", "fmnist", None, "cpu", TINY_DATA, progress=False)
    # the diagnostics run on one thread whatever the process has (their SGD steps depend on the
    # thread count), and give the thread count back
    threads, load = [], supernet_diagnostics.load_checkpoint
    monkeypatch.setattr(supernet_diagnostics, "load_checkpoint",
                        lambda *a, **k: (threads.append(torch.get_num_threads()), load(*a, **k))[1])
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fv = forgetting_values(run, n_archs=3)
        assert threads == [1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert set(fv["epoch"]) == {1, 2} and len(fv) == 6
    assert np.allclose(fv["forgetting"], fv["acc_after_all"] - fv["acc_after_own_step"])
    assert (fv.groupby("epoch")["forgetting"].apply(lambda s: s.iloc[-1]) == 0).all()  # the last step: nothing after it
    gs = gradient_similarity(run, n_archs=3)
    assert {"stem", "classifier"} <= set(gs["layer"]) and gs["cosine"].between(-1, 1).all()
    assert (gs[gs["layer"] == "classifier"]["n_pairs"] == 3).all()
