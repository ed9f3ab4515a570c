"""relu_logdet (NASWOT, Mellor et al., ICML 2021): binary codes c = (x > 0) of every ReLU input
per image; K = sum over ReLUs of [c c^T + (1-c)(1-c)^T] (batch x batch); score = log|det K|.

Variant flag `normalise` (off by default, as in the paper's released code): divide K by the
number of units first (shifts the score by a constant per architecture depth)."""
import torch

from nas_core.proxies import register


def hamming_kernel(relu_inputs, normalise: bool = False) -> torch.Tensor:
    """K = sum_r [c c^T + (1-c)(1-c)^T] = 2 C C^T - s 1^T - 1 s^T + D, with C all codes side by
    side, s their row sums and D the number of units: one matmul instead of two per ReLU.
    Entries are integers below 2^24, so the float32 matmul is exact; K is returned in float64."""
    codes = torch.cat([(x.reshape(x.shape[0], -1) > 0).float() for x in relu_inputs], dim=1)
    units = codes.shape[1]
    assert units < 2 ** 24, "too many units for an exact float32 kernel"
    s = codes.sum(1, keepdim=True).double()
    kernel = 2.0 * (codes @ codes.T).double() - s - s.T + units
    return kernel / units if normalise else kernel


@register("relu_logdet", needs=("relu",), reference="Mellor et al. 2021, NASWOT")
def relu_logdet(res, ctx) -> torch.Tensor:
    kernel = hamming_kernel(res.relu_inputs, normalise=ctx.get("relu_logdet_normalise", False))
    sign, logabsdet = torch.linalg.slogdet(kernel)
    if sign == 0:  # singular K: recorded as NaN with a reason by the engine
        return torch.tensor(float("nan"), dtype=torch.float64)
    return logabsdet
