"""epe_nas (Lopes, Alirezazadeh & Alexandre, ICANN 2021, "EPE-NAS: Efficient Performance
Estimation Without Training for Neural Architecture Search").

J = d(Σ logits)/dx per image (the input Jacobian jacob_cov uses). For every class c present in
the batch, C_c = the correlation matrix of the Jacobians of its images (rows = images), and

    s_c = Σ_ij log(|C_c,ij| + k),  k = 1e-5;     epe_nas = Σ_c |s_c|

Source: the authors' code (VascoLopes/EPE-NAS, search.py, `eval_score_perclass`). The paper
gives a second form for more than 100 classes (each s_c divided by its matrix size, then the
mean pairwise |s_c - s_c'|); the released script calls the function without its `n_classes`
argument, so the default of 10 always selects the form above, which the kit follows for any
number of classes. A class with one image: `np.corrcoef` of one row is 1, s_c = log(1 + k). A
constant Jacobian row makes its correlations NaN, and so the score (as in the code).
"""
import torch

from nas_core.proxies import register

K = 1e-5


def per_class_score(jacobian: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    jac = jacobian.double()
    total = torch.zeros((), dtype=torch.float64, device=jac.device)
    for c in torch.unique(labels):
        rows = jac[labels == c]
        if rows.shape[0] == 1:
            s = torch.log(torch.tensor(1.0 + K, dtype=torch.float64, device=jac.device))
        else:
            s = torch.log(torch.corrcoef(rows).abs() + K).sum()
        total = total + s.abs()
    return total


@register("epe_nas", needs=("jacobian",), reference="Lopes et al. 2021, EPE-NAS (ICANN)")
def epe_nas(res, ctx) -> torch.Tensor:
    return per_class_score(res.jacobian, res.labels)
