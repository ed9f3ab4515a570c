"""jacob_cov (Mellor et al. 2021, first NASWOT version): J = d(sum of outputs)/dx per image,
C = corrcoef(J) over the batch, eigenvalues v; score = -sum(log(v + k) + 1/(v + k)), k = 1e-5."""
import torch

from nas_core.proxies import register

K = 1e-5


@register("jacob_cov", needs=("jacobian",), reference="Mellor et al. 2021, NAS without training (v1)")
def jacob_cov(res, ctx) -> torch.Tensor:
    jac = res.jacobian.double()
    corr = torch.corrcoef(jac)
    v = torch.linalg.eigvalsh(corr)
    return -(torch.log(v + K) + 1.0 / (v + K)).sum()
