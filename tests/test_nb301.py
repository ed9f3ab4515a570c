"""NAS-Bench-301 (DARTS space): space, closed-form size, network, supernet, sampler, ground truth.

Independent references used here: brute-force enumeration through the validator (neighbours),
scipy's chi-square test (sampling), parameter counts of the built modules and a hook-based FLOP
counter written out below (closed forms), DARTS' published size of its DARTS_V2 cell (3.349342 M
parameters at C=36, 20 cells, as its training log prints it), the model_parameters of the
training-result file in NAS-Bench-301's own repository test data (6,369,358 at C=50, 20 cells,
auxiliary head), and the NB301 sample's params/flops columns (with NAS_CORE_DATA).
"""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from torch import nn

from nas_core.data.nb301_truth import genotype_from_config, load_nb301_truth
from nas_core.errors import BadData, BadParameter, DataNotFound
from nas_core.nets.darts import DartsNetwork, init_seeded
from nas_core.nets.darts_ops import AuxiliaryHead, FactorizedReduce
from nas_core.nets.darts_supernet import DartsSupernet, copy_into_standalone_darts
from nas_core.nets.network import count_parameters
from nas_core.nets.supernet import SupernetArch
from nas_core.samplers_nb301 import UniformDartsSampler
from nas_core.space import nb301
from nas_core.space.nb301_cost import aux_head_cost, params_flops

FIXTURE = Path(__file__).parent / "fixtures" / "nb301_official_made_up"
DARTS_V2 = ([("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
             ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
            [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
             ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)])


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# ----------------------------------------------------------------------------- space

def test_parse_format_round_trip():
    for arch in nb301.sample(50, 1):
        s = nb301.format_arch(arch)
        assert nb301.parse(s) == arch and nb301.format_arch(nb301.parse(s)) == s
        normal, reduce = s.split("|")
        assert nb301.from_genotypes(normal, reduce) == arch
        assert nb301.from_flat(nb301.to_flat(arch)) == arch and len(nb301.to_flat(arch)) == 32
    assert nb301.format_arch(nb301.parse(nb301.EXAMPLE)) == nb301.EXAMPLE
    assert nb301.parse(nb301.EXAMPLE) == nb301.canonical(DARTS_V2)


@pytest.mark.parametrize("text, match", [
    ("sep_conv_3x3~0;sep_conv_3x3~1", "expected a normal and a reduce"),
    (nb301.EXAMPLE.replace(";dil_conv_3x3~2|", "|"), "expected 8 pairs, got 7"),
    (nb301.EXAMPLE.replace("dil_conv_3x3~2", "conv_7x7~2"), "unknown op 'conv_7x7'"),
    (nb301.EXAMPLE.replace("dil_conv_3x3~2", "dil_conv_3x3~5"), "node 3 may only read inputs 0..4"),
    ("sep_conv_3x3~0;sep_conv_3x3~2" + nb301.EXAMPLE[len("sep_conv_3x3~0;sep_conv_3x3~1"):],
     "node 0 may only read inputs 0..1"),
    (nb301.EXAMPLE.replace("skip_connect~0;dil_conv_3x3~2", "skip_connect~2;dil_conv_3x3~2"), "reads input 2 twice"),
    (nb301.EXAMPLE.replace("dil_conv_3x3~2", "dil_conv_3x3"), "is not 'op~input'"),
])
def test_parse_errors(text, match):
    with pytest.raises(BadParameter, match=match) as info:
        nb301.parse(text)
    if "unknown op" in match:
        assert "max_pool_3x3, avg_pool_3x3" in info.value.message()


def test_canonical_ignores_pair_order_within_a_node():
    arch = nb301.sample(1, 2)[0]
    swapped = tuple(tuple(p for k in range(4) for p in reversed(cell[2 * k:2 * k + 2])) for cell in arch)
    assert swapped != arch and not nb301.is_canonical(swapped)
    assert nb301.canonical(swapped) == arch and nb301.is_canonical(arch)
    assert nb301.parse(nb301.format_arch(swapped)) == arch


def test_sample_is_seeded_canonical_and_uniform():
    archs = nb301.sample(2000, 7)
    assert archs == nb301.sample(2000, 7) and archs != nb301.sample(2000, 8)
    assert all(nb301.is_canonical(a) for a in archs)
    ops = np.array([op for a in archs for cell in a for op, _ in cell])
    assert stats.chisquare(np.bincount(ops, minlength=7)).pvalue > 1e-3
    # node 3 (last) reads an unordered pair of distinct inputs among 0..4: 10 choices, uniform
    pairs = [tuple(sorted(inp for _, inp in a[0][6:8])) for a in archs]
    counts = pd.Series(pairs).value_counts()
    assert len(counts) == 10 and stats.chisquare(counts.to_numpy()).pvalue > 1e-3


def _brute_force_neighbours(arch):
    """Every (cell, pair) whose op or whose input is replaced by any value the validator accepts."""
    out = set()
    for c in range(2):
        for i in range(8):
            for op in range(7):
                for inp in range(6):
                    if op != arch[c][i][0] and inp != arch[c][i][1]:
                        continue  # both changed: two mutations
                    cells = [list(arch[0]), list(arch[1])]
                    cells[c][i] = (op, inp)
                    try:
                        cand = nb301.canonical(cells)
                    except BadParameter:
                        continue
                    if cand != arch:
                        out.add(cand)
    return out


def test_neighbours_match_brute_force_and_mutation_kind():
    for arch in nb301.sample(3, 3):
        nbrs = nb301.neighbours(arch)
        assert len(nbrs) == 120 == len(set(nbrs))
        assert set(nbrs) == _brute_force_neighbours(arch)
        kinds = pd.Series([nb301.mutation_kind(arch, b) for b in nbrs]).value_counts()
        assert kinds.to_dict() == {"op": 96, "input": 24}
        assert all(nb301.mutation_kind(b, arch) == nb301.mutation_kind(arch, b) for b in nbrs[:10])
    a = nb301.canonical(DARTS_V2)
    assert nb301.mutation_kind(a, a) is None
    two = nb301.neighbours(nb301.neighbours(a)[0])
    assert any(nb301.mutation_kind(a, b) is None for b in two if b != a)
    # swapping the ops of a node's two pairs is two changes, not one
    normal = list(a[0])
    normal[4], normal[5] = (normal[5][0], normal[4][1]), (normal[4][0], normal[5][1])
    assert nb301.mutation_kind(a, (tuple(normal), a[1])) is None


def test_features_by_hand():
    frame = nb301.features([DARTS_V2])
    row = frame.iloc[0]
    assert row["normal_sep_conv_3x3"] == 5 and row["normal_skip_connect"] == 2 and row["normal_dil_conv_3x3"] == 1
    assert row["reduce_max_pool_3x3"] == 5 and row["reduce_skip_connect"] == 3
    assert row["normal_input_pairs"] == 7 and row["reduce_input_pairs"] == 5
    assert row["normal_depth"] == 2 and row["reduce_depth"] == 2
    chain = [(3, 0), (3, 1), (3, 2), (3, 0), (3, 3), (3, 0), (3, 4), (3, 0)]
    assert nb301.cell_depth(chain) == 4 and nb301.cell_depth(nb301.canonical(DARTS_V2)[0]) == 2
    archs = nb301.sample(5, 0)
    f = nb301.features(archs)
    assert len(f) == 5 and (f[[f"normal_{o}" for o in nb301.OPS]].sum(axis=1) == 8).all()
    np.testing.assert_array_equal(f["params_M"], params_flops(archs)[0])


# ----------------------------------------------------------------------------- closed-form size

def _hook_flops(net, x, rule):
    """FLOPs of one forward, counted module by module with the rules of nb301_cost's docstring."""
    total = [0]

    def hook(m, inputs, out):
        i = inputs[0]
        if isinstance(m, nn.Conv2d):
            total[0] += out[0].numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features
        elif rule == "macs":
            return
        elif isinstance(m, nn.BatchNorm2d):
            total[0] += i[0].numel() * (2 if m.affine else 1)
        elif isinstance(m, nn.ReLU):
            total[0] += i[0].numel()
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            total[0] += out[0].numel() * m.kernel_size ** 2
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            total[0] += i.shape[1] * (i.shape[2] + 1) * (i.shape[3] + 1)

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    net.eval()
    with torch.no_grad():
        net(x[:1])
    for h in handles:
        h.remove()
    return total[0]


def _pool_outputs(net, x):
    n = [0]
    handles = [m.register_forward_hook(lambda m, i, o: n.__setitem__(0, n[0] + o[0].numel()))
               for m in net.modules() if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    with torch.no_grad():
        net.eval()(x[:1])
    for h in handles:
        h.remove()
    return n[0]


@pytest.mark.parametrize("C, layers, resolution", [(16, 8, 32), (8, 5, 15)])
def test_closed_form_matches_the_built_network(C, layers, resolution):
    x = torch.randn(1, 3, resolution, resolution)
    for k, arch in enumerate(nb301.sample(4, 11)):
        affine = bool(k % 2)
        net = DartsNetwork(arch, C=C, layers=layers, affine=affine)
        kw = dict(C=C, layers=layers, resolution=resolution, affine=affine, preprocess_affine=affine)
        for rule in ("sample", "macs"):
            p, f = params_flops([arch], pool_bn=False, rule=rule, **kw)
            assert round(p[0] * 1e6) == count_parameters(net)
            assert round(f[0] * 1e6) == _hook_flops(net, x, rule)
        # the sample's network: a non-affine BN after every pool (no params, 1 FLOP per element)
        p_bn, f_bn = params_flops([arch], pool_bn=True, **kw)
        p, f = params_flops([arch], pool_bn=False, **kw)
        assert p_bn[0] == p[0] and round((f_bn[0] - f[0]) * 1e6) == _pool_outputs(net, x)


def test_closed_form_matches_published_sizes():
    darts_v2 = nb301.canonical(DARTS_V2)
    p, _ = params_flops([darts_v2], C=36, layers=20, affine=True, preprocess_affine=True)
    assert round(p[0] * 1e6) == 3_349_342  # DARTS' log: "param size = 3.349342MB" (no auxiliary head)
    # NAS-Bench-301's repository test file results_0.json: C=50, 20 cells, auxiliary head
    normal = [("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 1),
              ("dil_conv_3x3", 0), ("dil_conv_5x5", 2), ("sep_conv_3x3", 1), ("skip_connect", 2)]
    reduce = [("max_pool_3x3", 0), ("avg_pool_3x3", 1), ("skip_connect", 0), ("dil_conv_5x5", 1),
              ("sep_conv_3x3", 1), ("sep_conv_5x5", 2), ("sep_conv_3x3", 2), ("dil_conv_3x3", 3)]
    p, _ = params_flops([nb301.canonical((normal, reduce))], C=50, layers=20, affine=True, auxiliary=True)
    assert round(p[0] * 1e6) == 6_369_358


def test_aux_head_closed_form():
    head = AuxiliaryHead(256, 10)
    p, f = aux_head_cost(256, 8, 10)
    assert p == count_parameters(head)
    assert f == _hook_flops(head, torch.randn(1, 256, 8, 8), "sample")
    with pytest.raises(BadParameter, match="8x8"):
        aux_head_cost(256, 16, 10)


def test_closed_form_rejects_bad_arguments():
    with pytest.raises(BadParameter, match="FLOP rule"):
        params_flops([DARTS_V2], rule="thop")
    with pytest.raises(BadParameter, match="even C"):
        params_flops([DARTS_V2], C=15)


def test_sample_params_and_flops_reproduced(data_root):
    raw = pd.read_csv(data_root / "nasbench301" / "nb301_ground_truth_sample.csv")
    archs = [nb301.from_genotypes(n, r) for n, r in zip(raw["normal_genotype"], raw["reduce_genotype"])]
    p, f = params_flops(archs)
    dp, df = np.abs(p - raw["params"]), np.abs(f - raw["flops"])
    # every one of the rows agrees exactly (the columns are integers / 1e6 printed in full)
    assert dp.max() < 1e-9 and df.max() < 1e-9, (dp.max(), df.max())
    for arch, params in zip(archs[:2], raw["params"][:2]):
        net = DartsNetwork(arch, C=32, affine=False, preprocess_affine=True)
        assert count_parameters(net) == round(params * 1e6)


# ----------------------------------------------------------------------------- network

def test_network_shapes_reductions_and_seeded_init():
    arch = nb301.sample(1, 5)[0]
    net = DartsNetwork(arch, C=8)
    shapes = []
    handles = [cell.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:]))) for cell in net.cells]
    y = net(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 10)
    assert shapes == [(32, 32, 32)] * 2 + [(64, 16, 16)] * 3 + [(128, 8, 8)] * 3
    assert [c.reduction for c in net.cells] == [False, False, True, False, False, True, False, False]
    for h in handles:
        h.remove()
    state = torch.random.get_rng_state()
    a, b = init_seeded(arch, 3, C=8), init_seeded(arch, 3, C=8)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = init_seeded(arch, 4, C=8)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert DartsNetwork(nb301.format_arch(arch), C=8).arch == arch


def test_relus_are_modules_and_run():
    net = DartsNetwork(nb301.canonical(DARTS_V2), C=8, layers=3)
    ran = []
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(lambda m, i, o: ran.append(m))
    net(torch.randn(2, 3, 16, 16))
    # 3 cells: normal, reduce, reduce. Each preprocessing has one ReLU (2 per cell). Normal ops:
    # 5 sep_conv x 2 + 1 dil_conv = 11; the reduce cell's skips read node 2 (identity), pools none.
    assert len(ran) == (2 + 11) + 2 + 2


def test_factorized_reduce_matches_the_shifted_slice():
    torch.manual_seed(0)
    fr = FactorizedReduce(6, 8).eval()
    x = torch.randn(2, 6, 10, 10)
    r = torch.relu(x)
    ref = fr.bn(torch.cat([fr.conv_1(r), fr.conv_2(r[:, :, 1:, 1:])], dim=1))
    assert torch.allclose(fr(x), ref)
    assert fr(torch.randn(1, 6, 9, 9)).shape == (1, 8, 5, 5)


# ----------------------------------------------------------------------------- supernet

def test_supernet_layout_and_used_parameters():
    torch.manual_seed(0)
    sn = DartsSupernet(C=4, layers=5)
    assert all(len(cell.edges) == 14 and all(len(e.ops) == 7 for e in cell.edges) for cell in sn.cells)
    assert not any(m.affine for cell in sn.cells for m in cell.modules() if isinstance(m, nn.BatchNorm2d))
    x = torch.randn(4, 3, 16, 16)
    for arch in nb301.sample(3, 9):
        sn.zero_grad(set_to_none=True)
        sn.train()
        sn(x, arch).logsumexp(1).sum().backward()
        used = sn.used_parameters(arch)
        assert len({id(p) for p in used}) == len(used)
        with_grad = {id(p) for p in sn.parameters() if p.grad is not None}
        assert {id(p) for p in used} == with_grad


@pytest.mark.parametrize("affine", [False, True])
def test_supernet_equals_standalone_with_copied_weights(affine):
    torch.manual_seed(1)
    sn = DartsSupernet(C=4, layers=8, affine=affine, dropout=0.1).scoring_mode()
    assert sn.training and not sn.dropout.training
    x = torch.randn(4, 3, 32, 32)
    for arch in nb301.sample(2, 4):
        net = DartsNetwork(arch, C=4, layers=8, affine=affine).train()
        copy_into_standalone_darts(sn, arch, net)
        with torch.no_grad():
            out = sn(x, arch)
            assert torch.allclose(out, net(x), atol=1e-6)
            # the kit's SupernetArch calls int() on each element: give it the flat code
            assert torch.allclose(out, SupernetArch(sn, nb301.to_flat(arch))(x), atol=1e-6)


# ----------------------------------------------------------------------------- sampler

def test_sampler_resumes_exactly_and_respects_pool():
    s = UniformDartsSampler(5)
    [s.step() for _ in range(3)]
    state = s.state_dict()
    after = [s.step() for _ in range(4)]
    s2 = UniformDartsSampler(99)
    s2.load_state_dict(state)
    assert [s2.step() for _ in range(4)] == after
    assert all(len(step) == 1 and nb301.is_canonical(step[0]) for step in after)
    pool = nb301.sample(3, 0)
    drawn = {a for _ in range(60) for a in UniformDartsSampler(1, pool=pool).step()}
    assert drawn <= set(pool)
    drawn = {UniformDartsSampler(1, pool=pool).step()[0] for _ in range(2)}
    assert len(drawn) == 1
    with pytest.raises(BadParameter, match="empty"):
        UniformDartsSampler(0, pool=[])


# ----------------------------------------------------------------------------- ground truth

EXPECTED_A = ("sep_conv_3x3~0;skip_connect~1;dil_conv_3x3~0;max_pool_3x3~2;avg_pool_3x3~1;sep_conv_5x5~3;"
              "dil_conv_5x5~2;skip_connect~4|max_pool_3x3~0;avg_pool_3x3~1;skip_connect~0;sep_conv_3x3~1;"
              "sep_conv_5x5~0;dil_conv_3x3~3;max_pool_3x3~1;skip_connect~3")


def test_official_json_reader_on_made_up_fixture(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "nasbench301" / "nb_301_v13_lc_iclr_final")
    frame = load_nb301_truth(tmp_path)
    assert list(frame.columns) == ["index", "arch_str", "val_acc", "params_M", "flops_M", "source"]
    assert frame.attrs["n_rows_read"] == 3 and frame.attrs["n_merged"] == 1 and len(frame) == 2
    assert (frame["source"] == "official").all() and list(frame["index"]) == [0, 1]
    by_arch = frame.set_index("arch_str")["val_acc"]
    # files in path order: re/results_1 (A, 91.0), rs/results_0 (A, 93.0), rs/results_2 (DARTS_V2, 94.5)
    assert frame["arch_str"].iloc[0] == EXPECTED_A and by_arch[EXPECTED_A] == pytest.approx(92.0)
    assert by_arch[nb301.EXAMPLE] == pytest.approx(94.5)
    p, f = params_flops([nb301.parse(EXPECTED_A)])
    assert frame["params_M"].iloc[0] == p[0] and frame["flops_M"].iloc[0] == f[0]
    assert load_nb301_truth(tmp_path).equals(frame)  # second read comes from the cache


def test_official_config_errors():
    config = {"NetworkSelectorDatasetInfo:darts:edge_normal_0": "sep_conv_3x3"}
    with pytest.raises(BadData, match="lacks"):
        genotype_from_config(config, "x.json")


def test_user_table_and_source_order(tmp_path):
    folder = tmp_path / "nasbench301"
    folder.mkdir()
    archs = nb301.sample(3, 2)
    strings = [nb301.format_arch(a) for a in archs]
    pd.DataFrame({"arch_str": strings + [strings[0]], "val_accuracy": [90.0, 91.0, 92.0, 94.0]}).to_csv(
        folder / "nb301_user_truth.csv", index=False)
    frame = load_nb301_truth(tmp_path)
    assert frame.attrs["source"] == "user" and frame.attrs["n_merged"] == 1
    assert list(frame["val_acc"]) == [92.0, 91.0, 92.0] and list(frame["arch_str"]) == strings
    np.testing.assert_allclose(frame["params_M"], params_flops(archs)[0])
    shutil.copytree(FIXTURE, folder / "official")
    assert load_nb301_truth(tmp_path).attrs["source"] == "user"
    assert load_nb301_truth(tmp_path, source="official").attrs["source"] == "official"
    pd.DataFrame({"normal_genotype": [s.split("|")[0] for s in strings],
                  "reduce_genotype": [s.split("|")[1] for s in strings],
                  "val_accuracy": [0.9, 0.91, 0.92]}).to_csv(folder / "nb301_user_truth.csv", index=False)
    with pytest.raises(BadData, match="percent"):
        load_nb301_truth(tmp_path)
    pd.DataFrame({"arch_str": ["max_pool_3x3~0"], "val_accuracy": [90.0]}).to_csv(
        folder / "nb301_user_truth.csv", index=False)
    with pytest.raises(BadData, match="data row 1"):
        load_nb301_truth(tmp_path)


def test_missing_truth_says_where_and_how(tmp_path):
    with pytest.raises(DataNotFound) as info:
        load_nb301_truth(tmp_path)
    assert "nb301_ground_truth_sample.csv" in info.value.message() and str(tmp_path) in info.value.message()
    with pytest.raises(BadParameter):
        load_nb301_truth(tmp_path, source="surrogate")


def test_sample_truth_counts(data_root):
    frame = load_nb301_truth(data_root)
    raw = pd.read_csv(data_root / "nasbench301" / "nb301_ground_truth_sample.csv")
    n_unique = len({nb301.format_arch(nb301.from_genotypes(n, r))
                    for n, r in zip(raw["normal_genotype"], raw["reduce_genotype"])})
    assert frame.attrs["source"] == "sample"
    assert frame.attrs["n_rows_read"] == len(raw) == 1218
    assert frame.attrs["n_merged"] == len(raw) - n_unique == 0
    assert len(frame) == n_unique and frame["val_acc"].between(0, 100).all()
    assert frame["arch_str"].map(lambda s: nb301.is_canonical(nb301.parse(s))).all()
