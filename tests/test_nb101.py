"""NAS-Bench-101: cell parsing/validation/pruning, the benchmark's graph hash, the network and its
#params/#FLOPs, the ground-truth reader. Real-data checks skip without NAS_CORE_DATA."""
import hashlib

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nas_core.data.nb101_truth import load_nb101_truth
from nas_core.errors import BadData, BadParameter
from nas_core.nets.nb101 import NB101Network, init_seeded
from nas_core.space import nb101

C3, C1, MP = nb101.CONV3, nb101.CONV1, nb101.POOL
# The Inception-like cell of the NAS-Bench-101 README; the README prints its
# trainable_parameters as 2694282.
README_MATRIX = [[0, 1, 1, 1, 1, 0, 0],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 1, 0],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 0]]
README_OPS = ["input", C3, C1, MP, C3, C3, "output"]
SMALL = nb101.Macro(stem_channels=8, resolution=8)


def bits(matrix):
    return "".join(str(b) for row in matrix for b in row)


# ---- parsing, validation, pruning ---------------------------------------------------------------

def test_parse_format_round_trip_and_both_call_forms():
    cell = nb101.make_cell(README_MATRIX, README_OPS)
    s = nb101.format_arch(cell)
    assert s == bits(README_MATRIX) + "|" + ",".join(README_OPS)
    assert nb101.parse(s) == cell
    assert nb101.parse(bits(README_MATRIX), ",".join(README_OPS)) == cell
    assert nb101.parse(nb101.EXAMPLE) == cell


def test_readme_cell_has_the_readme_parameter_count():
    cell = nb101.make_cell(README_MATRIX, README_OPS)
    assert nb101.params_flops(cell)[0] == 2_694_282
    with torch.device("meta"):
        net = NB101Network(cell)
    assert sum(p.numel() for p in net.parameters()) == 2_694_282


def test_pruning_removes_vertices_off_the_input_output_paths():
    # vertex 2 is fed by the input but reaches nothing; vertex 3 reaches the output but is fed by
    # nothing; vertex 5 is isolated: only input -> 1 -> 4 -> output and input -> output remain
    m = np.zeros((7, 7), int)
    for i, j in [(0, 1), (1, 4), (4, 6), (0, 6), (0, 2), (3, 6), (3, 4)]:
        m[i, j] = 1
    ops = ["input", C1, C3, MP, MP, C3, "output"]
    cell = nb101.make_cell(m, ops)
    assert cell.ops == ("input", C1, MP, "output")
    assert cell.matrix.tolist() == [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]


def test_edge_limit_applies_after_pruning():
    # 10 edges in the matrix, but vertex 5 (3 edges) hangs off the paths: 7 edges remain -> valid
    m = np.zeros((7, 7), int)
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (0, 6), (1, 6), (0, 5), (1, 5), (2, 5)]:
        m[i, j] = 1
    cell = nb101.make_cell(m, ["input", C3, C3, C3, C3, C3, "output"])
    assert cell.n_edges == 7 and cell.n_vertices == 6


@pytest.mark.parametrize("adjacency, ops, message", [
    ("0" * 48, README_OPS, "not n\\*n"),
    ("0" * 64, ["input"] + [C3] * 6 + ["output"], "8 vertices"),
    (bits(README_MATRIX)[:-1] + "1", README_OPS, "upper triangular"),
    (bits(README_MATRIX).replace("1", "2", 1), README_OPS, "only hold the characters 0 and 1"),
    (bits(README_MATRIX), ["input", C3, "conv5x5", MP, C3, C3, "output"], "unknown op 'conv5x5'"),
    (bits(README_MATRIX), [C3, "input", C1, MP, C3, C3, "output"], "first label must be 'input'"),
    (bits(README_MATRIX), ["input", C3, "output", MP, C3, C3, "output"], "vertex 2 is labelled 'output'"),
    (bits(README_MATRIX), README_OPS[:-1], "7 vertices but 6 ops"),
    ("0" * 49, README_OPS, "no path from the input to the output"),
    (bits(np.triu(np.ones((7, 7), int), 1)), README_OPS, "21 edges after pruning"),
])
def test_malformed_cells_give_one_clear_message(adjacency, ops, message):
    with pytest.raises(BadParameter, match=message) as err:
        nb101.parse(adjacency, ",".join(ops))
    assert "NAS-Bench-101" in err.value.message() and err.value.fix


def test_unknown_op_message_lists_the_valid_ops():
    with pytest.raises(BadParameter) as err:
        nb101.parse(bits(README_MATRIX), ["input", C3, "sep_conv", MP, C3, C3, "output"])
    assert all(op in err.value.message() for op in nb101.OPS)


def test_matrix_errors_from_numpy_input():
    with pytest.raises(BadParameter, match="square"):
        nb101.make_cell(np.zeros((3, 4)), ["input", C3, "output"])
    with pytest.raises(BadParameter, match="'<adjacency>\\|<ops>'"):
        nb101.parse("0110")


# ---- the benchmark's graph hash ------------------------------------------------------------------

def test_hash_of_the_two_vertex_cell_written_out_by_hand():
    # input -> output: degrees (out, in, label) = (1, 0, -1) and (0, 1, -2); two rounds of
    # md5(in-neighbours | out-neighbours | self), then md5 of the sorted list's str
    def md5(s):
        return hashlib.md5(s.encode("utf-8")).hexdigest()
    h_in, h_out = md5("(1, 0, -1)"), md5("(0, 1, -2)")
    for _ in range(2):
        h_in, h_out = md5("|" + h_out + "|" + h_in), md5(h_in + "||" + h_out)
    expected = md5(str(sorted([h_in, h_out])))
    assert nb101.graph_hash(np.array([[0, 1], [0, 0]]), ["input", "output"]) == expected


def test_hash_cases_of_the_benchmarks_own_tests():
    # transcribed from the NAS-Bench-101 repository's graph_util tests (labels as integers)
    diamond = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert nb101.hash_module(diamond, [-1, 1, 2, -2]) == nb101.hash_module(diamond, [-1, 2, 1, -2])
    m1 = np.array([[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    m2 = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    m3 = np.array([[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    l1, l2, l3 = [-1, 1, 2, 3, -2], [-1, 2, 3, 1, -2], [-1, 2, 1, 3, -2]
    assert nb101.hash_module(m1, l1) == nb101.hash_module(m2, l2) == nb101.hash_module(m3, l3)
    assert nb101.hash_module(m1, l2) != nb101.hash_module(m1, l1)
    assert nb101.hash_module(m1, l3) != nb101.hash_module(m1, l1)
    chain = np.eye(5, k=1, dtype=int)
    assert nb101.hash_module(chain, [-1, 1, 0, 0, -2]) != nb101.hash_module(chain, [-1, 0, 0, 1, -2])
    tri = np.array([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert nb101.hash_module(tri, [-1, 1, 0, -2]) != nb101.hash_module(tri, [-1, 0, 1, -2])
    tricky = np.array([[0, 1, 1, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1],
                       [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1],
                       [0, 0, 0, 0, 0, 0, 0]])
    assert nb101.hash_module(tricky, [-1, 1, 0, 0, 0, 0, -2]) != nb101.hash_module(tricky, [-1, 0, 0, 0, 1, 0, -2])


def test_isomorphic_cells_hash_equal_under_any_vertex_numbering():
    rng = np.random.default_rng(0)
    for cell in nb101.sample(40, seed=3):
        n = cell.n_vertices
        inner = rng.permutation(np.arange(1, n - 1))
        perm = np.concatenate([[0], inner, [n - 1]])  # new vertex k is old vertex perm[k]
        m = cell.matrix[np.ix_(perm, perm)]
        labels = nb101.labels_of([cell.ops[p] for p in perm])
        assert nb101.hash_module(m, labels) == cell.hash


def test_renumbered_valid_cell_hashes_equal_and_a_changed_cell_differs():
    cell = nb101.make_cell(README_MATRIX, README_OPS)
    # vertices 1 (conv3x3) and 2 (conv1x1) play the same role: swapping their numbers keeps the
    # matrix upper triangular and the architecture the same
    swapped = nb101.make_cell(README_MATRIX, ["input", C1, C3, MP, C3, C3, "output"])
    assert swapped != cell and swapped.hash == cell.hash
    # vertex 3 (maxpool) becomes conv1x1: a different architecture
    changed = nb101.make_cell(README_MATRIX, ["input", C3, C1, C1, C3, C3, "output"])
    assert changed.hash != cell.hash
    # a dangling vertex (fed by the input, reaching nothing) does not change the hash: pruned first
    chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    dangling = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert nb101.graph_hash(dangling, ["input", MP, C3, "output"]) == nb101.graph_hash(chain, ["input", MP, "output"])
    padded, ops = nb101.to_padded(nb101.make_cell(chain, ["input", MP, "output"]))
    assert nb101.graph_hash(padded, ops) == nb101.graph_hash(chain, ["input", MP, "output"])


# ---- sampling, neighbours, features ---------------------------------------------------------------

def test_sample_is_seeded_valid_and_distinct():
    a, b = nb101.sample(30, seed=7), nb101.sample(30, seed=7)
    assert a == b and nb101.sample(30, seed=8) != a
    assert len({c.hash for c in a}) == 30
    for c in a:
        assert nb101.make_cell(c.matrix, c.ops) == c and c.n_edges <= 9


def test_neighbours_are_one_mutation_away_valid_and_distinct():
    cell = nb101.make_cell(README_MATRIX, README_OPS)
    nbrs = nb101.neighbours(cell)
    hashes = [c.hash for c in nbrs]
    assert len(set(hashes)) == len(hashes) and cell.hash not in hashes
    # op changes alone: 5 vertices x 2 ops = 10 cells, all distinct: vertices 1-3 are
    # interchangeable (input -> v -> output) but the 6 op multisets {C1,C1,MP}, {C1,MP,MP},
    # {C3,C3,MP}, {C3,MP,MP}, {C3,C3,C1}, {C3,C1,C1} they give differ
    op_only = [c for c in nbrs if c.n_vertices == 7 and np.array_equal(c.matrix, cell.matrix)]
    assert len(op_only) == 10
    # the definition written out: every single op change / edge toggle of the 7-vertex layout
    m0, ops0 = nb101.to_padded(cell)
    variants = [(m0, ops0[:v] + (op,) + ops0[v + 1:]) for v in range(1, 6) for op in nb101.OPS if op != ops0[v]]
    for i in range(7):
        for j in range(i + 1, 7):
            m = m0.copy()
            m[i, j] = 1 - m[i, j]
            variants.append((m, ops0))
    expected = {nb101.graph_hash(m, o) for m, o in variants if nb101.is_valid(m, o)} - {cell.hash}
    assert set(hashes) == expected


def test_features_and_longest_path():
    cell = nb101.make_cell(README_MATRIX, README_OPS)
    f = nb101.features([cell]).iloc[0]
    assert (f[f"n_{C3}"], f[f"n_{C1}"], f[f"n_{MP}"]) == (3, 1, 1)
    assert (f.n_vertices, f.n_edges, f.depth, f.input_to_output) == (7, 9, 2, False)
    assert f.params_M == pytest.approx(2.694282)


# ---- network, channels, complexity ----------------------------------------------------------------

def test_vertex_channels_follow_the_benchmark_rule():
    # three vertices feed the output: 128 = 43 + 43 + 42 (first ones get the extra channel);
    # vertex 1 feeds only vertices 2 and 4 -> the larger of theirs
    m = np.zeros((6, 6), int)
    for i, j in [(0, 1), (1, 2), (1, 4), (2, 5), (0, 3), (3, 5), (4, 5)]:
        m[i, j] = 1
    assert nb101.vertex_channels(64, 128, m) == [64, 43, 43, 43, 42, 128]
    m2 = np.zeros((5, 5), int)
    for i, j in [(0, 1), (1, 2), (2, 4), (1, 3), (3, 4), (0, 4)]:
        m2[i, j] = 1
    assert nb101.vertex_channels(128, 256, m2) == [128, 128, 128, 128, 256]


def _hook_flops(net: nn.Module, resolution: int) -> int:
    """FLOPs counted from the forward pass itself: conv MACs (weight size x output positions),
    2 per BN output element, 1 per ReLU output element, k*k per max-pool output element,
    in*out for the linear layer."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            total[0] += mod.weight.numel() * out.shape[2] * out.shape[3]
        elif isinstance(mod, nn.BatchNorm2d):
            total[0] += 2 * out[0].numel()
        elif isinstance(mod, nn.ReLU):
            total[0] += out[0].numel()
        elif isinstance(mod, nn.MaxPool2d):
            total[0] += mod.kernel_size ** 2 * out[0].numel()
        elif isinstance(mod, nn.Linear):
            total[0] += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net(torch.randn(1, 3, resolution, resolution))
    for h in handles:
        h.remove()
    return total[0]


def test_params_and_flops_analytic_equal_the_built_network():
    for cell in nb101.sample(12, seed=11) + [nb101.make_cell(README_MATRIX, README_OPS)]:
        net = init_seeded(cell, 0, macro=SMALL)
        p, f = nb101.params_flops(cell, SMALL)
        assert sum(q.numel() for q in net.parameters()) == p
        assert _hook_flops(net, SMALL.resolution) == f


def test_network_forward_backward_with_uneven_channel_split():
    # output fan-in 3 on 8 channels (3, 3, 2): vertex 1 (3 channels) feeds vertex 3 (2): truncation
    m = np.zeros((5, 5), int)
    for i, j in [(0, 1), (0, 2), (1, 3), (1, 4), (2, 4), (3, 4), (0, 3)]:
        m[i, j] = 1
    cell = nb101.make_cell(m, ["input", C3, MP, C1, "output"])
    assert nb101.vertex_channels(8, 8, cell.matrix) == [8, 3, 3, 2, 8]
    net = init_seeded(cell, 1, macro=SMALL)
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    net(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert sum(isinstance(mm, nn.ReLU) for mm in net.modules()) > 0


def test_input_output_only_cell_and_dropout():
    cell = nb101.parse("0100|input,output")
    net = init_seeded(cell, 0, macro=SMALL, dropout=0.5)
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    assert isinstance(net.dropout, nn.Dropout)


def test_init_seeded_is_deterministic_and_leaves_global_rng_alone():
    cell = nb101.make_cell(README_MATRIX, README_OPS)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = init_seeded(cell, 5, macro=SMALL), init_seeded(cell, 5, macro=SMALL)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = init_seeded(cell, 6, macro=SMALL)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


# ---- ground truth reader ----------------------------------------------------------------------

def _write(tmp_path, frame, name="t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_user_table_is_read_pruned_hashed_and_grouped(tmp_path):
    swapped = ["input", C1, C3, MP, C3, C3, "output"]
    table = pd.DataFrame({"adjacency": [bits(README_MATRIX)] * 2 + ["0100"],
                          "ops": [",".join(README_OPS), ",".join(swapped), "input,output"],
                          "test_accuracy": [93.1, 93.2, 80.0],
                          "trainable_parameters": [2694282, 2694282, 882570]})
    frame = load_nb101_truth(path=_write(tmp_path, table))
    assert frame["iso_class"].tolist() == [0, 0, 1]
    assert frame["iso_representative"].tolist() == [True, False, True]
    assert frame["cifar10_test_acc_108ep"].tolist() == [93.1, 93.2, 80.0]
    assert frame["params_M_cifar10"].iloc[0] == pytest.approx(2.694282)
    # the same table written with arch_str
    alt = pd.DataFrame({"arch_str": [bits(README_MATRIX) + "|" + ",".join(README_OPS)], "acc": [1.0]})
    assert load_nb101_truth(path=_write(tmp_path, alt, "b.csv"))["hash"].iloc[0] == frame["hash"].iloc[0]


def test_reader_errors_name_the_row(tmp_path):
    bad = pd.DataFrame({"adjacency": [bits(README_MATRIX), "0" * 49], "ops": [",".join(README_OPS)] * 2})
    with pytest.raises(BadData, match="row 2: invalid NAS-Bench-101 cell: there is no path"):
        load_nb101_truth(path=_write(tmp_path, bad))
    wrong = pd.DataFrame({"adjacency": [bits(README_MATRIX)], "ops": [",".join(README_OPS)], "params": [2.5]})
    with pytest.raises(BadData, match="row 1: its parameter count says 2.5 M"):
        load_nb101_truth(path=_write(tmp_path, wrong, "w.csv"))
    with pytest.raises(BadData, match="needs the columns adjacency and ops"):
        load_nb101_truth(path=_write(tmp_path, pd.DataFrame({"x": [1]}), "x.csv"))
    trunc = tmp_path / "trunc.csv"
    trunc.write_bytes(b"adjacency,ops\n0100,input,out")
    with pytest.raises(BadData, match="truncated"):
        load_nb101_truth(path=trunc)


# ---- the 500-cell sample (real data) ------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_table(data_root):
    path = data_root / "nasbench101" / "nb101_ground_truth_sample.csv"
    if not path.is_file():
        pytest.skip("NB101 sample not present")
    return pd.read_csv(path, dtype={"adjacency": str})


def test_sample_rows_all_valid_and_grouped_by_hash(sample_table, data_root):
    frame = load_nb101_truth(data_root)
    assert len(frame) == 500
    assert frame["hash"].nunique() == 292 == frame["iso_representative"].sum()
    # a hash group is one architecture: the benchmark stores 3 training runs per architecture and
    # a query returns one of them, so a group shows at most 3 distinct accuracies
    assert frame.groupby("hash")["cifar10_valid_acc_108ep"].nunique().max() == 3


def test_sample_params_and_flops_match_for_every_row(sample_table):
    cells = [nb101.parse(a, o) for a, o in zip(sample_table.adjacency, sample_table.ops)]
    counted = []
    for cell in cells:
        with torch.device("meta"):
            counted.append(sum(p.numel() for p in NB101Network(cell).parameters()))
    assert np.array_equal(np.round(sample_table.params.to_numpy() * 1e6).astype(np.int64), counted)
    flops = np.array([nb101.params_flops(c)[1] for c in cells]) / 1e6
    assert np.abs(flops - sample_table.flops.to_numpy()).max() < 1e-6


# ---- NAS-Bench-1shot1 sub-space 3 -------------------------------------------------------------

def _cell(edges, ops, n):
    m = np.zeros((n, n), int)
    for i, j in edges:
        m[i, j] = 1
    return nb101.make_cell(m, ["input", *ops, "output"])


def test_subspace3_wirings_and_their_cells():
    from nas_core.space import nb1shot1 as s3

    wirings = s3.all_wirings()
    assert len(wirings) == 1 * 2 * 3 * 6 * 10 * 15 == 5400 == len(set(wirings))
    rng = np.random.default_rng(0)
    for k in rng.choice(len(wirings), 200, replace=False):
        arch = s3.S3Arch(wirings[k], tuple(rng.choice(nb101.OPS, 5)))
        assert arch.matrix().sum() == 9
        assert s3.in_subspace3(s3.to_cell(arch))


def test_subspace3_membership_by_hand():
    from nas_core.space import nb1shot1 as s3

    # two parallel one-input vertices feeding the output: blocks 1 and 2
    assert s3.in_subspace3(_cell([(0, 1), (0, 2), (1, 3), (2, 3)], [C3, C1], 4))
    # the output has one input: no configuration gives that
    assert not s3.in_subspace3(_cell([(0, 1), (1, 2)], [C3], 3))
    # vertex 3 has two inputs and feeds vertex 4 (one input): a two-input block (4 or 5) cannot
    # feed a one-input block (1..3)
    assert not s3.in_subspace3(_cell([(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5), (0, 5)], [C3, C3, C3, C3], 6))
    # ... but feeding a second two-input vertex is fine
    assert s3.in_subspace3(_cell([(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (1, 4), (4, 5), (0, 5)], [C3, C3, C3, C3], 6))
    # three two-input vertices: only blocks 4 and 5 take two inputs
    assert not s3.in_subspace3(_cell([(0, 1), (0, 2), (1, 2), (0, 3), (2, 3), (1, 4), (3, 4), (4, 5), (0, 5)],
                                     [C3, C3, C3, C3], 6))


def test_subspace3_membership_rule_equals_enumeration_of_all_wirings():
    from nas_core.space import nb1shot1 as s3

    structures = s3.wiring_structures()
    assert len(structures) == 317  # distinct pruned wirings, up to vertex renumbering
    cells = nb101.sample(400, seed=21)
    member = [s3.in_subspace3(c) for c in cells]
    assert 0 < sum(member) < len(cells)
    assert member == [s3.structure_hash(c) in structures for c in cells]


def test_embed_gives_a_configuration_of_the_same_architecture():
    from nas_core.space import nb1shot1 as s3

    for arch in s3.sample(150, seed=2):
        cell = s3.to_cell(arch)
        canon = s3.embed(cell)
        assert s3.to_cell(canon).hash == cell.hash
        assert s3.embed(s3.to_cell(canon)) == canon  # canonical: a fixed point
    with pytest.raises(BadParameter, match="not in NAS-Bench-1shot1 sub-space 3"):
        s3.embed(nb101.parse("0100|input,output"))
    with pytest.raises(BadParameter, match="node 4 of sub-space 3 takes 2"):
        s3.S3Arch(((0,), (0,), (1,), (0,), (0, 1), (0, 1)), (C3,) * 5)


def test_sample_cells_in_subspace3(data_root):
    from nas_core.space import nb1shot1 as s3

    frame = load_nb101_truth(data_root)
    member = np.array([s3.in_subspace3(nb101.parse(s)) for s in frame["arch_str"]])
    assert member.sum() == 166 and frame.loc[member, "hash"].nunique() == 86


TINY = dict(C=4, stacks=2, cells_per_stack=1)


def test_subspace3_supernet_used_parameters_and_loose_ends():
    from nas_core.nets.nb101_supernet import NB101Supernet
    from nas_core.space import nb1shot1 as s3

    torch.manual_seed(0)
    net = NB101Supernet(**TINY).scoring_mode()
    x = torch.randn(2, 3, 8, 8)
    for arch in s3.sample(6, seed=4):
        net.zero_grad(set_to_none=True)
        net(x, arch).sum().backward()
        with_grad = {id(p) for p in net.parameters() if p.grad is not None}
        assert with_grad == {id(p) for p in net.used_parameters(arch)}
    # a loose end (block 5 feeding nothing) does not change the output, whatever its op
    base = ((0,), (1,), (2,), (0, 3), (0, 1), (0, 4))
    a = s3.S3Arch(base, (C3, C1, MP, C3, C3))
    b = s3.S3Arch(base, (C3, C1, MP, C3, MP))
    assert s3.live_blocks(a) == (1, 2, 3, 4)
    assert torch.equal(net(x, a), net(x, b))
    assert not net.dropout.training and net.training


def test_subspace3_sampler_uniform_seeded_resumable():
    from nas_core.space import nb1shot1 as s3
    from nas_core.space.uniform_sampler import subspace3_sampler

    s = subspace3_sampler(seed=3, per_step=2)
    s.step()
    state = s.state_dict()
    nxt = s.step()
    other = subspace3_sampler(seed=0, per_step=2)
    other.load_state_dict(state)
    assert other.step() == nxt
    draws = [a for _ in range(600) for a in s.step()]
    out_parents = [a.parents[-1] for a in draws]
    assert all(abs(out_parents.count(p) / len(draws) - 1 / 15) < 0.03 for p in s3.parent_choices(6))
    canon = subspace3_sampler(seed=3, canonical=True).step()[0]
    assert s3.embed(s3.to_cell(canon)) == canon
