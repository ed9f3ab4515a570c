"""NDS ResNet / ResNeXt-A: design spaces, architecture strings, CIFAR networks and their
#params/#FLOPs, the JSON ground-truth reader (on the made-up fixture in tests/fixtures/nds)."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nas_core.data.nds_truth import load_nds_truth
from nas_core.errors import BadData, BadParameter, DataNotFound
from nas_core.nets.nds import NDSNetwork, init_seeded
from nas_core.space import nds

FIXTURE = Path(__file__).parent / "fixtures" / "nds"


# ---- design spaces and strings ------------------------------------------------------------------

def test_space_sizes():
    assert nds.get_space("resnet").size == (9 * 12) ** 3 == 1_259_712
    assert nds.get_space("ResNeXt-A").size == (5 * 5 * 3 * 3) ** 3 == 11_390_625


def test_parse_format_round_trip():
    for space in ("resnet", "resnexta"):
        for arch in nds.sample(space, 20, seed=0):
            assert nds.parse(nds.format_arch(arch)) == arch
    a = nds.parse("resnexta:ds=1,2,4;ws=16,32,64;bms=0.25,0.5,1.0;gs=1,2,4")
    assert str(a) == "resnexta:ds=1,2,4;ws=16,32,64;bms=0.25,0.5,1;gs=1,2,4"


@pytest.mark.parametrize("bad, message", [
    ("resnet ds=1,2,3;ws=16,24,32", "expected '<space>:"),
    ("vgg:ds=1,2,3;ws=16,24,32", "unknown NDS design space 'vgg'"),
    ("resnet:ds=1,2,3", "lacks ws"),
    ("resnet:ds=1,2;ws=16,24,32", "one value per stage"),
    ("resnet:ds=1,2,5;ws=16,24,32", "ds\\[2\\] = 5 is not a choice"),
    ("resnet:ds=1,2,3;ws=16,24,33", "ws\\[2\\] = 33"),
    ("resnexta:ds=1,2,4;ws=16,32,64;bms=0.3,0.5,1;gs=1,2,4", "bms\\[0\\] = 0.3"),
    ("resnexta:ds=1,2,4;ws=16,32,64;bms=0.25,0.5,1;gs=1,2,8", "gs\\[2\\] = 8"),
    ("resnexta:ds=1,2,4;ws=16,32,64", "lacks bms, gs"),
    ("resnet:ds=1,2,3;ws=16,24,32;depth=3", "malformed part"),
    ("resnet:ds=1,2,3;ds=1,2,3;ws=16,24,32", "gives ds twice"),
])
def test_malformed_arch_strings_give_one_clear_message(bad, message):
    with pytest.raises(BadParameter, match=message) as err:
        nds.parse(bad)
    assert err.value.fix


def test_resnet_has_no_bottleneck_choices():
    with pytest.raises(BadParameter, match="no bottleneck"):
        nds.make_arch("resnet", (1, 2, 3), (16, 24, 32), bms=(1, 1, 1), gs=(1, 1, 1))


def test_sampling_is_seeded_uniform_and_distinct():
    a = nds.sample("resnet", 300, seed=4)
    assert a == nds.sample("resnet", 300, seed=4) and len(set(a)) == 300
    depths = np.array([x.ds for x in a]).ravel()
    counts = np.array([np.sum(depths == d) for d in nds.get_space("resnet").depths])
    assert counts.min() > 0.5 * counts.mean()  # 900 draws over 9 values: each near 100


def test_neighbours_change_exactly_one_value():
    for space, n in (("resnet", 57), ("resnexta", 36)):
        arch = nds.sample(space, 1, seed=9)[0]
        nbrs = nds.neighbours(arch)
        assert len(nbrs) == len(set(nbrs)) == n and arch not in nbrs
        for b in nbrs:
            diff = sum(x != y for f in ("ds", "ws", "bms", "gs") for x, y in zip(getattr(arch, f), getattr(b, f)))
            assert diff == 1
            nds.make_arch(b.space, b.ds, b.ws, b.bms, b.gs)  # valid


# ---- networks and complexity --------------------------------------------------------------------

def test_resnet56_shape_has_the_classic_size():
    # depths 9/9/9, widths 16/32/64 (ResNet-56, with projection shortcuts): the NDS paper's
    # complexity cap for CIFAR, 0.856 M params / 0.129 GFLOPs, sits just above it
    arch = nds.NDSArch("resnet", (9, 9, 9), (16, 32, 64))
    p, f = nds.params_flops(arch)
    # hand count: stem 3*9*16+32; stage 1: 9 blocks 2*(9*16*16+32); stage 2: first block
    # 9*16*32+64 + 9*32*32+64 + proj 16*32+64, then 8 blocks 2*(9*32*32+64); stage 3 likewise;
    # classifier 64*10+10
    s1 = 9 * 2 * (9 * 16 * 16 + 32)
    s2 = (9 * 16 * 32 + 64) + (9 * 32 * 32 + 64) + (16 * 32 + 64) + 8 * 2 * (9 * 32 * 32 + 64)
    s3 = (9 * 32 * 64 + 128) + (9 * 64 * 64 + 128) + (32 * 64 + 128) + 8 * 2 * (9 * 64 * 64 + 128)
    assert p == 3 * 9 * 16 + 32 + s1 + s2 + s3 + 650 == 855_770
    assert 0.125e9 < f < 0.129e9


def _counted(net: nn.Module) -> tuple[int, int]:
    flops = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            flops[0] += mod.weight.numel() * out.shape[2] * out.shape[3]
        elif isinstance(mod, nn.Linear):
            flops[0] += mod.in_features * mod.out_features + mod.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    return sum(p.numel() for p in net.parameters()), flops[0]


def test_fixture_params_flops_equal_the_analytic_counter():
    for name in ("ResNet_rng1.json", "ResNeXt-A.json"):
        space = "resnet" if name.startswith("ResNet") else "resnexta"
        for e in json.loads((FIXTURE / name).read_text()):
            arch = nds.from_net_config(space, e["net"])
            assert nds.params_flops(arch) == (e["params"], e["flops"])


def test_small_networks_counted_by_hooks_equal_the_analytic_counter():
    archs = [nds.make_arch("resnet", (1, 2, 1), (24, 16, 32)), nds.make_arch("resnet", (2, 1, 1), (16, 16, 16)),
             nds.make_arch("resnexta", (1, 2, 1), (16, 32, 16), (0.25, 1, 0.5), (4, 2, 1))]
    for arch in archs:
        assert _counted(NDSNetwork(arch)) == nds.params_flops(arch)


def test_forward_backward_and_bn_affine_off():
    arch = nds.make_arch("resnexta", (1, 1, 2), (32, 16, 64), (0.5, 0.25, 1), (2, 4, 1))
    net = init_seeded(arch, 0)
    x = torch.randn(3, 3, 32, 32, requires_grad=True)
    net(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    grouped = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert sorted(m.groups for m in grouped) == [2, 4]
    plain = NDSNetwork(arch, bn_affine=False)
    bn_params = sum(p.numel() for m in net.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert sum(p.numel() for p in net.parameters()) - sum(p.numel() for p in plain.parameters()) == bn_params


def test_init_seeded_deterministic():
    arch = nds.sample("resnet", 1, seed=0)[0]
    a, b = init_seeded(arch, 3), init_seeded(arch, 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


# ---- ground truth reader ----------------------------------------------------------------------

def test_resnet_truth_averages_the_three_seed_files():
    frame = load_nds_truth("resnet", folder=FIXTURE)
    assert len(frame) == 24 and (frame["n_seeds"] == 3).all()
    runs = [json.loads((FIXTURE / f"ResNet_rng{s}.json").read_text()) for s in (1, 2, 3)]
    # transcription of the protocol: per network, 100 - min_test_top1 averaged over the seeds
    per_arch = {}
    for run in runs:
        for e in run:
            key = str(nds.from_net_config("resnet", e["net"]))
            per_arch.setdefault(key, []).append(100 - e["min_test_top1"])
    expected = [np.mean(per_arch[s]) for s in frame["arch_str"]]
    assert np.allclose(frame["cifar10_test_acc"], expected)
    assert list(frame["arch_str"]) == [str(nds.from_net_config("resnet", e["net"])) for e in runs[0]]
    assert np.allclose(frame["params_M_file"], frame["params_M_cifar10"])
    assert np.allclose(frame["flops_M_file"], frame["flops_M_cifar10"])


def test_resnexta_truth_takes_a_seeded_subset():
    full = load_nds_truth("resnexta", folder=FIXTURE)
    assert len(full) == 36  # fewer than the 5,000 of the protocol: all of them
    a = load_nds_truth("resnexta", folder=FIXTURE, subset=10, seed=1)
    b = load_nds_truth("resnexta", folder=FIXTURE, subset=10, seed=1)
    c = load_nds_truth("resnexta", folder=FIXTURE, subset=10, seed=2)
    assert len(a) == 10 and a.equals(b) and not a["arch_str"].equals(c["arch_str"])
    assert set(a["arch_str"]) <= set(full["arch_str"])
    entries = json.loads((FIXTURE / "ResNeXt-A.json").read_text())
    first = full.iloc[0]
    assert first["cifar10_test_acc"] == pytest.approx(100 - entries[0]["min_test_top1"])
    assert first["cifar10_test_acc_final"] == pytest.approx(100 - entries[0]["test_ep_top1"][-1])


def test_truth_found_under_the_data_root(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "nds" / "nds_data")
    assert len(load_nds_truth("resnet", data_root=tmp_path)) == 24


def _copy(tmp_path, edit=None, name="ResNeXt-A.json"):
    shutil.copytree(FIXTURE, tmp_path / "f")
    if edit is not None:
        path = tmp_path / "f" / name
        data = json.loads(path.read_text())
        path.write_text(json.dumps(edit(data)))
    return tmp_path / "f"


@pytest.mark.parametrize("edit, message", [
    (lambda d: {"top": d}, "non-empty JSON list"),
    (lambda d: [{k: v for k, v in d[0].items() if k != "min_test_top1"}] + d, "entry 0: needs the keys"),
    (lambda d: [{**d[0], "net": {**d[0]["net"], "block_type": "res_basic_block"}}] + d, "file of another design space"),
    (lambda d: [{**d[0], "net": {**d[0]["net"], "ws": [16, 16, 48, 64]}}] + d, "ws\\[1\\] = 48"),
    (lambda d: [{**d[0], "net": {**d[0]["net"], "ds": [1, 2]}}] + d, "net.ds must be a list of 4 values"),
    (lambda d: [{**d[0], "net": {**d[0]["net"], "ss": [1, 2, 2, 2]}}] + d, "stage strides"),
    (lambda d: [{**d[0], "min_test_top1": "x"}] + d, "must be numbers"),
])
def test_malformed_entries_give_one_clear_message(tmp_path, edit, message):
    with pytest.raises(BadData, match=message):
        load_nds_truth("resnexta", folder=_copy(tmp_path, edit))


def test_seed_files_must_train_the_same_networks(tmp_path):
    folder = _copy(tmp_path, lambda d: d[:-1], name="ResNet_rng2.json")
    with pytest.raises(BadData, match="do not train the same networks"):
        load_nds_truth("resnet", folder=folder)
    folder2 = _copy(tmp_path / "b", lambda d: d + d[:1], name="ResNet_rng3.json")
    with pytest.raises(BadData, match="more than once"):
        load_nds_truth("resnet", folder=folder2)


def test_missing_and_damaged_files(tmp_path):
    folder = _copy(tmp_path)
    (folder / "ResNet_rng3.json").unlink()
    with pytest.raises(DataNotFound, match="missing ResNet_rng3.json"):
        load_nds_truth("resnet", folder=folder)
    (folder / "ResNeXt-A.json").write_text('[{"net": ')
    with pytest.raises(BadData, match="not valid JSON"):
        load_nds_truth("resnexta", folder=folder)
    with pytest.raises(DataNotFound, match="no NDS JSON files"):
        load_nds_truth("resnet", data_root=tmp_path)


# ---- supernet and sampler -----------------------------------------------------------------------

SMALL_RESNET = {"ds": (1, 2, 3), "ws": (16, 24, 32)}
SMALL_RESNEXT = {"ds": (1, 2), "ws": (16, 32), "bms": (0.25, 0.5, 1.0), "gs": (1, 2, 4)}


def _supernet_and_archs(space, choices, n=6):
    from nas_core.nets.nds_supernet import NDSSupernet
    from nas_core.space.uniform_sampler import nds_sampler

    torch.manual_seed(0)
    net = NDSSupernet(space, depths=choices["ds"], widths=choices["ws"], bot_muls=choices.get("bms"))
    sampler = nds_sampler(space, seed=1, per_step=n, choices=choices)
    return net, sampler.step()


@pytest.mark.parametrize("space, choices", [("resnet", SMALL_RESNET), ("resnexta", SMALL_RESNEXT)])
def test_supernet_path_equals_the_standalone_network_with_its_weights(space, choices):
    from nas_core.nets.nds_supernet import extract_standalone

    net, archs = _supernet_and_archs(space, choices)
    net.scoring_mode()
    x = torch.randn(4, 3, 32, 32)
    for arch in archs:
        standalone = extract_standalone(net, arch).train()
        assert torch.allclose(net(x, arch), standalone(x), atol=1e-5)
        # the standalone network has exactly the parameters of the arch, BN affine off
        assert sum(p.numel() for p in standalone.parameters()) == nds.params_flops(arch)[0] - sum(
            2 * m.num_features for m in NDSNetwork(arch).modules() if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize("space, choices", [("resnet", SMALL_RESNET), ("resnexta", SMALL_RESNEXT)])
def test_supernet_used_parameters_are_exactly_those_with_gradients(space, choices):
    net, archs = _supernet_and_archs(space, choices, n=4)
    net.scoring_mode()
    x = torch.randn(2, 3, 32, 32)
    for arch in archs:
        net.zero_grad(set_to_none=True)
        net(x, arch).sum().backward()
        with_grad = {id(p) for p in net.parameters() if p.grad is not None}
        assert with_grad == {id(p) for p in net.used_parameters(arch)}


def test_ordinal_slicing_shares_prefixes():
    from nas_core.nets.nds_supernet import NDSSupernet

    net = NDSSupernet("resnexta", depths=(1, 2), widths=(16, 32))
    conv = net.stages[1][0].convs[1]  # the grouped 3x3 of stage 2's first block (max 32 channels)
    w = conv.sliced_weight(8, 8, groups=2)
    assert w.shape == (8, 4, 3, 3)
    assert torch.equal(w[:4], conv.weight[:4, :4]) and torch.equal(w[4:], conv.weight[4:8, 4:8])
    assert torch.equal(conv.sliced_weight(8, 8), conv.weight[:8, :8])
    assert all(not m.affine for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    assert net.dropout.__class__ is nn.Identity
    with pytest.raises(BadParameter, match="larger than this supernet"):
        net(torch.zeros(1, 3, 32, 32), nds.make_arch("resnexta", (4, 1, 1), (16, 16, 16), (1, 1, 1), (1, 1, 1)))
    with pytest.raises(BadParameter, match="cannot run a resnet"):
        net(torch.zeros(1, 3, 32, 32), nds.make_arch("resnet", (1, 1, 1), (16, 16, 16)))


def test_scoring_mode_bn_train_dropout_off():
    from nas_core.nets.nds_supernet import NDSSupernet

    net = NDSSupernet("resnet", depths=(1,), widths=(16,), dropout=0.3).eval().scoring_mode()
    assert net.training and not net.dropout.training


def test_nds_sampler_is_uniform_seeded_and_resumable():
    from nas_core.space.uniform_sampler import nds_sampler

    s = nds_sampler("resnexta", seed=5, per_step=3)
    first = s.step()
    state = s.state_dict()
    nxt = s.step()
    s2 = nds_sampler("resnexta", seed=99)
    s2.per_step = 3
    s2.load_state_dict(state)
    assert s2.step() == nxt and nds_sampler("resnexta", seed=5, per_step=3).step() == first
    draws = [a for _ in range(200) for a in s.step()]
    gs = np.array([a.gs for a in draws]).ravel()
    assert all(abs(np.mean(gs == g) - 1 / 3) < 0.06 for g in (1, 2, 4))
    with pytest.raises(BadParameter, match="bad choice list"):
        nds_sampler("resnet", 0, choices={"ds": (5,)})
