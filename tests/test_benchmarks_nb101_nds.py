"""The nb101, nds_resnet and nds_resnexta benchmark objects (nas_core/benchmarks/nb101.py,
nds.py): the seam's methods on a few hand-written cells, checked against hand-derived values,
the built networks and the samplers' own draws; the NDS smoke run on the made-up fixture."""
import json
from pathlib import Path

import pytest
import torch

from nas_core import benchmarks
from nas_core.benchmarks.base import NotApplicable
from nas_core.errors import BadParameter
from nas_core.protocols.supernet import SupernetProtocol

FIXTURE = Path(__file__).parent / "fixtures" / "nds"
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
# input -> conv3x3 -> output (3 vertices)
A = f"010001000|input,{C3},output"
B = f"010001000|input,{C1},output"          # A with its op changed
C = f"011001000|input,{C3},output"          # A with the input -> output edge added


def _fork(first, second):
    """Vertices 0 input, 1 and 2 op vertices (both fed by the input), 3 output (fed by both):
    swapping the two ops is a renumbering of the same architecture."""
    return f"0110000100010000|input,{first},{second},output"


@pytest.fixture(scope="module")
def nb101():
    return benchmarks.get("nb101")


@pytest.fixture(scope="module")
def resnet():
    return benchmarks.get("nds_resnet")


@pytest.fixture(scope="module")
def resnexta():
    return benchmarks.get("nds_resnexta")


def test_registry_knows_the_new_benchmarks():
    for name in ("nb101", "nds_resnet", "nds_resnexta"):
        assert name in benchmarks.available()
        assert benchmarks.get(name).name == name
        assert benchmarks.resolve_name(name, None) == name


# ---- NAS-Bench-101 --------------------------------------------------------------------------------

def test_nb101_parse_format_round_trip_and_pruning(nb101):
    for s in (A, B, C, _fork(C3, MP)):
        assert nb101.format(nb101.parse(s)) == s
    # a dangling vertex (vertex 2 reaches nothing) is pruned: the string shrinks to the live cell
    dangling = f"0110000100000000|input,{C3},{MP},output"
    assert nb101.format(nb101.parse(dangling)) == A
    with pytest.raises(BadParameter, match="unknown op"):
        nb101.parse("010001000|input,conv5x5,output")


def test_nb101_iso_keys_group_renumbered_cells_and_separate_others(nb101):
    keys = nb101.iso_keys([_fork(C3, C1), _fork(C1, C3), _fork(C3, C3), A])
    assert keys[0] == keys[1]                       # the two op vertices swapped: one architecture
    assert len({keys[0], keys[2], keys[3]}) == 3    # other ops / another graph: different


def test_nb101_params_flops_equal_the_built_network(nb101):
    cells = [A, C, _fork(C3, MP), _fork(C1, C3)]
    for C_, N_ in ((None, None), (16, 1)):
        params, _ = nb101.params_flops(cells, C=C_, N=N_)
        for s, p in zip(cells, params):
            with torch.device("meta"):  # count without allocating the 128-channel weights
                net = nb101.network(nb101.parse(s), seed=0, C=C_, N=N_)
            assert sum(t.numel() for t in net.parameters()) == round(p * 1e6)
    # the 3-vertex cell by hand at C16/N1: stem 3*3*3*16+32, three cells of (1x1 proj C_in->C + 3x3 conv
    # C->C, each with BN 2C), classifier 64*10+10; channels 16 -> 32 -> 64
    def unit(k, a, b):
        return k * k * a * b + 2 * b
    hand = unit(3, 3, 16) + sum(unit(1, a, b) + unit(3, b, b) for a, b in ((16, 16), (16, 32), (32, 64))) + 650
    assert nb101.params_flops([A], C=16, N=1)[0][0] == pytest.approx(hand / 1e6)


def test_nb101_mutation_pairs_hand_case(nb101):
    pairs = nb101.mutation_pairs([A, B, C, _fork(C3, MP)])
    got = {(r.i, r.j, r.from_op, r.to_op, r.kind, bool(r.no_op)) for r in pairs.itertuples()}
    # removing the fork's maxpool -> output edge prunes the maxpool vertex and leaves A; the way
    # back needs an op and two edges, so that pair exists in one direction only
    assert got == {(0, 1, "conv3x3", "conv1x1", "op", False), (1, 0, "conv1x1", "conv3x3", "op", False),
                   (0, 2, "no edge", "edge", "edge", False), (2, 0, "edge", "no edge", "edge", False),
                   (3, 0, "edge", "no edge", "edge", False)}
    # the same architecture listed twice: a mutation that changes nothing (an op on a pruned
    # padding vertex) links the two copies, as a no-op pair
    dup = nb101.mutation_pairs([A, A])
    assert len(dup) == 2 and dup["no_op"].all()


def test_nb101_features_are_the_cells_counts(nb101):
    feats = nb101.features([_fork(C3, MP), C])
    assert feats.loc[0, ["n_conv3x3", "n_conv1x1", "n_maxpool3x3", "n_edges", "depth"]].tolist() == [1, 0, 1, 4, 1]
    assert feats.loc[1, ["n_vertices", "input_to_output", "depth"]].tolist() == [3, 1, 1]
    assert {"params_M", "flops_M", "flops_group"} <= set(feats.columns)


def test_graph_features_are_the_counts(nb101, resnet, resnexta):
    g = nb101.graph_features([_fork(C3, MP), C])
    assert g.loc[0, ["n_conv3x3", "n_conv1x1", "n_maxpool3x3", "depth"]].tolist() == [1, 0, 1, 1]
    assert resnet.graph_features([R3]).iloc[0].to_dict() == {"d1": 8, "d2": 8, "d3": 8, "w1": 64, "w2": 64, "w3": 64,
                                                              "total_depth": 24}
    assert resnexta.graph_features([X0]).loc[0, ["g1", "g2", "g3", "total_depth"]].tolist() == [1, 2, 4, 7]


def test_nb101_oneshot_mask_is_subspace3_membership(nb101):
    # sub-space 3 needs two inputs to the output: A (one input) is outside, C and the fork inside
    assert nb101.oneshot_mask([A, C, _fork(C3, MP)]).tolist() == [False, True, True]


def test_nb101_supernet_scores_a_cell_on_its_canonical_configuration(nb101):
    from nas_core.space.nb1shot1 import embed

    proto = SupernetProtocol(C=4, N=1)
    net = nb101.supernet(proto, channels=3, classes=10).scoring_mode()
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    cell = nb101.parse(_fork(C3, MP))
    with torch.no_grad():
        assert torch.equal(net(x, cell), net(x, embed(cell)))
    with pytest.raises(BadParameter, match="sub-space 3"):
        net(x, nb101.parse(A))


def test_nb101_sampler_resumes_exactly_and_refuses_nb201_samplers(nb101):
    first = nb101.sampler("iso", seed=3)
    [first.step() for _ in range(5)]
    state = first.state_dict()
    expected = [first.step()[0] for _ in range(5)]
    second = nb101.sampler("iso", seed=3)
    second.load_state_dict(state)
    assert [second.step()[0] for _ in range(5)] == expected
    assert all(isinstance(nb101.format(a), str) for a in expected)  # a drawn configuration formats as a cell
    pool = nb101.sampler("iso", seed=0, restrict_to=[C, _fork(C3, MP)])
    drawn = {nb101.format(pool.step()[0]) for _ in range(30)}
    assert {nb101.format(nb101.parse(s)) for s in (C, _fork(C3, MP))} == {
        nb101.format(nb101.parse(s)) for s in drawn}
    with pytest.raises(NotApplicable):
        nb101.sampler("deiso", seed=0)


def test_nb101_default_metric_follows_the_table(nb101):
    import pandas as pd

    assert nb101.default_metric_of(pd.DataFrame({"cifar10_valid_acc_108ep": [1.0]})) == "cifar10_valid_acc_108ep"
    both = pd.DataFrame({"cifar10_valid_acc_108ep": [1.0], "cifar10_test_acc_108ep": [2.0]})
    assert nb101.default_metric_of(both) == "cifar10_test_acc_108ep"


def test_nb101_study_sets_on_the_sample(data_root):
    """On the 500-row sample: the one-shot set lies in sub-space 3 and inside the evaluation set."""
    from nas_core.engines.study import Study

    study = Study("smoke", benchmark="nb101", data_root=data_root)
    assert study.truth_column == "cifar10_valid_acc_108ep"
    strs = study.arch_strs(study.os_indices)
    assert len(strs) > 0 and study.bench.oneshot_mask(strs).all()
    assert set(study.os_indices) <= set(study.eval_indices)
    assert set(study.rq4_os_indices) <= set(study.truth_frame.loc[
        study.bench.oneshot_mask(study.truth_frame["arch_str"].tolist()), "index"])
    frame = study.truth_frame
    members = frame[frame["hash"] == frame.loc[frame["index"] == study.eval_indices[0], "hash"].iloc[0]]
    assert study.truth[study.eval_indices[0]] == pytest.approx(members["cifar10_valid_acc_108ep"].mean())
    assert "sub-space 3" in study.banner()


# ---- NDS ------------------------------------------------------------------------------------------

R0 = "resnet:ds=1,2,3;ws=16,24,32"
R1 = "resnet:ds=1,2,4;ws=16,24,32"   # stage 3 deeper
R2 = "resnet:ds=1,2,3;ws=16,24,48"   # stage 3 wider
R3 = "resnet:ds=8,8,8;ws=64,64,64"
X0 = "resnexta:ds=1,2,4;ws=16,32,64;bms=0.25,0.5,1;gs=1,2,4"


def test_nds_parse_round_trip_and_space_check(resnet, resnexta):
    for bench, s in ((resnet, R0), (resnet, R3), (resnexta, X0)):
        assert bench.format(bench.parse(s)) == s
    with pytest.raises(BadParameter, match="nds_resnexta"):
        resnet.parse(X0)
    with pytest.raises(BadParameter, match="not a choice"):
        resnet.parse("resnet:ds=1,2,5;ws=16,24,32")


def test_nds_params_flops_equal_the_built_network(resnet, resnexta):
    for bench, strs in ((resnet, [R0, R2, R3]), (resnexta, [X0])):
        for C_, N_ in ((None, None), (32, 2)):
            params, _ = bench.params_flops(strs, C=C_, N=N_)
            for s, p in zip(strs, params):
                net = bench.network(bench.parse(s), seed=0, C=C_, N=N_)
                assert sum(t.numel() for t in net.parameters()) == round(p * 1e6)
    # clipping: R3 (depth 8, width 64 everywhere) at C32/N2 is depth 2, width 32 everywhere
    assert resnet.params_flops([R3], C=32, N=2)[0][0] == resnet.params_flops(
        ["resnet:ds=2,2,2;ws=32,32,32"])[0][0]


def test_nds_mutation_pairs_hand_case(resnet):
    pairs = resnet.mutation_pairs([R0, R1, R2, R3])
    got = {(r.i, r.j, r.from_op, r.to_op, r.kind) for r in pairs.itertuples()}
    assert got == {(0, 1, "depth 3", "depth 4", "depth"), (1, 0, "depth 4", "depth 3", "depth"),
                   (0, 2, "width 32", "width 48", "width"), (2, 0, "width 48", "width 32", "width")}
    assert not pairs["no_op"].any()


def test_nds_sampler_stays_inside_the_supernet_and_resumes(resnet):
    proto = SupernetProtocol(C=32, N=2)
    sampler = resnet.sampler("iso", seed=1, proto=proto)
    archs = [sampler.step()[0] for _ in range(40)]
    assert max(max(a.ds) for a in archs) <= 2 and max(max(a.ws) for a in archs) <= 32
    state = sampler.state_dict()
    expected = [sampler.step()[0] for _ in range(5)]
    again = resnet.sampler("iso", seed=1, proto=proto)
    again.load_state_dict(state)
    assert [again.step()[0] for _ in range(5)] == expected
    with pytest.raises(NotApplicable):
        resnet.sampler("fair", seed=0)


def test_nds_small_supernet_runs_a_large_architecture_on_its_clipped_form(resnet):
    net = resnet.supernet(SupernetProtocol(C=32, N=2, dropout=0.0), channels=3, classes=10).scoring_mode()
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(net(x, resnet.parse(R3)), net(x, resnet.parse("resnet:ds=2,2,2;ws=32,32,32")))


def test_nds_fixture_is_marked_as_made_up(tmp_path, resnet, resnexta):
    from nas_core.benchmarks.nds import is_fixture

    (tmp_path / "nds").symlink_to(FIXTURE)
    frame = resnet.ground_truth(tmp_path)
    assert len(frame) == 24 and resnet.default_metric_of(frame) == "cifar10_test_acc"
    assert len(resnexta.ground_truth(tmp_path)) == 36
    assert is_fixture(FIXTURE) and not is_fixture(tmp_path)
    assert resnet.describe_data(tmp_path).startswith("**MADE-UP FIXTURE**")


@pytest.mark.slow
def test_nds_resnet_smoke_run_on_the_fixture(data_root, tmp_path, monkeypatch):
    """`nas-core run --profile smoke --benchmark nds_resnet` end to end on a data root made of the
    real CIFAR-10 folder and the made-up NDS fixture (about 6 min on the shared 2-core machine):
    every notebook runs, and says it is a fixture run. It writes outputs/smoke-nds_resnet, as
    nbval writes outputs/smoke."""
    from nas_core.cli import main
    from nas_core.config import outputs_dir

    if not (Path(data_root) / "cifar10").is_dir():
        pytest.skip("no CIFAR-10 folder under NAS_CORE_DATA")
    root = tmp_path / "data"
    root.mkdir()
    (root / "cifar10").symlink_to(Path(data_root) / "cifar10")
    (root / "nds").symlink_to(FIXTURE)
    monkeypatch.setenv("NAS_CORE_DATA", str(root))  # the run publishes its root here: restored after
    assert main(["run", "--profile", "smoke", "--benchmark", "nds_resnet", "--data-root", str(root),
                 "--device", "cpu"]) == 0
    out = outputs_dir("smoke", "nds_resnet")
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["benchmark"] == "nds_resnet"
    books = sorted((out / "notebooks").glob("rq*.ipynb"))
    assert [b.name[:3] for b in books] == ["rq1", "rq2", "rq3", "rq4", "rq5"]
    for book in books:
        text = book.read_text()
        assert "MADE-UP FIXTURE" in text and '"output_type": "error"' not in text
    assert "MADE-UP FIXTURE" in (out / "README.md").read_text()
