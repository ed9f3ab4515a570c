"""The optimised shared pass against a frozen transcription of the pass it replaced (one
forward, a create_graph backward, H g through it, a separate input-Jacobian backward, the
Hamming kernel from all ReLU codes concatenated, synflow on a deep copy). Every proxy must
agree within 1e-6 relative: speed-ups may reorder work, never change a value."""
import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nas_core.engines.zeroshot import score_network
from nas_core.nets.network import init_seeded
from nas_core.space import nb201

NAMES = ["grad_norm", "snip", "grasp", "fisher", "fisher_channel", "plain", "synflow", "synflow_bn",
         "jacob_cov", "relu_logdet", "relu"]
ARCHS = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|",
         "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
         "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")


def frozen_scores(net, x, y):
    """The computation before the speed work, transcribed (not imported) so it cannot drift."""
    net.train()
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    weights = [m.weight for m in layers]
    outputs, out_layers, codes, depth = [], [], [], [0]

    def keep(m, i, o):
        outputs.append(o)
        out_layers.append(m)

    def enter(m, i):
        depth[0] += 1
        if depth[0] == 1:
            codes.append(i[0].detach() > 0)

    def leave(m, i, o):
        depth[0] -= 1
    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    hs = [m.register_forward_hook(keep) for m in layers] + [m.register_forward_pre_hook(enter) for m in relus]
    hs += [m.register_forward_hook(leave) for m in relus]
    xg = x.detach().requires_grad_(True)
    logits = net(xg)
    for h in hs:
        h.remove()
    loss = F.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, weights + outputs, create_graph=True, retain_graph=True, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip(weights + outputs, grads)]
    wg, og = grads[:len(weights)], [g.detach() for g in grads[len(weights):]]
    dot = sum((g * g.detach()).sum() for g in wg)
    hvp = torch.autograd.grad(dot, weights, retain_graph=True, allow_unused=True)
    hvp = [torch.zeros_like(w) if h is None else h for w, h in zip(weights, hvp)]
    wg = [g.detach() for g in wg]
    (jac,) = torch.autograd.grad(logits.sum(), xg)
    jac = jac.reshape(len(x), -1).double()

    def per_channel(z, dz):
        p = z.detach() * dz
        return 0.5 * (p.sum(dim=tuple(range(2, p.dim()))) if p.dim() > 2 else p).pow(2).mean(0)

    c = torch.cat([k.reshape(len(x), -1).float() for k in codes], dim=1)
    s = c.sum(1, keepdim=True).double()
    kernel = 2.0 * (c @ c.T).double() - s - s.T + c.shape[1]
    v = torch.linalg.eigvalsh(torch.corrcoef(jac))
    out = {"grad_norm": sum(g.norm() for g in wg), "snip": sum((g * w).abs().sum() for g, w in zip(wg, weights)),
           "grasp": sum((-h * w).sum() for h, w in zip(hvp, weights)),
           "fisher": sum(m.weight[0].numel() * per_channel(z, dz).sum() for z, dz, m in zip(outputs, og, out_layers)),
           "fisher_channel": sum(per_channel(z, dz).sum() for z, dz in zip(outputs, og)),
           "plain": sum((g * w).sum() for g, w in zip(wg, weights)),
           "jacob_cov": -(torch.log(v + 1e-5) + 1.0 / (v + 1e-5)).sum(),
           "relu_logdet": torch.linalg.slogdet(kernel)[1], "relu": len(codes)}
    for name, keep_bn in (("synflow", False), ("synflow_bn", True)):
        twin = copy.deepcopy(net).double()
        if not keep_bn:
            _strip_bn(twin)
        with torch.no_grad():
            for p in twin.parameters():
                p.abs_()
        tw = [m.weight for m in twin.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        r = twin(torch.ones((1,) + tuple(x.shape[1:]), dtype=torch.float64)).sum()
        out[name] = sum((g * w).abs().sum() for g, w in zip(torch.autograd.grad(r, tw), tw))
    return {k: float(v) for k, v in out.items()}


def _strip_bn(module):
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            _strip_bn(child)


@pytest.mark.parametrize("arch", ARCHS)
def test_pass_equals_frozen_computation(arch):
    net = init_seeded(nb201.parse(arch), 20, C=4, N=2)
    g = torch.Generator().manual_seed(11)
    x, y = torch.randn(12, 3, 8, 8, generator=g), torch.randint(0, 10, (12,), generator=g)
    want = frozen_scores(net, x, y)
    got = {k: v[0] for k, v in score_network(net, x, y, NAMES).items()}
    for name in NAMES:
        assert got[name] == pytest.approx(want[name], rel=1e-6, abs=1e-12), name
    # each proxy alone takes its own (smaller) pass: same values
    for name in NAMES:
        assert score_network(net, x, y, [name])[name][0] == pytest.approx(want[name], rel=1e-6, abs=1e-12), name


def test_values_come_to_the_host_unchanged():
    from nas_core.proxies.api import _to_floats

    values = [torch.tensor(0.1, dtype=torch.float32), torch.tensor(1e300, dtype=torch.float64), 3,
              torch.tensor(float("nan")), torch.tensor([2.5])]
    got = _to_floats(values)
    assert got[:3] == [float(torch.tensor(0.1, dtype=torch.float32)), 1e300, 3.0]  # float32 exactly, float64 kept
    assert got[3] != got[3] and got[4] == 2.5


def test_gpu_projection_script_runs_on_cpu(capsys):
    import importlib.util
    import types
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_zeroshot.py"
    spec = importlib.util.spec_from_file_location("bench_zeroshot", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.all_space_projection(types.SimpleNamespace(device="cpu", archs=2, batch=8, C=4, N=1))
    out = capsys.readouterr().out
    assert "archs/s" in out and "projected for all 15625" in out and "0 NaN" in out
