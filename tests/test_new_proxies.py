"""The proxies published after the study, each against an independent computation on a tiny
network (a direct transcription of the authors' formula, mostly in numpy, or a hand-worked
value), plus the shared pass against one proxy at a time, and pinned values on NB201."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import nas_core
from nas_core import proxies
from nas_core.engines.zeroshot import score_network
from nas_core.errors import BadParameter
from nas_core.nets.network import init_seeded
from nas_core.nets.supernet import Supernet, SupernetArch
from nas_core.proxies import AFTER_STUDY_PROXIES
from nas_core.proxies.az_nas import az_nas_scores, block_features
from nas_core.proxies.passes import PassResult
from nas_core.proxies.swap import distinct_columns
from nas_core.space import nb201

CTX = {"flops_M": 12.5, "seed": 3}


def tiny_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 4))


def two_stage_net(seed=0):
    """Blocks with a stride-2 step (AZ-NAS's pixel-unshuffle path), 6x6 inputs."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 4))


def batch(seed=1, n=6, size=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, size, size, generator=g), torch.tensor([0, 1, 1, 2, 0, 1, 3, 0][:n])


def one(name, net, x, y, context=CTX):
    value, _, reason = score_network(net, x, y, [name], dict(context))[name]
    return value, reason


def layer_weights(net):
    return [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


# ---- ZiCo ---------------------------------------------------------------------------------------

def test_zico_transcribed():
    net, (x, y) = tiny_net(), batch()
    grads = {i: [] for i in range(2)}
    for sp in range(2):  # the code: split_data = 2 halves, zero_grad, forward, backward
        net.zero_grad()
        lo, hi = sp * len(x) // 2, (sp + 1) * len(x) // 2
        F.cross_entropy(net(x[lo:hi]), y[lo:hi]).backward()
        for i, w in enumerate(layer_weights(net)):
            grads[i].append(w.grad.detach().double().reshape(-1).numpy())
    expected = 0.0
    for g in grads.values():
        g = np.array(g)
        std = np.std(g, axis=0)
        nz = np.nonzero(std)[0]
        tmp = np.sum(np.mean(np.abs(g), axis=0)[nz] / std[nz])
        if tmp != 0:
            expected += np.log(tmp)
    net.zero_grad()
    assert one("zico", net, x, y)[0] == pytest.approx(expected, rel=1e-9)


def test_zico_two_halves_of_two_images_by_hand():
    # K = 2 single-image halves: mean|g| / std = (|a| + |b|) / |a - b| per weight
    torch.manual_seed(0)
    lin = nn.Linear(3, 2, bias=False)
    x, y = torch.randn(2, 3), torch.tensor([0, 1])
    ga, gb = (torch.autograd.grad(F.cross_entropy(lin(x[i:i + 1]), y[i:i + 1]), lin.weight)[0].double()
              for i in range(2))
    ratio = (ga.abs() + gb.abs()) / (ga - gb).abs()
    assert one("zico", lin, x, y)[0] == pytest.approx(math.log(ratio.sum().item()), rel=1e-9)


# ---- MeCo ---------------------------------------------------------------------------------------

def test_meco_transcribed_with_hooks_on_every_module():
    net, (x, y) = tiny_net(), batch()
    values = []

    def hook(module, inputs, output):  # the authors' forward hook, in numpy
        fea = output[0].detach().double().numpy()
        fea = fea.reshape(fea.shape[0], -1)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            corr = np.corrcoef(fea)
        corr = np.atleast_2d(corr)
        corr[~np.isfinite(corr)] = 0
        values.append(np.min(np.real(np.linalg.eigvals(corr))))
    handles = [m.register_forward_hook(hook) for m in net.modules()]  # root and containers too
    net.train()
    net(x)
    for h in handles:
        h.remove()
    assert len(values) == 7  # Sequential + its 6 layers
    assert one("meco", net, x, y)[0] == pytest.approx(sum(values), rel=1e-9, abs=1e-12)


def test_meco_hand_made_feature_map():
    # channels a = (1, 2, 3), b = (3, 2, 1), c = (1, 1, 1): corr(a, b) = -1, c constant -> 0;
    # P = [[1, -1, 0], [-1, 1, 0], [0, 0, 0]]: eigenvalues 0, 0, 2 -> λ_min = 0; without c: -1 is
    # gone too, so flip b to (1, 3, 2): corr(a, b) = 0.5, eigenvalues 0.5 and 1.5 -> 0.5
    fm = torch.tensor([[1.0, 2, 3], [3, 2, 1], [1, 1, 1]]).reshape(3, 3, 1)
    assert proxies.get(["meco"])[0].fn(PassResult(weights=[], first_outputs=[fm]), {}).item() == pytest.approx(0.0, abs=1e-12)
    fm2 = torch.tensor([[1.0, 2, 3], [1, 3, 2]]).reshape(2, 1, 3)
    got = proxies.get(["meco"])[0].fn(PassResult(weights=[], first_outputs=[fm2, fm]), {}).item()
    assert got == pytest.approx(0.5, rel=1e-12)


# ---- SWAP ---------------------------------------------------------------------------------------

def test_swap_hand_made_patterns():
    # 3 images x 4 units; unit columns (1,0,1), (1,0,1), (0,0,0), (1,1,1): 3 distinct patterns
    codes = torch.tensor([[1, 1, 0, 1], [0, 0, 0, 1], [1, 1, 0, 1]], dtype=torch.bool).reshape(3, 1, 2, 2)
    res = PassResult(weights=[], relu_inputs=[codes, codes])  # a repeated block changes nothing
    assert proxies.get(["swap"])[0].fn(res, {}).item() == 3


def test_swap_packing_beyond_32_images_against_numpy():
    g = torch.Generator().manual_seed(0)
    codes = [torch.rand(70, 2, 3, 3, generator=g) > 0.9, torch.rand(70, 1, 4, 4, generator=g) > 0.5]
    matrix = np.concatenate([c.reshape(70, -1).numpy() for c in codes], axis=1)
    assert distinct_columns(codes) == np.unique(matrix, axis=1).shape[1]


def test_swap_transcribed_on_relu_outputs():
    net, (x, y) = two_stage_net(), batch(size=6)
    feats = []
    hooks = [m.register_forward_hook(lambda m, i, o: feats.append(o.detach()) if i[0].dim() == 4 else None)
             for m in net.modules() if isinstance(m, nn.ReLU)]
    net.train()
    net(x)
    for h in hooks:
        h.remove()
    act = torch.sign(torch.cat([f.reshape(len(x), -1) for f in feats], 1))
    assert one("swap", net, x, y)[0] == torch.unique(act.T, dim=0).shape[0]


# ---- TE-NAS -------------------------------------------------------------------------------------

def test_te_nas_ntk_transcribed():
    net, (x, y) = tiny_net(), batch()
    net.train()
    logit = net(x)
    rows = []
    for i in range(len(x)):  # the code: backward of logit[i] with ones, grads of every *weight*
        net.zero_grad()
        logit[i:i + 1].backward(torch.ones_like(logit[i:i + 1]), retain_graph=True)
        rows.append(torch.cat([p.grad.reshape(-1) for n, p in net.named_parameters() if "weight" in n]))
    g = torch.stack(rows).double().numpy()
    eig = np.linalg.eigvalsh(g @ g.T)
    net.zero_grad()
    assert one("te_nas_ntk", net, x, y)[0] == pytest.approx(-eig[-1] / eig[0], rel=1e-6)


def test_te_nas_lr_hand_worked():
    # one 1x1 conv of weight w on 1x1 single-channel inputs, then ReLU: the code of an image is
    # [w·x > 0]; w = 1: as many regions as signs among the Gaussian inputs; w = 0: one region
    net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(1, 2))
    x, y = torch.zeros(10, 1, 1, 1), torch.zeros(10, dtype=torch.long)
    drawn = torch.randn((10, 1, 1, 1), generator=torch.Generator().manual_seed(CTX["seed"] * 1_000_003 + 3))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    assert one("te_nas_lr", net, x, y)[0] == len(set((drawn > 0).flatten().tolist())) == 2
    with torch.no_grad():
        net[0].weight.fill_(0.0)
    assert one("te_nas_lr", net, x, y)[0] == 1


def test_te_nas_lr_transcribed_region_formula():
    net, (x, y) = two_stage_net(), batch(size=6)
    g = torch.Generator().manual_seed(CTX["seed"] * 1_000_003 + 3)
    feats = []
    hooks = [m.register_forward_hook(lambda m, i, o: feats.append(o.detach()) if i[0].dim() == 4 else None)
             for m in net.modules() if isinstance(m, nn.ReLU)]
    net.train()
    with torch.no_grad():
        net(torch.randn(x.shape, generator=g))
    for h in hooks:
        h.remove()
    a = torch.sign(torch.cat([f.reshape(len(x), -1) for f in feats], 1)).double()
    res = a @ (1 - a).T  # TE-NAS: A (1 - B) + (1 - A) B is 0 only for identical codes
    res = res + res.T
    expected = (1.0 / (1 - torch.sign(res)).sum(1)).sum().item()
    assert one("te_nas_lr", net, x, y)[0] == pytest.approx(expected, rel=1e-12)


# ---- EPE-NAS ------------------------------------------------------------------------------------

def test_epe_nas_transcribed():
    net, (x, y) = tiny_net(), batch()  # classes 0 (2 images), 1 (3), 2 (1 image: the single-row case)
    net.train()
    xg = x.clone().requires_grad_(True)
    net(xg).backward(torch.ones(len(x), 4))
    jac = xg.grad.reshape(len(x), -1).double().numpy()
    per_class = {}
    for i, label in enumerate(y.tolist()):
        per_class[label] = np.vstack((per_class[label], jac[i])) if label in per_class else jac[i]
    score = 0.0
    for rows in per_class.values():
        score += abs(np.sum(np.log(abs(np.corrcoef(rows)) + 1e-5)))
    net.zero_grad()
    assert one("epe_nas", net, x, y)[0] == pytest.approx(score, rel=1e-9)


# ---- l2_norm ------------------------------------------------------------------------------------

def test_l2_norm_by_hand():
    net, (x, y) = tiny_net(), batch()
    expected = sum(np.sqrt((w.detach().double().numpy() ** 2).sum()) for w in layer_weights(net))
    assert one("l2_norm", net, x, y)[0] == pytest.approx(expected, rel=1e-6)
    lin = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 4.0]]))
    assert one("l2_norm", lin, torch.zeros(2, 2), torch.tensor([0, 1]))[0] == 5.0


# ---- GradSign -----------------------------------------------------------------------------------

def test_gradsign_transcribed():
    net, (x, y) = tiny_net(), batch()
    rows = []
    for i in range(len(x)):  # the code: one image at a time, train mode
        net.zero_grad()
        net.train()
        F.cross_entropy(net(x[[i]]), y[[i]]).backward()
        rows.append(np.concatenate([w.grad.numpy().flatten() for w in layer_weights(net)]))
    expected = np.nansum(abs(np.sign(np.stack(rows)).sum(axis=0)))
    net.zero_grad()
    assert one("gradsign", net, x, y)[0] == expected


# ---- Zen-NAS ------------------------------------------------------------------------------------

def test_zen_transcribed_with_hand_made_bn_statistics():
    net, (x, y) = two_stage_net(), batch(size=6)
    g = torch.Generator().manual_seed(CTX["seed"] * 1_000_003 + 1)
    twin = copy.deepcopy(net)
    with torch.no_grad():
        for m in twin.modules():  # Gaussian init in module order, then the two inputs
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
                if m.bias is not None:
                    m.bias.zero_()
    x1, x2 = torch.randn(x.shape, generator=g), torch.randn(x.shape, generator=g)
    conv1, conv2 = twin[0], twin[3]

    def forward(inp):
        """pre-GAP features and each BN's unbiased batch variance, BN written out by hand"""
        h1 = conv1(inp)
        v1 = h1.var(dim=(0, 2, 3), unbiased=True)
        a1 = torch.relu((h1 - h1.mean((0, 2, 3), keepdim=True)) / torch.sqrt(h1.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5))
        h2 = conv2(a1)
        v2 = h2.var(dim=(0, 2, 3), unbiased=True)
        a2 = torch.relu((h2 - h2.mean((0, 2, 3), keepdim=True)) / torch.sqrt(h2.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5))
        return a2, (v1, v2)
    with torch.no_grad():
        f1, va = forward(x1)
        f2, vb = forward(x1 + 0.01 * x2)
    delta = (f1 - f2).abs().sum(dim=(1, 2, 3)).mean().double()
    # running_var after two momentum-0.1 updates from 1: 0.81 + 0.09 v_a + 0.1 v_b
    log_bn = sum(torch.log(torch.sqrt((0.81 + 0.09 * a + 0.1 * b).double().mean())) for a, b in zip(va, vb))
    expected = (torch.log(delta) + log_bn).item()
    before = copy.deepcopy(net.state_dict())
    assert one("zen", net, x, y)[0] == pytest.approx(expected, rel=1e-5)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # scored on a copy


# ---- AZ-NAS -------------------------------------------------------------------------------------

def az_by_hand(net, x, seed):
    """AZ-NAS's compute_nas_score transcribed on two_stage_net: Kaiming fan-in init, Gaussian
    input, block features = the 6 layer outputs before the pooling, numpy eigen/SVD."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + 2)
    twin = copy.deepcopy(net)
    with torch.no_grad():
        for m in twin.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight.shape[1] * int(np.prod(m.weight.shape[2:]))
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.zero_()
    twin.train()
    feats, h = [], torch.randn(x.shape, generator=g)
    for layer in list(twin)[:6]:
        h = layer(h)
        feats.append(h)
    e = []
    for f in feats:
        b, c, hh, ww = f.shape
        z = f.detach().permute(0, 2, 3, 1).reshape(-1, c).double().numpy()
        z = z - z.mean(0, keepdims=True)
        s = np.linalg.eigvalsh(z.T @ z / len(z))
        p = s / s.sum()
        e.append(np.sum(-p * np.log(p + 1e-8)))
    e = np.array(e)
    t = []
    for i in reversed(range(1, len(feats))):
        g_out = (torch.bernoulli(torch.full(feats[i].shape, 0.5), generator=g) - 0.5) * 2
        g_in = torch.autograd.grad(feats[i], feats[i - 1], g_out, retain_graph=True)[0]
        if g_in.shape[2] != g_out.shape[2]:
            g_in = nn.PixelUnshuffle(g_in.shape[2] // g_out.shape[2])(g_in)
        bo, co, ho, wo = g_out.shape
        mat = (g_in.permute(0, 2, 3, 1).reshape(bo * ho * wo, -1).T.double()
               @ g_out.permute(0, 2, 3, 1).reshape(bo * ho * wo, co).double()).numpy() / (bo * ho * wo)
        smax = np.linalg.svd(mat, compute_uv=False).max()
        t.append(-smax - 1 / (smax + 1e-6) + 2)
    return {"az_nas_expressivity": e.sum(), "az_nas_progressivity": np.min(e[1:] - e[:-1]),
            "az_nas_trainability": np.mean(t)}


def test_az_nas_terms_transcribed():
    net, (x, y) = two_stage_net(), batch(size=6)
    expected = az_by_hand(net, x, CTX["seed"])
    names = list(expected) + ["az_nas_complexity"]
    got = score_network(net, x, y, names, dict(CTX))
    for name, value in expected.items():
        assert got[name][0] == pytest.approx(value, rel=1e-6), name
    assert got["az_nas_complexity"][0] == CTX["flops_M"]


def test_az_nas_identity_block_gives_invalid_trainability():
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Identity(), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(3, 2))
    x, y = batch()
    value, reason = one("az_nas_trainability", net, x, y)
    assert math.isnan(value) and "non-finite" in reason  # the code's -inf: invalid, ranked worst


def test_az_nas_blocks_of_nb201_are_stem_and_cells():
    net = init_seeded(nb201.parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|skip_connect~2|"),
                      0, C=4, N=2)
    feats = block_features(net, torch.randn(2, 3, 8, 8))
    assert [tuple(f.shape[1:]) for f in feats] == [(4, 8, 8)] * 3 + [(8, 4, 4)] * 3 + [(16, 2, 2)] * 3


def test_az_nas_rank_aggregate_by_hand():
    terms = {"az_nas_expressivity": [1.0, 3.0, 2.0], "az_nas_progressivity": [0.5, 0.1, np.nan],
             "az_nas_trainability": [-1.0, -1.0, -2.0], "az_nas_complexity": [10.0, 30.0, 20.0]}
    # ranks (ascending, ties averaged, NaN lowest): E 1,3,2; P 3,2,1; T 2.5,2.5,1; C 1,3,2
    expected = [np.log(r1 / 3) + np.log(r2 / 3) + np.log(r3 / 3) + np.log(r4 / 3)
                for r1, r2, r3, r4 in [(1, 3, 2.5, 1), (3, 2, 2.5, 3), (2, 1, 1, 2)]]
    assert az_nas_scores(terms) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(BadParameter, match="az_nas_complexity"):
        az_nas_scores({k: v for k, v in terms.items() if k != "az_nas_complexity"})


# ---- errors, any module, supernet weights -------------------------------------------------------

def test_rank_aggregate_and_flops_errors():
    net, (x, y) = tiny_net(), batch()
    with pytest.raises(BadParameter, match="az_nas_scores"):
        nas_core.score(net, x, y, ["az_nas"])
    with pytest.raises(BadParameter, match="FLOPs"):
        nas_core.score(net, x, y, ["az_nas_complexity"])
    # the engine's entry point leaves the rank aggregates to the caller
    assert set(score_network(net, x, y, ["az_nas", "vote", "l2_norm"])) == {"l2_norm"}


def test_methods_that_need_feature_maps_say_why_on_an_mlp():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    for name, words in (("zen", "global pooling"), ("swap", "4-D"), ("te_nas_lr", "4-D"), ("az_nas_expressivity", "block")):
        with pytest.raises(BadParameter, match=words):
            nas_core.score(mlp, x, y, [name], context=CTX)
    got = nas_core.score(mlp, x, y, ["zico", "meco", "te_nas_ntk", "epe_nas", "l2_norm", "gradsign"], context=CTX)
    assert all(np.isfinite(v) for v in got.values())
    assert got["meco"] == 0.0  # no output has positions: every term is 0


def test_every_new_proxy_on_supernet_weights():
    arch = nb201.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|")
    torch.manual_seed(0)
    view = SupernetArch(Supernet(C=4, N=1).scoring_mode(), arch)
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g)
    got = score_network(view, x, y, list(AFTER_STUDY_PROXIES), dict(CTX))
    assert all(np.isfinite(v) for v, _, _ in got.values()), got
    assert len(block_features(view, x)) == 1 + 3 * 1 + 2


# ---- the shared pass and pinned values ----------------------------------------------------------

def nb201_net(arch, C=4, N=1):
    return init_seeded(nb201.parse(arch), 20, C=C, N=N)


def fixed_batch(n=16):
    # test_proxies.py's pinned input, with 16 images: with 8, swap saturates at 2^8 patterns
    g = torch.Generator().manual_seed(7)
    return torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_shared_pass_equals_one_proxy_at_a_time():
    net = nb201_net("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
    x, y = fixed_batch(8)
    names = list(AFTER_STUDY_PROXIES) + ["snip", "relu_logdet", "jacob_cov"]
    together = nas_core.score(net, x, y, names, context=CTX)
    for name in names:
        alone = nas_core.score(net, x, y, [name], context=CTX)[name]
        assert together[name] == pytest.approx(alone, rel=1e-6, abs=1e-12), name


ARCHS = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|",
         "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
         "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
PINNED = {  # C8/N1, init seed 20, fixed_batch(), CTX; float32 CPU, one thread (zico moves by ~1e-4
    # with the thread count: see its docstring); swap, te_nas_lr, gradsign are counts (exact)
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|": {
        "zico": 146.67126514559837, "meco": 4.679387633125738, "swap": 2878.0,
        "az_nas_expressivity": 13.932361990514838, "az_nas_progressivity": 0.031846913195964, "az_nas_trainability": -0.6035783367835216,
        "zen": 20.417473209459683, "te_nas_ntk": -7.577525206795511, "te_nas_lr": 16.0,
        "epe_nas": 76.67043560088233, "l2_norm": 41.99989318847656, "gradsign": 128368.0,
    },
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|": {
        "zico": 230.74320433141858, "meco": 7.945855103738559, "swap": 3672.0,
        "az_nas_expressivity": 14.049858108930547, "az_nas_progressivity": -0.08795722738883471, "az_nas_trainability": -0.4526732117139418,
        "zen": 27.85919109626359, "te_nas_ntk": -12.069528601579517, "te_nas_lr": 16.0,
        "epe_nas": 65.79670355383978, "l2_norm": 63.30955123901367, "gradsign": 191276.0,
    },
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|": {
        "zico": 111.12801496887239, "meco": 1.6076299562085463, "swap": 2129.0,
        "az_nas_expressivity": 12.47319114007965, "az_nas_progressivity": -0.21414409565808445, "az_nas_trainability": -0.7176094580785508,
        "zen": 16.882276264402854, "te_nas_ntk": -4.9893692789995185, "te_nas_lr": 16.0,
        "epe_nas": 51.871228842108984, "l2_norm": 34.9206657409668, "gradsign": 63152.0,
    },
}


@pytest.fixture
def one_thread():
    """float32 sums depend on the thread count; the pinned values are those of one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("arch", ARCHS)
def test_pinned_values_on_nb201(arch, one_thread):
    got = nas_core.score(nb201_net(arch, C=8, N=1), *fixed_batch(), list(AFTER_STUDY_PROXIES), context=CTX)
    for name, value in PINNED[arch].items():
        assert got[name] == pytest.approx(value, rel=1e-5), name
