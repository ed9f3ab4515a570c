"""Shared forward/backward passes behind the zero-shot proxies.

The reference library recomputes a forward and a backward for every proxy. Here one pass
collects everything the requested proxies need, and each proxy is a small reduction of it:

  `main_pass`  one forward of the network (BN in train mode, cross-entropy loss) that records
               conv/linear outputs and ReLU inputs, then
                 * gradients of the loss w.r.t. the Conv2d/Linear weights and outputs
                   (grad_norm, snip, plain, fisher),
                 * with `need_hvp`, a Hessian-vector product H g through the same graph (grasp),
                 * with `need_jacobian`, d(sum of logits)/d(input) (jacob_cov, epe_nas);
                 * with `need_features`, the first image's output of every module call (meco);
                 * with `need_ntk`, the empirical NTK of the logit sums (te_nas_ntk): one
                   backward per image through the same graph;
  `synflow_pass`  a float64 copy with |weights|, an all-ones input, BN removed (or kept).

Passes that share nothing with these (their own inputs, weights or batch splits: zen, az_nas,
te_nas_lr, zico, gradsign) live in their proxy modules, registered with
`proxies.register_pass`; `seeded_generator` and `gaussian` give them reproducible draws.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F


def scored_layers(net: nn.Module) -> list[nn.Module]:
    """The layers whose weights count (the study: Conv2d and Linear only), in module order."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@dataclass
class PassResult:
    weights: list[torch.Tensor]
    grads: list[torch.Tensor] | None = None          # dL/dW per scored layer
    outputs: list[torch.Tensor] = field(default_factory=list)      # z of each conv/linear call
    output_layers: list[nn.Module] = field(default_factory=list)   # the layer of each z
    output_grads: list[torch.Tensor] = field(default_factory=list)  # dL/dz
    relu_inputs: list[torch.Tensor] = field(default_factory=list)   # (input > 0) of each ReLU application
    relu_calls: int = 0                                              # ReLU applications
    hvp: list[torch.Tensor] | None = None            # (H g) per scored layer
    jacobian: torch.Tensor | None = None             # (B, D) d(sum logits)/dx
    labels: torch.Tensor | None = None               # y of the batch (epe_nas groups by class)
    first_outputs: list[torch.Tensor] = field(default_factory=list)  # image 0's output of each module call
    ntk: torch.Tensor | None = None                  # (B, B) float64 <d f_i/dW, d f_j/dW>, f_i = sum of logits i


def main_pass(net: nn.Module, x: torch.Tensor, y: torch.Tensor, *, need_grads: bool = True,
              need_activations: bool = False, need_relu: bool = False, need_hvp: bool = False,
              need_jacobian: bool = False, need_features: bool = False, need_ntk: bool = False) -> PassResult:
    net.train()  # BN uses batch statistics (the study); no optimizer step, so weights never change
    layers = scored_layers(net)
    weights = [m.weight for m in layers]
    result = PassResult(weights=weights, labels=y)
    handles = []
    if need_features:
        # every module call (containers and the root too, as MeCo's hooks on named_modules()),
        # image 0 only: a copy, so a later in-place op cannot change it. An output of < 3 dims
        # (B, F) gives MeCo an (F, 1) matrix whose correlations are all NaN, zeroed: λ_min = 0,
        # so it adds exactly nothing and is not kept
        def keep_first(module, inputs, output):
            if torch.is_tensor(output) and output.dim() >= 3:
                result.first_outputs.append(output[0].detach().clone())
        handles += [m.register_forward_hook(keep_first) for m in net.modules()]
    if need_activations:
        def keep_output(module, inputs, output):
            result.outputs.append(output)
            result.output_layers.append(module)
        handles += [m.register_forward_hook(keep_output) for m in layers]
    if need_relu:
        # One record per ReLU *application*: a module applied k times counts k times (hooks fire
        # per call; net.modules() lists each module once), and a ReLU nested inside another
        # ReLU module's call is the same application, so only the outermost one records.
        # A tensor fed to several ReLUs (an NB201 node feeding several conv edges) is coded
        # once and listed once per application as the same object, so the kernel can weight
        # it by its multiplicity instead of recomputing (`hamming_kernel`).
        depth, seen = [0], {}

        def enter_relu(module, inputs):
            depth[0] += 1
            if depth[0] == 1:
                key = id(inputs[0])
                if key not in seen:  # the input is kept alive in `seen`, so its id is not reused
                    seen[key] = (inputs[0], inputs[0].detach() > 0)  # binary code: 1/4 the memory of floats
                result.relu_inputs.append(seen[key][1])
                result.relu_calls += 1

        def leave_relu(module, inputs, output):
            depth[0] -= 1
        relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
        handles += [m.register_forward_pre_hook(enter_relu) for m in relus]
        handles += [m.register_forward_hook(leave_relu) for m in relus]
    try:
        x = x.detach().requires_grad_(need_jacobian)
        logits = net(x)
    finally:
        for h in handles:
            h.remove()
        if need_relu:
            seen.clear()
    if need_grads or need_activations or need_hvp:
        loss = F.cross_entropy(logits, y)
        wrt = weights + result.outputs
        grads = torch.autograd.grad(loss, wrt, create_graph=need_hvp, retain_graph=True, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(wrt, grads)]
        w_grads = grads[: len(weights)]
        result.output_grads = [g.detach() for g in grads[len(weights):]]
        result.outputs = [o.detach() for o in result.outputs]
        if need_hvp:
            # H g: differentiate (g . stop_grad(g)) once more (GraSP, Wang et al. 2020)
            dot = sum((g * g.detach()).sum() for g in w_grads)
            hvp = torch.autograd.grad(dot, weights, retain_graph=need_jacobian, allow_unused=True)
            result.hvp = [torch.zeros_like(w) if h is None else h.detach() for w, h in zip(weights, hvp)]
        result.grads = [g.detach() for g in w_grads]
    if need_ntk:
        result.ntk = logit_ntk(net, logits)
    if need_jacobian:
        (jac,) = torch.autograd.grad(logits.sum(), x)
        result.jacobian = jac.reshape(jac.shape[0], -1).detach()
    return result


def logit_ntk(net: nn.Module, logits: torch.Tensor) -> torch.Tensor:
    """Empirical NTK as TE-NAS computes it: g_i = d(sum_c logits[i, c])/dW over every parameter
    whose name contains "weight" (conv, linear and BN scales), one backward per image through
    the batch's graph (BN couples the images, so no per-sample shortcut); K = G G^T in float64.
    Parameters the forward never uses have zero gradients and add nothing."""
    named = [p for n, p in net.named_parameters() if "weight" in n and p.requires_grad]
    rows = []
    for i in range(logits.shape[0]):
        grads = torch.autograd.grad(logits[i].sum(), named, retain_graph=True, allow_unused=True)
        used = [g.reshape(-1) for g in grads if g is not None]
        rows.append(torch.cat(used) if used else logits.new_zeros(0))
    return _gram_float64(torch.stack(rows))


def _gram_float64(g: torch.Tensor) -> torch.Tensor:
    """G G^T accumulated in float64 over column blocks (a float32 product of long rows loses
    the small eigenvalues the condition number divides by)."""
    out = torch.zeros(g.shape[0], g.shape[0], dtype=torch.float64, device=g.device)
    for start in range(0, g.shape[1], 1 << 18):
        block = g[:, start:start + (1 << 18)].double()
        out.addmm_(block, block.T)
    return out


def seeded_generator(context: dict, salt: int) -> torch.Generator:
    """A CPU generator for a pass's own random draws (Gaussian inputs, re-drawn weights): one
    stream per (context["seed"], pass), so scoring alone or together draws the same numbers."""
    return torch.Generator().manual_seed(int(context.get("seed", 0)) * 1_000_003 + salt)


def gaussian(shape, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Standard normal draws made on the CPU (the same numbers on every device), moved to
    `like`'s device and dtype."""
    return torch.randn(tuple(shape), generator=generator).to(device=like.device, dtype=like.dtype)


def synflow_pass(net: nn.Module, input_shape: tuple[int, ...], keep_bn: bool = False) -> torch.Tensor:
    """SynFlow (Tanaka et al. 2020): sum |dR/dW * W| with R = sum of the outputs of the
    network with |W| in float64 on one all-ones input. BN is removed unless `keep_bn`."""
    twin = copy.deepcopy(net).double()
    if not keep_bn:
        _remove_batchnorm(twin)
    twin.train()
    with torch.no_grad():
        for p in twin.parameters():
            p.abs_()
    layers = scored_layers(twin)
    weights = [m.weight for m in layers]
    ones = torch.ones((1,) + tuple(input_shape), dtype=torch.float64, device=weights[0].device)
    out = twin(ones).sum()
    grads = torch.autograd.grad(out, weights, allow_unused=True)
    total = torch.zeros((), dtype=torch.float64, device=weights[0].device)
    for w, g in zip(weights, grads):
        if g is not None:
            total = total + (g * w).abs().sum()
    return total


def _remove_batchnorm(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            _remove_batchnorm(child)
