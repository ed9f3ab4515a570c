"""`score(net, x, y, proxies)`: zero-shot proxies of any PyTorch module in one shared pass.

This is the one entry point behind `nas_core.score` and the zero-shot engine. The network can
be any `nn.Module` mapping a batch `x` to logits; its `nn.Conv2d`/`nn.Linear` layers are the
scored layers and its `nn.ReLU` modules feed `relu`/`relu_logdet` (functional ReLUs are not
seen). BN stays in train mode (batch statistics); the weights never change.

Analytic proxies: `params` is taken from `context["params_M"]` (the engine passes the
benchmark network's count) and otherwise counts the module's parameters (millions);
`flops` and `az_nas_complexity` need the architecture (`context["flops_M"]`); `vote` and
`az_nas` rank several architectures from other proxies (`proxies.RANK_AGGREGATES`), so they
are not per-network scores.

Passes: the main pass (`passes.main_pass`) serves every need in `MAIN_NEEDS`; synflow,
synflow_bn and the passes registered by proxy modules (`proxies.PASSES`: zen, az_nas,
te_nas_lr, zico, gradsign) run once each when some requested proxy needs them. Random draws
of those passes (Gaussian inputs, re-drawn weights) are seeded from `context["seed"]`
(default 0; the engine passes the network's init seed).
"""
from __future__ import annotations

import math
import time

import torch

from nas_core import proxies as registry
from nas_core.errors import BadParameter
from nas_core.proxies.passes import PassResult, main_pass, scored_layers, synflow_pass

DEFAULT = ("grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "jacob_cov", "relu_logdet", "relu", "params")
MAIN_NEEDS = {"grads", "activations", "relu", "hvp", "jacobian", "features", "ntk"}
SYNFLOW_PASSES = {"synflow": False, "synflow_bn": True}  # need -> keep BN


def score(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, proxies=DEFAULT, *,
          context: dict | None = None) -> dict[str, float]:
    """{proxy name: value} for one network and one batch (NaN where a proxy failed
    numerically; `score_detailed` also gives seconds and the reason)."""
    return {name: value for name, (value, _, _) in score_detailed(net, x, y, proxies, context).items()}


def score_detailed(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, proxies,
                   context: dict | None = None) -> dict[str, tuple[float, float, str]]:
    """{proxy: (value, seconds, reason)}; seconds = the proxy's share of the shared pass
    (pass time / proxies using it) plus its own reduction."""
    names = [proxies] if isinstance(proxies, str) else list(dict.fromkeys(proxies))
    context = dict(context or {})
    _check(net, x, y, names, context)
    if "params" in names and "params_M" not in context:
        context["params_M"] = sum(p.numel() for p in net.parameters()) / 1e6
    chosen = registry.get(names)
    needs = {need for p in chosen for need in p.needs}
    out: dict[str, tuple[float, float, str]] = {}
    shared_cost: dict[str, float] = {}  # need -> seconds of its pass per proxy using it
    result = None
    main_needs = needs & MAIN_NEEDS
    if main_needs:
        users = [p for p in chosen if set(p.needs) & main_needs]
        t0 = time.perf_counter()
        try:
            result = main_pass(net, x, y, need_grads="grads" in needs or "hvp" in needs,
                               need_activations="activations" in needs, need_relu="relu" in needs,
                               need_hvp="hvp" in needs, need_jacobian="jacobian" in needs,
                               need_features="features" in needs, need_ntk="ntk" in needs)
        except RuntimeError as exc:  # e.g. overflow inside autograd: every proxy of the pass fails
            reason = f"shared pass failed: {str(exc).splitlines()[0][:120]}"
            for p in users:
                out[p.name] = (math.nan, 0.0, reason)
        _sync(x)
        shared_cost["main"] = (time.perf_counter() - t0) / max(len(users), 1)
    if result is None:  # proxies that read only the weights (l2_norm) need no pass
        result = PassResult(weights=[m.weight for m in scored_layers(net)], labels=y)
    for need in sorted(needs & (set(SYNFLOW_PASSES) | set(registry.PASSES))):
        users = [p for p in chosen if need in p.needs]
        t0 = time.perf_counter()
        try:
            if need in SYNFLOW_PASSES:
                context[need] = synflow_pass(net, tuple(x.shape[1:]), keep_bn=SYNFLOW_PASSES[need])
            else:
                context[need] = registry.PASSES[need](net, x, y, context)
        except (RuntimeError, ValueError) as exc:  # numerical failure: NaN with the reason
            reason = f"{need} pass failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            for p in users:
                out.setdefault(p.name, (math.nan, 0.0, reason))
        _sync(x)
        shared_cost[need] = (time.perf_counter() - t0) / len(users)
    # Each reduction stays on the device; the values come to the host together at the end, so
    # a GPU is synchronised once per network, not once per proxy (a reduction's seconds are
    # then its launch time on a GPU).
    pending: dict[str, tuple[torch.Tensor | float, float, str]] = {}
    for p in chosen:
        if p.name in out:
            continue
        t0 = time.perf_counter()
        try:
            with torch.no_grad():
                value, reason = p.fn(result, context), ""
        except (RuntimeError, ValueError) as exc:  # numerical failure: NaN with the reason
            value, reason = math.nan, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        cost = time.perf_counter() - t0
        cost += shared_cost.get("main", 0.0) if set(p.needs) & main_needs else 0.0
        cost += sum(shared_cost.get(need, 0.0) for need in p.needs if need not in MAIN_NEEDS)
        pending[p.name] = (value, cost, reason)
    for name, value in zip(pending, _to_floats([v for v, _, _ in pending.values()])):
        _, cost, reason = pending[name]
        if not math.isfinite(value):
            value = math.nan
            reason = reason or "non-finite value (overflow or singular matrix)"
        out[name] = (value, cost, reason)
    return {p.name: out[p.name] for p in chosen}


def _to_floats(values) -> list[float]:
    """Python floats of 0-d tensors / numbers, with one device-to-host copy per device."""
    floats = [math.nan] * len(values)
    by_device: dict = {}
    for i, v in enumerate(values):
        if torch.is_tensor(v):
            by_device.setdefault(v.device, []).append(i)
        else:
            floats[i] = float(v)
    for idx in by_device.values():
        # float64 holds every float32 value exactly; each proxy keeps its own precision
        got = torch.stack([values[i].detach().reshape(()).to(torch.float64) for i in idx]).tolist()
        for i, g in zip(idx, got):
            floats[i] = g
    return floats


def _check(net, x, y, names, context: dict) -> None:
    if not isinstance(net, torch.nn.Module):
        raise BadParameter(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if not (torch.is_tensor(x) and torch.is_tensor(y)) or x.dim() < 2 or y.dim() != 1 or len(x) != len(y):
        raise BadParameter("x must be a batch tensor (B, ...) and y a 1-d tensor of B class labels",
                           where=f"x {tuple(getattr(x, 'shape', ()))}, y {tuple(getattr(y, 'shape', ()))}")
    for name in names:
        if name in registry.RANK_AGGREGATES:
            raise BadParameter(f"{name} is not a per-network score: it ranks several architectures from other proxies",
                               fix=f"score each network with its parts, then call {registry.RANK_AGGREGATES[name]}")
        if name in registry.NEEDS_FLOPS and "flops_M" not in context:
            raise BadParameter(f"{name} needs the architecture's FLOPs: it is analytic, not measured on the module",
                               fix=f"pass context={{'flops_M': ...}} (the zero-shot engine does) or drop {name!r}")


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:
        torch.cuda.synchronize(x.device)
