"""AZ-NAS (Lee & Ham, CVPR 2024, "AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture
Search"): four per-network terms and their rank aggregate.

On a copy of the network re-initialised as the code does (Kaiming normal, fan-in, ReLU gain
for Conv2d/Linear weights, biases 0, BN/GroupNorm scales 1 and shifts 0), train mode, one
Gaussian batch shaped like the scored batch; f_0 ... f_L = the block features (NB201: the
stem's output and every cell's, reduction blocks included):

  expressivity   E_l = entropy of the normalised eigenvalues p = s / Σ s of the channel
                 covariance of f_l (positions and images as samples, centred, divided by n):
                 Σ -p log(p + 1e-8);  az_nas_expressivity = Σ_l E_l
  progressivity  az_nas_progressivity = min_l (E_l - E_{l-1})
  trainability   for each pair (f_{l-1}, f_l): g_out = random ±1 (Bernoulli 0.5) shaped like f_l,
                 g_in = (∂f_l/∂f_{l-1})^T g_out (pixel-unshuffled to f_l's resolution when
                 it is larger), M = g_in^T g_out / #positions (channels_in x channels_out),
                 σ = largest singular value of M, t_l = -σ - 1/(σ + 1e-6) + 2; an identity block
                 (g_in equal to g_out) gives -inf; az_nas_trainability = mean_l t_l
  complexity     az_nas_complexity = FLOPs of the architecture (context["flops_M"])

  az_nas = Σ_terms log(rank(term) / M) over M architectures (ascending average ranks; scipy's
           `rankdata`), `az_nas_scores` below: a rank aggregate, not a per-network score.

Source: the authors' code (cvlab-yonsei/AZ-NAS, NB201/ZeroShotProxy/compute_az_nas_score.py
and the aggregation in NB201/tss_general.ipynb), followed where the paper is less specific:
the init, the Gaussian input (the notebook feeds noise to az_nas), NaN terms becoming -inf,
FLOPs as the complexity term. The kit draws the init, the input and the ±1 signs from one
generator seeded by `context["seed"]` (in that order; the signs from the last block back), and
computes the covariance and its eigenvalues in float64 (the code: float32). A NaN/-inf term is
reported as NaN (invalid, ranked worst, as -inf ranks lowest in the code's aggregation).

Blocks: a network may say which modules' outputs are its block features with a
`feature_modules()` method (the kit's NB201 network and supernet do: stem + cells). Otherwise
the blocks are the root module's children in order (nn.ModuleList/nn.Sequential children
expanded one level, a root with a single child unwrapped) whose output is a 4-D map with more
than one position. Fewer than 2 blocks: a clear error. On trained (supernet) weights the terms
are those of the random init: the method re-draws every weight.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from nas_core.errors import BadParameter
from nas_core.proxies import register, register_pass
from nas_core.proxies.passes import gaussian, seeded_generator

SALT = 2
TERMS = ("az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability", "az_nas_complexity")


def kaiming_reinit_(net: nn.Module, generator: torch.Generator) -> None:
    """AZ-NAS's `kaiming_normal_fanin_init`: N(0, 2 / fan_in) weights, drawn in module order."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                std = (2.0 / m.weight[0].numel()) ** 0.5  # fan_in = in_channels/groups x kernel positions
                m.weight.copy_(gaussian(m.weight.shape, generator, m.weight) * std)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()


def candidate_blocks(net: nn.Module) -> tuple[list[nn.Module], bool]:
    """(modules whose outputs may be block features, whether the network named them itself)."""
    if callable(getattr(net, "feature_modules", None)):
        return list(net.feature_modules()), True
    root = net
    while len(list(root.children())) == 1:
        root = next(root.children())
    blocks = []
    for child in root.children():
        blocks.extend(child.children() if isinstance(child, (nn.ModuleList, nn.Sequential)) else [child])
    return blocks, False


def block_features(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The block outputs of one forward of x, in call order (graph kept for trainability)."""
    blocks, named = candidate_blocks(net)
    features = []

    def keep(module, inputs, output):
        if named or (torch.is_tensor(output) and output.dim() == 4 and output.shape[2] * output.shape[3] > 1):
            features.append(output)
    handles = [b.register_forward_hook(keep) for b in blocks]
    try:
        net(x)
    finally:
        for h in handles:
            h.remove()
    if len(features) < 2:
        raise BadParameter(f"AZ-NAS compares consecutive block features and found {len(features)} block(s) in this "
                           "network", fix="give the network a feature_modules() method returning its blocks in "
                                          "order (stem, cells, ...), or drop the az_nas terms")
    return features


def expressivity_terms(features) -> np.ndarray:
    """E_l: entropy of the normalised eigenvalues of each block's channel covariance."""
    out = []
    for f in features:
        b, c, h, w = f.shape
        z = f.detach().permute(0, 2, 3, 1).reshape(b * h * w, c).double()
        z = z - z.mean(dim=0, keepdim=True)
        s = torch.linalg.eigvalsh(z.T @ z / z.shape[0])
        p = s / s.sum()
        out.append(float((-p * torch.log(p + 1e-8)).sum()))
    return np.array(out)


def trainability_terms(features, generator: torch.Generator) -> list[float]:
    """t_l for each consecutive pair, from the last block back (the code's order)."""
    scores = []
    for i in reversed(range(1, len(features))):
        f_out, f_in = features[i], features[i - 1]
        g_out = (torch.bernoulli(torch.full(tuple(f_out.shape), 0.5), generator=generator) - 0.5) * 2
        g_out = g_out.to(device=f_out.device, dtype=f_out.dtype)
        (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True)
        if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
            scores.append(-np.inf)
            continue
        if g_in.shape[2:] != g_out.shape[2:]:
            g_in = nn.functional.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
        bo, co, ho, wo = g_out.shape
        a = g_in.permute(0, 2, 3, 1).reshape(bo * ho * wo, -1).double()
        m = a.T @ g_out.permute(0, 2, 3, 1).reshape(bo * ho * wo, co).double() / (bo * ho * wo)
        sigma = float(torch.linalg.svdvals(m).max())
        scores.append(-sigma - 1.0 / (sigma + 1e-6) + 2.0)
    return scores


@register_pass("az_nas")
def az_nas_terms(net, x, y, context) -> dict[str, float]:
    generator = seeded_generator(context, SALT)
    twin = copy.deepcopy(net)
    kaiming_reinit_(twin, generator)
    twin.train()
    features = block_features(twin, gaussian(x.shape, generator, x))
    e = expressivity_terms(features)
    with np.errstate(invalid="ignore"):
        terms = {"expressivity": float(e.sum()), "progressivity": float(np.min(e[1:] - e[:-1])),
                 "trainability": float(np.mean(trainability_terms(features, generator)))}
    return {k: -np.inf if np.isnan(v) else v for k, v in terms.items()}  # the code's NaN -> -inf


@register("az_nas_expressivity", needs=("az_nas",), reference="Lee & Ham 2024, AZ-NAS (CVPR)")
def az_nas_expressivity(res, ctx) -> torch.Tensor:
    return torch.tensor(ctx["az_nas"]["expressivity"], dtype=torch.float64)


@register("az_nas_progressivity", needs=("az_nas",), reference="Lee & Ham 2024, AZ-NAS (CVPR)")
def az_nas_progressivity(res, ctx) -> torch.Tensor:
    return torch.tensor(ctx["az_nas"]["progressivity"], dtype=torch.float64)


@register("az_nas_trainability", needs=("az_nas",), reference="Lee & Ham 2024, AZ-NAS (CVPR)")
def az_nas_trainability(res, ctx) -> torch.Tensor:
    return torch.tensor(ctx["az_nas"]["trainability"], dtype=torch.float64)


@register("az_nas_complexity", needs=("analytic",), reference="Lee & Ham 2024, AZ-NAS (CVPR): FLOPs")
def az_nas_complexity(res, ctx) -> torch.Tensor:
    return torch.tensor(ctx["flops_M"], dtype=torch.float64)


def az_nas_scores(terms) -> np.ndarray:
    """AZ-NAS over M architectures: Σ over the four terms of log(rank / M), ascending average
    ranks (higher term, higher rank). `terms`: a table (DataFrame or mapping of equal-length
    arrays) with the columns in `TERMS`. An invalid (NaN/inf) value ranks below every valid
    one, as -inf does in the code."""
    from scipy.stats import rankdata

    missing = [t for t in TERMS if t not in terms]
    if missing:
        raise BadParameter(f"az_nas needs the columns {list(TERMS)}; missing {missing}",
                           fix="score the architectures with all four az_nas_* proxies first")
    total = None
    for t in TERMS:
        v = np.asarray(terms[t], dtype=np.float64)
        v = np.where(np.isfinite(v), v, -np.inf)
        r = np.log(rankdata(v) / len(v))
        total = r if total is None else total + r
    return total
