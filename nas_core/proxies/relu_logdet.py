"""relu_logdet (NASWOT, Mellor et al., ICML 2021): binary codes c = (x > 0) of every ReLU input
per image; K = sum over ReLUs of [c c^T + (1-c)(1-c)^T] (batch x batch); score = log|det K|.

Variant flag `normalise` (off by default, as in the paper's released code): divide K by the
number of units first (shifts the score by a constant per architecture depth)."""
import torch

from nas_core.proxies import register


def hamming_kernel(relu_inputs, normalise: bool = False) -> torch.Tensor:
    """K = sum_r [c c^T + (1-c)(1-c)^T] = 2 C C^T - s 1^T - 1 s^T + D, with C all codes side by
    side, s their row sums and D the number of units: one matmul per distinct code instead of
    two per ReLU. A code listed k times (the same tensor object: one input fed to k ReLUs) is
    multiplied once and counted k times. Entries are integers below 2^24, so the float32
    accumulation is exact (the same K as one matmul over all codes); K is returned in float64."""
    counts: dict[int, list] = {}
    for x in relu_inputs:
        counts.setdefault(id(x), [x, 0])[1] += 1
    batch = relu_inputs[0].shape[0]
    gram = torch.zeros(batch, batch, device=relu_inputs[0].device)
    s = torch.zeros(batch, 1, device=relu_inputs[0].device)
    units = 0
    for x, k in counts.values():
        c = (x.reshape(batch, -1) > 0).float()
        gram.addmm_(c, c.T, alpha=k)
        s.add_(c.sum(1, keepdim=True), alpha=k)
        units += k * c.shape[1]
    assert units < 2 ** 24, "too many units for an exact float32 kernel"
    s = s.double()
    kernel = 2.0 * gram.double() - s - s.T + units
    return kernel / units if normalise else kernel


@register("relu_logdet", needs=("relu",), reference="Mellor et al. 2021, NASWOT")
def relu_logdet(res, ctx) -> torch.Tensor:
    kernel = hamming_kernel(res.relu_inputs, normalise=ctx.get("relu_logdet_normalise", False))
    sign, logabsdet = torch.linalg.slogdet(kernel)
    # singular K: NaN (recorded with a reason by the engine); torch.where: no host sync on a GPU
    return torch.where(sign == 0, torch.full_like(logabsdet, float("nan")), logabsdet)
