"""The study's one-shot protocol where the kit once departed from it: one de-iso representative
rule, class-mean ground truth, scoring batch and dropout, the pruning control, no-op mutation
pairs, RQ4's epoch 0 and the seed-averaged headline estimator."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from nas_core.analyses.op_bias import mutation_bias
from nas_core.data import groundtruth
from nas_core.data.images import fashion_mnist_dir
from nas_core.engines import rq3, study as study_mod
from nas_core.engines import supernet_score, supernet_train
from nas_core.profiles import protocol
from nas_core.protocols.data import DataProtocol
from nas_core.protocols.supernet import SupernetProtocol
from nas_core.samplers import make_sampler
from nas_core.space import nb201

needs_fmnist = pytest.mark.skipif(fashion_mnist_dir() is None, reason="Fashion-MNIST not installed")
TINY = SupernetProtocol(C=4, N=1, epochs=1, save_every=1, batch_size=64, score_batches=2, score_batch_size=32)
TINY_DATA = DataProtocol(max_train=128, max_heldout=64)

# two isomorphic cells: node 1's outputs are `none`, so edge 0->1 changes nothing
DEAD_A = nb201.parse("|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|none~1|nor_conv_3x3~2|")
DEAD_B = nb201.parse("|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|none~1|nor_conv_3x3~2|")
# one mutation from DEAD_A (edge 0->3: nor_conv_3x3 -> nor_conv_1x1), a different function
OTHER = nb201.parse("|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|")


def _kit(*archs):
    return np.array([nb201.to_kit_id(a) for a in archs])


# ---- 1. the representative rule -------------------------------------------------------------------

def test_representative_is_lowest_official_index_hand_case():
    a, b, c = _kit(DEAD_A, DEAD_B, OTHER)
    assert a < b  # the lowest KIT id is DEAD_A ...
    # ... but in this table DEAD_B has the lower official index, so it represents the class
    mask = nb201.class_representatives([c, b, a], official_index=[7, 3, 5])
    assert mask.tolist() == [True, True, False]
    # rows given in official order (official index = position)
    assert nb201.class_representatives([a, c, b]).tolist() == [True, True, False]


def test_deiso_pool_equals_the_evaluation_representatives():
    # a benchmark whose official order is a permutation of the kit order (as NB201's is)
    order = np.random.default_rng(0).permutation(nb201.N_ARCHS)
    frame = pd.DataFrame({"index": np.arange(nb201.N_ARCHS),
                          "arch_str": [nb201.format_arch(o) for o in nb201.all_ops()[order].tolist()]})
    table = groundtruth._validated(frame, Path("hand-made"))
    reps = table["iso_representative"].to_numpy()
    assert reps.sum() == nb201.N_ISO_CLASSES
    # independent reference: the lowest official index of each class, by a plain loop
    iso = nb201.space_table().iso_key[order]
    lowest = {}
    for i, k in enumerate(iso.tolist()):
        lowest.setdefault(k, i)
    assert np.flatnonzero(reps).tolist() == sorted(lowest.values())
    sampler = make_sampler("deiso", 0, official_order=order)
    conv = nb201.space_table().has_conv_path
    expected = np.sort(order[reps][conv[order[reps]]])
    assert np.array_equal(sampler.pool, expected)
    # the old rule (lowest kit id) gives a different pool under this order
    _, old = np.unique(nb201.space_table().iso_key, return_index=True)
    assert not np.array_equal(sampler.pool, np.sort(old[conv[old]]))
    # mini benchmark: official index = kit id
    assert np.array_equal(make_sampler("deiso", 0).pool, np.sort(old[conv[old]]))


# ---- 2. class-mean ground truth -------------------------------------------------------------------

def test_study_truth_is_the_class_mean(monkeypatch):
    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    archs = [DEAD_A, OTHER, DEAD_B]
    frame = pd.DataFrame({"index": [4, 9, 11], "arch_str": [nb201.format_arch(a) for a in archs],
                          "fmnist_test_acc_mean": [90.0, 70.0, 80.0]})
    frame["iso_class"] = nb201.iso_classes_for(np.array(archs))
    frame["iso_representative"] = nb201.class_representatives(_kit(*archs), frame["index"])
    import nas_core.data.groundtruth as gt

    monkeypatch.setattr(gt, "load_ground_truth", lambda *a, **k: frame)  # what the mini benchmark reads
    s = study_mod.Study("smoke")
    assert s.truth.to_dict() == {4: 85.0, 9: 70.0, 11: 85.0}  # (90 + 80) / 2 for the class of 4 and 11
    assert "mean" in s.config()["ground_truth_of_a_class"]


# ---- 3. scoring --------------------------------------------------------------------------------------

def test_paper_scoring_uses_the_derive_batch():
    p, data = protocol("supernet", "paper"), protocol("data", "paper")
    heldout = int(round(50_000 * (1 - data.train_fraction)))  # CIFAR-10's 50k training images, 80/20
    assert p.score_batch_size == p.batch_size == 512
    assert p.score_batches == 19 == heldout // 512


@needs_fmnist
def test_supernet_proxies_dropout_off_and_epoch0_is_the_init(tmp_path):
    # lr 0: the one training epoch moves no parameter, so checkpoint 1 holds the initial weights
    proto = replace(TINY, lr=0.0, dropout=0.5, seed=3)
    run = supernet_train.train_supernet(proto, tmp_path / "run", "fmnist", None, "cpu", TINY_DATA, progress=False)
    saved = torch.load(supernet_train.checkpoint_path(run, 1), weights_only=False)["model"]
    make0, tag0 = supernet_score.arch_network_factory(run, 0)
    init = make0(OTHER, seed=123).supernet
    params = dict(init.named_parameters())
    assert params and all(torch.equal(p, saved[k]) for k, p in params.items())
    make1, tag1 = supernet_score.arch_network_factory(run, 1)
    assert tag0 != tag1
    # dropout off whatever mode the proxies set: train-mode forwards repeat exactly and equal scoring mode
    net = make1(OTHER, seed=0)
    net.train()
    x = torch.randn(8, 1, 16, 16)
    torch.manual_seed(0)
    out1 = net(x)
    out2 = net(x)
    assert torch.equal(out1, out2)
    ref, _ = supernet_train.load_checkpoint(run, 1)
    ref.scoring_mode()
    assert torch.allclose(out1, ref(x, OTHER))
    # while with dropout on (the training network), two forwards differ
    ref.train()
    assert not torch.equal(ref(x, OTHER), ref(x, OTHER))


# ---- 4. the pruning control ------------------------------------------------------------------------

def test_pruning_compares_with_the_unpruned_supernet_at_the_same_epoch(monkeypatch):
    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    s = study_mod.Study("smoke")
    idx = s.truth_frame["index"].to_numpy()[:8]
    s.__dict__["eval_indices"] = idx
    s.plan = replace(s.plan, prune_fractions=(0.5,), prune_at=None)
    truth = s.truth.reindex(idx).to_numpy()
    main, pruned_run = Path("main-run"), Path("pruned-run")
    calls = {}

    def os_scores(sampler="iso", seed=0, affine=False, indices=None, epochs=None, run=None):
        indices = np.asarray(indices)
        (epoch,) = epochs
        t = s.truth.reindex(indices).to_numpy()
        if run == main and epoch == 30:      # decision checkpoint P (the middle one): top half by truth
            acc = t
        elif run == main and epoch == 40:    # unpruned at E: reversed ranking, acc 50 + rank
            acc = 50.0 + stats.rankdata(-t)
        elif run == pruned_run:              # fine-tuned: right ranking, acc 60 + rank
            acc = 60.0 + stats.rankdata(t)
        else:
            raise AssertionError(f"scored {run} at epoch {epoch}")
        calls.setdefault((str(run), epoch), set()).update(indices.tolist())
        return pd.DataFrame({"index": indices, "arch_str": s.arch_strs(indices), "epoch": epoch, "batch": 0,
                             "os_acc": acc, "os_loss": -acc})

    def finetune(run, epoch, keep_indices, arch_strs, epochs, **kw):
        calls["finetune"] = (run, epoch, sorted(keep_indices), epochs)
        return pruned_run

    monkeypatch.setattr(s, "os_run", lambda *a, **k: main)
    monkeypatch.setattr(s, "checkpoints", lambda run: [10, 20, 30, 40] if run == main else [10])
    monkeypatch.setattr(s, "os_scores", os_scores)
    monkeypatch.setattr(supernet_train, "finetune_pruned", finetune)
    out = rq3.pruning(s).set_index("stage")

    keep = sorted(idx[np.argsort(-truth)[:4]].tolist())
    assert calls["finetune"] == (main, 30, keep, 10)  # from P = 30 up to E = 40
    assert set(out["epoch"]) == {40} and set(out["prune_epoch"]) == {30}
    assert out.loc["before", "kendall_tau_b"] == pytest.approx(-1.0)
    assert out.loc["after", "kendall_tau_b"] == pytest.approx(1.0)
    assert out.loc["after", "delta_tau"] == pytest.approx(2.0)
    # mean OS acc on the kept 4 only: 50 + mean rank 2.5 vs 60 + 2.5
    assert out.loc["before", "mean_os_acc"] == pytest.approx(52.5)
    assert out.loc["after", "delta_mean_os_acc"] == pytest.approx(10.0)
    assert calls[("pruned-run", 10)] == set(keep) and calls[("main-run", 40)] >= set(keep)


# ---- 5. no-op mutation pairs ---------------------------------------------------------------------

def test_op_bias_excludes_isomorphic_pairs():
    # DEAD_A -> DEAD_B (none -> nor_conv_1x1 on edge 0) is a no-op; DEAD_A -> OTHER is a real mutation
    assert nb201.canonical_string(DEAD_A) == nb201.canonical_string(DEAD_B) != nb201.canonical_string(OTHER)
    kit = _kit(DEAD_A, DEAD_B, OTHER)
    score = np.array([1.0, 2.0, 3.0])  # would count DEAD_A -> DEAD_B as "estimate up"
    truth = np.array([1.0, 1.0, 2.0])
    out = mutation_bias(kit, score, truth).set_index(["from_op", "to_op"])
    assert out.attrs["n_isomorphic_excluded"] == 2  # both directions of the one no-op pair
    noop = out.loc[("none", "nor_conv_1x1")]
    assert noop["n_pairs"] == 0 and noop["n_isomorphic_excluded"] == 1 and np.isnan(noop["bias"])
    real = out.loc[("nor_conv_3x3", "nor_conv_1x1")]  # DEAD_A -> OTHER
    assert real["n_pairs"] == 1 and real["n_isomorphic_excluded"] == 0
    assert real["p_estimate_up"] == 1.0 and real["p_truth_up"] == 1.0
    assert int(out["n_pairs"].sum()) == 2  # A <-> OTHER; B and OTHER are two mutations apart


# ---- 7. the headline estimator --------------------------------------------------------------------

def test_headline_estimator_is_the_seed_mean_with_its_spread(monkeypatch):
    monkeypatch.delenv("NAS_CORE_DATA", raising=False)
    s = study_mod.Study("smoke")
    idx = s.truth_frame["index"].to_numpy()[:6]
    truth = s.truth.reindex(idx).to_numpy()
    rng = np.random.default_rng(1)
    per_seed = pd.concat([pd.DataFrame({"index": idx, "arch_str": s.arch_strs(idx), "epoch": 3, "batch": b,
                                        "os_acc": rng.normal(size=6), "os_loss": rng.normal(size=6), "seed": seed})
                          for seed in (0, 1) for b in (0, 1)], ignore_index=True)
    tidy = s.headline_tidy(per_seed)
    table = s.os_table(tidy).set_index("index")
    by_hand = per_seed.groupby("index")["os_acc"].mean()  # balanced: mean of per-seed means
    assert np.allclose(table["os_acc"].reindex(idx), by_hand.reindex(idx))
    crit = s.headline_criteria(per_seed)
    spread = s.seed_spread(crit)
    row = spread[(spread["estimator"] == "os_acc") & (spread["criterion"] == "kendall_tau_b") & spread["k"].isna()]
    taus = [stats.kendalltau(per_seed[per_seed["seed"] == sd].groupby("index")["os_acc"].mean().reindex(idx),
                             truth).statistic for sd in (0, 1)]
    assert row["mean"].iloc[0] == pytest.approx(np.mean(taus))
    assert row["min"].iloc[0] == pytest.approx(min(taus)) and row["max"].iloc[0] == pytest.approx(max(taus))
    assert row["n"].iloc[0] == 2
