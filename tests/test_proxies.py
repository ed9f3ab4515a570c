"""Each proxy against an independent computation on a tiny network, plus pinned values."""
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nas_core import proxies
from nas_core.errors import BadParameter
from nas_core.engines.zeroshot import score_network
from nas_core.nets.network import init_seeded
from nas_core.proxies.passes import main_pass, synflow_pass
from nas_core.proxies.relu_logdet import hamming_kernel
from nas_core.proxies.vote import vote_scores
from nas_core.space import nb201


def tiny_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 4))


def batch(seed=1, n=6):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, 5, 5, generator=g), torch.randint(0, 4, (n,), generator=g)


def by_hand_grads(net, x, y):
    net.train()
    loss = F.cross_entropy(net(x), y)
    weights = [net[0].weight, net[5].weight]
    return weights, torch.autograd.grad(loss, weights)


def test_grad_norm_snip_plain_by_hand():
    net, (x, y) = tiny_net(), batch()
    weights, grads = by_hand_grads(net, x, y)
    got = score_network(net, x, y, ["grad_norm", "snip", "plain"])
    assert got["grad_norm"][0] == pytest.approx(sum(g.norm().item() for g in grads), rel=1e-6)
    assert got["snip"][0] == pytest.approx(sum((g * w).abs().sum().item() for g, w in zip(grads, weights)), rel=1e-6)
    assert got["plain"][0] == pytest.approx(sum((g * w).sum().item() for g, w in zip(grads, weights)), rel=1e-5)


def test_grasp_against_full_hessian():
    torch.manual_seed(0)
    lin = nn.Linear(3, 2, bias=False)
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])

    def loss_of(flat):
        return F.cross_entropy(x @ flat.view(2, 3).T, y)

    w = lin.weight.detach().flatten()
    wg = w.clone().requires_grad_()
    g = torch.autograd.grad(loss_of(wg), wg)[0]
    hess = torch.autograd.functional.hessian(loss_of, w)
    expected = (-(hess @ g) * w).sum().item()
    got = score_network(lin, x, y, ["grasp"])["grasp"][0]
    assert got == pytest.approx(expected, rel=1e-5)


def test_fisher_by_hand():
    net, (x, y) = tiny_net(), batch()
    net.train()
    z1 = net[0](x)
    z1.retain_grad()
    h = net[4](net[3](net[2](net[1](z1))))
    z2 = net[5](h)
    z2.retain_grad()
    F.cross_entropy(z2, y).backward()
    ch1 = 0.5 * (z1 * z1.grad).sum((2, 3)).pow(2).mean(0)  # per output channel of the conv
    ch2 = 0.5 * (z2 * z2.grad).pow(2).mean(0)              # ... and of the linear layer
    # reference library: each channel's value filled into every weight of that channel, summed
    per_weight = [torch.stack([torch.full(tuple(net[0].weight.shape[1:]), v.item()) for v in ch1]),
                  torch.stack([torch.full(tuple(net[5].weight.shape[1:]), v.item()) for v in ch2])]
    expected = sum(t.sum().item() for t in per_weight)
    assert expected == pytest.approx((2 * 3 * 3) * ch1.sum().item() + 3 * ch2.sum().item(), rel=1e-6)
    got = score_network(net, x, y, ["fisher", "fisher_channel"])
    assert got["fisher"][0] == pytest.approx(expected, rel=1e-5)
    assert got["fisher_channel"][0] == pytest.approx((ch1.sum() + ch2.sum()).item(), rel=1e-5)


def test_synflow_closed_form_on_linear_chain():
    torch.manual_seed(0)
    chain = nn.Sequential(nn.Linear(4, 3, bias=False), nn.Linear(3, 2, bias=False))
    w1, w2 = chain[0].weight.detach().abs().double(), chain[1].weight.detach().abs().double()
    r = (torch.ones(2, dtype=torch.float64) @ w2 @ w1 @ torch.ones(4, dtype=torch.float64)).item()
    # dR/d|W1|_ij = sum_k |W2|_ki  =>  sum |W1 * dR/dW1| = R; likewise for W2: synflow = 2R
    assert synflow_pass(chain, (4,)).item() == pytest.approx(2 * r, rel=1e-12)
    assert synflow_pass(chain, (4,)).dtype == torch.float64


def test_synflow_bn_differs_and_stays_float64():
    net = init_seeded(nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|skip_connect~2|"),
                      0, C=4, N=1)
    with_bn, without = synflow_pass(net, (3, 8, 8), keep_bn=True), synflow_pass(net, (3, 8, 8))
    assert with_bn.dtype == without.dtype == torch.float64 and with_bn.item() != without.item()
    assert next(net.parameters()).dtype == torch.float32  # the original network is untouched


def test_relu_logdet_hand_made_pattern():
    # codes per image: a=[1,0], b=[1,1], d=[0,0]; K = matches: [[2,1,1],[1,2,0],[1,0,2]], det = 4
    x = torch.tensor([[1.0, -1.0], [2.0, 3.0], [-1.0, -2.0]])
    assert torch.equal(hamming_kernel([x]), torch.tensor([[2.0, 1, 1], [1, 2, 0], [1, 0, 2]], dtype=torch.float64))
    res = proxies.passes.PassResult(weights=[], relu_inputs=[x])
    assert proxies.get(["relu_logdet"])[0].fn(res, {}).item() == pytest.approx(math.log(4.0))
    # a second ReLU with the same codes doubles K: logdet + 3 log 2
    res2 = proxies.passes.PassResult(weights=[], relu_inputs=[x, x])
    assert proxies.get(["relu_logdet"])[0].fn(res2, {}).item() == pytest.approx(math.log(4.0) + 3 * math.log(2))


def test_relu_logdet_singular_is_nan():
    x = torch.ones(3, 4)  # identical codes: K has rank 1
    res = proxies.passes.PassResult(weights=[], relu_inputs=[x])
    assert math.isnan(proxies.get(["relu_logdet"])[0].fn(res, {}).item())


class HalfSquare(nn.Module):
    """logits whose sum is 0.5 * sum(x^2): the Jacobian of each image is the image itself."""
    def forward(self, x):
        s = 0.25 * x.pow(2).flatten(1).sum(1, keepdim=True)
        return torch.cat([s, s], 1)


def test_jacob_cov_known_jacobian():
    x, y = batch(n=5)
    res = main_pass(HalfSquare(), x, y, need_grads=False, need_jacobian=True)
    assert torch.allclose(res.jacobian, x.flatten(1))
    corr = np.corrcoef(x.flatten(1).double().numpy())
    v = np.linalg.eigvalsh(corr)
    expected = -np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5))
    got = proxies.get(["jacob_cov"])[0].fn(res, {}).item()
    assert got == pytest.approx(expected, rel=1e-9)


def test_relu_count_on_nb201_network():
    # C=4, N=1: 3 cells with 2 conv edges each (1 ReLU each) + 2 reduction blocks (2 each) + lastact
    arch = nb201.parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|skip_connect~2|")
    net = init_seeded(arch, 0, C=4, N=1)
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
    assert score_network(net, x, y, ["relu"])["relu"][0] == 3 * 2 + 2 * 2 + 1


def test_dead_edge_is_invisible_to_every_proxy():
    # edge 1<-0 (conv3x3) is dead: node 1 feeds nothing. Same weights elsewhere, so every proxy
    # (relu count and relu_logdet included) must equal the arch with that edge set to `none`
    dead = nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|")
    clean = (nb201.NONE,) + tuple(dead[1:])
    assert not nb201.live_edges(dead)[0]
    net_clean = init_seeded(clean, 3, C=4, N=1)
    net_dead = init_seeded(dead, 3, C=4, N=1)
    missing, unexpected = net_dead.load_state_dict(net_clean.state_dict(), strict=False)
    assert not unexpected and all(".edges.0." in k for k in missing)  # only the dead conv differs
    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g)
    names = ["relu", "relu_logdet", "grad_norm", "snip", "fisher", "jacob_cov", "synflow"]
    a, b = score_network(net_dead, x, y, names), score_network(net_clean, x, y, names)
    # 3 cells x 2 live convs + 2 reductions x 2 + lastact; the dead conv's ReLU never runs
    assert a["relu"][0] == b["relu"][0] == 3 * 2 + 2 * 2 + 1
    assert a["relu_logdet"][0] == b["relu_logdet"][0]
    for name in names[2:]:
        assert a[name][0] == pytest.approx(b[name][0], rel=1e-6), name
    # the dead edge keeps its weights, so #params still counts them
    assert sum(p.numel() for p in net_dead.parameters()) > sum(p.numel() for p in net_clean.parameters())


class WrappedReLU(nn.ReLU):
    """A ReLU module whose call is an inner ReLU module's call: one application."""
    def __init__(self):
        super().__init__()
        self.inner = nn.ReLU()

    def forward(self, x):
        return self.inner(x)


class TwiceReLU(nn.Module):
    """One ReLU module applied twice, then a wrapped ReLU."""
    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2, self.fc3 = nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.Linear(16, 3)
        self.wrapped = WrappedReLU()

    def forward(self, x):
        return self.fc3(self.wrapped(self.act(self.fc2(self.act(self.fc1(x))))))


def test_relu_counted_per_application_never_twice():
    torch.manual_seed(0)
    net = TwiceReLU()
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    with torch.no_grad():  # the three ReLU inputs, by hand
        h1 = net.fc1(x)
        h2 = net.fc2(torch.relu(h1))
        h3 = torch.relu(h2)
    got = score_network(net, x, y, ["relu", "relu_logdet"])
    assert got["relu"][0] == 3  # act twice + the wrapped ReLU once (not again for its inner ReLU)
    codes = [(h > 0).double() for h in (h1, h2, h3)]
    kernel = sum(c @ c.T + (1 - c) @ (1 - c).T for c in codes)
    assert got["relu_logdet"][0] == pytest.approx(torch.linalg.slogdet(kernel)[1].item(), rel=1e-9)


def test_public_score_on_a_foreign_module():
    import nas_core

    net, (x, y) = tiny_net(), batch()
    names = ["grad_norm", "snip", "fisher", "jacob_cov", "synflow", "relu", "relu_logdet", "params"]
    got = nas_core.score(net, x, y, names)
    assert set(got) == set(names) and all(isinstance(v, float) for v in got.values())
    engine = score_network(net, x, y, names)
    assert all(got[n] == engine[n][0] for n in names if n != "params")
    assert got["params"] == (2 * 3 * 9 + 3 + 3 + 3 * 4 + 4) / 1e6  # conv + BN affine + linear
    assert got["relu"] == 1
    with pytest.raises(BadParameter, match="flops needs the architecture"):
        nas_core.score(net, x, y, ["flops"])
    assert nas_core.score(net, x, y, ["flops"], context={"flops_M": 2.5})["flops"] == 2.5
    with pytest.raises(BadParameter, match="vote"):
        nas_core.score(net, x, y, ["vote"])
    with pytest.raises(BadParameter, match="batch"):
        nas_core.score(net, x, y[:3], ["snip"])


def test_import_nas_core_stays_light():
    import subprocess
    import sys

    code = "import sys, nas_core; assert 'torch' not in sys.modules; nas_core.score; assert 'torch' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_vote_copeland_by_hand():
    experts = pd.DataFrame({"a": [3.0, 2.0, 1.0], "b": [1.0, 2.0, 3.0], "c": [3.0, 1.0, 2.0]})
    # arch0 vs arch1: a, c say 0 > 1 -> 0 wins; 0 vs 2: a, c -> 0 wins; 1 vs 2: a says 1, b says 2, c says 2 -> 2 wins
    assert vote_scores(experts).tolist() == pytest.approx([2 / 2, -2 / 2, 0.0])
    with_nan = experts.assign(a=[np.nan, 2.0, 1.0])
    assert np.isfinite(vote_scores(with_nan)).all()


def test_shared_pass_equals_one_proxy_at_a_time():
    arch = nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    net = init_seeded(arch, 20, C=4, N=1)
    x, y = batch(seed=3, n=8)
    x = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    names = ["grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "synflow_bn", "jacob_cov", "relu_logdet", "relu"]
    together = score_network(net, x, y, names)
    for name in names:
        alone = score_network(net, x, y, [name])[name][0]
        assert together[name][0] == pytest.approx(alone, rel=1e-6, abs=1e-12), name


PINNED = {  # C=4, N=1 network of this arch, seed 20, the fixed input below (float32 CPU);
    # a change of any proxy's behaviour shows here (relu: 3 cells x 3 convs + 2 x 2 + 1 = 14;
    # fisher: the reference library's per-weight broadcast, fisher_channel: each channel once)
    "grad_norm": 14.789946556091309, "snip": 16.700300216674805, "grasp": 5.420490264892578,
    "fisher": 0.6060028672218323, "fisher_channel": 0.01499307993799448, "plain": 0.11127397418022156, "synflow": 54605007.1130684,
    "synflow_bn": 143.56584532597222, "jacob_cov": -8.478485973781664, "relu_logdet": 56.89562024304362,
    "relu": 14.0,
}


def pinned_values():
    arch = nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
    net = init_seeded(arch, 20, C=4, N=1)
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g)
    return {k: v[0] for k, v in score_network(net, x, y, list(PINNED)).items()}


def test_init_is_deterministic_for_a_seed():
    arch = nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
    a, b = init_seeded(arch, 5, C=4, N=1), init_seeded(arch, 5, C=4, N=1)
    c = init_seeded(arch, 6, C=4, N=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert pinned_values() == pinned_values()


def test_pinned_values_on_tiny_network():
    got = pinned_values()
    for name, value in PINNED.items():
        assert got[name] == pytest.approx(value, rel=2e-4), name
