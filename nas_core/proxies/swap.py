"""swap (Peng, Song, Zhang et al., ICLR 2024, "SWAP-NAS: Sample-Wise Activation Patterns for
Ultra-fast NAS").

A = the binary activation matrix of one forward pass: for every ReLU applied to a 4-D feature
map, sign(ReLU(z)) = [z > 0] of each unit (channel x position), one row per image (B x N).
Each unit's column is its sample-wise activation pattern (a B-bit code):

    swap = number of distinct columns of A   (distinct patterns over the units)

Source: the authors' code (pym1024/SWAP, src/metrics/swap.py): forward hooks on every nn.ReLU
whose input is 4-D, `torch.unique` of the transposed sign matrix. The paper's regularised
variant multiplies by exp(-(#params - μ)² / σ) with μ, σ chosen per search space; the code
leaves it off by default (`regular=False`), and so does the kit. Their correlation script
re-draws Gaussian weights and averages 32 repeats; that is the experiment around the metric,
not the metric: the kit scores the network it is given, like every other proxy.

The codes come from the shared pass (the ReLU inputs it keeps for relu_logdet): sign(ReLU(z))
and [z > 0] are the same bits. A ReLU module nested in another ReLU's call, or one tensor fed to
several ReLUs, repeats a block of columns, which never changes the count of distinct ones.
"""
import torch

from nas_core.errors import BadParameter
from nas_core.proxies import register


def feature_map_codes(relu_inputs) -> list[torch.Tensor]:
    """The distinct (B, ...) binary codes of ReLUs applied to 4-D inputs, each once."""
    seen: dict[int, torch.Tensor] = {}
    for code in relu_inputs:
        if code.dim() == 4:
            seen.setdefault(id(code), code)
    return list(seen.values())


def distinct_columns(codes) -> int:
    """Number of distinct columns of the (B, N) matrix of all codes side by side: each column
    packed into ceil(B/32) integer words (bit s = image s), then `torch.unique`."""
    batch = codes[0].shape[0]
    words = []
    for start in range(0, batch, 32):
        packed = []
        for c in codes:
            flat = c.reshape(batch, -1)[start:start + 32]
            word = torch.zeros(flat.shape[1], dtype=torch.int64, device=flat.device)
            for s in range(flat.shape[0]):
                word |= flat[s].to(torch.int64) << s
            packed.append(word)
        words.append(torch.cat(packed))
    if len(words) == 1:
        return int(torch.unique(words[0]).numel())
    return int(torch.unique(torch.stack(words, dim=1), dim=0).shape[0])


@register("swap", needs=("relu",), reference="Peng et al. 2024, SWAP-NAS (ICLR)")
def swap(res, ctx) -> torch.Tensor:
    codes = feature_map_codes(res.relu_inputs)
    if not codes:
        raise BadParameter("swap counts activation patterns of ReLUs applied to 4-D feature maps; this network "
                           "has no nn.ReLU module applied to a 4-D tensor",
                           fix="use nn.ReLU modules in the convolutional part, or drop 'swap'")
    return torch.tensor(float(distinct_columns(codes)), dtype=torch.float64)
