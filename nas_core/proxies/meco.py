"""meco (Jiang, Wang & Bie, NeurIPS 2023, "MeCo: Zero-Shot NAS with One Data and Single
Forward Pass via Minimum Eigenvalue of Correlation").

For every module call m of one forward pass, the output of the first image, reshaped to
F_m (channels x positions); P_m = the Pearson correlation matrix of its channels, with NaN/inf
entries (a channel constant over the positions) set to 0:

    meco = Σ_m λ_min(P_m)

Source: the authors' code (HamsterMimi/MeCo, the `meco` measure of their zero-cost-nas package):
a forward hook on *every* module (containers, the edge ops, the network itself), each taking
`output[0]`, the first image. The paper's "one data" is that one image; its code runs the whole
batch through the network (BN statistics of the batch) and reads image 0, which is what the
kit's shared pass does (their correlation script feeds a batch of a single image: score a
one-image batch to get that). Outputs with fewer than 3 dimensions (logits, pooled vectors)
and 1x1 maps give a one-column matrix whose correlations are all NaN, zeroed: they add 0.
Eigenvalues by `eigvalsh` of the float64 correlation (the code: `eig` in float32, real part;
the matrix is symmetric, so the same values up to rounding).
"""
import torch

from nas_core.proxies import register


def min_correlation_eigenvalue(outputs) -> torch.Tensor:
    """Σ over the given first-image outputs (C, ...) of λ_min of their channel correlation."""
    total = torch.zeros((), dtype=torch.float64)
    by_size: dict[tuple, list] = {}
    for out in outputs:
        fea = out.reshape(out.shape[0], -1)
        if fea.shape[1] < 2:  # one position: every correlation NaN -> 0 -> λ_min = 0
            continue
        by_size.setdefault(tuple(fea.shape), []).append(fea)
    for feas in by_size.values():  # one batched eigvalsh per shape
        f = torch.stack(feas).double()
        f = f - f.mean(dim=2, keepdim=True)
        cov = f @ f.transpose(1, 2)
        d = torch.diagonal(cov, dim1=1, dim2=2).sqrt()
        corr = (cov / (d[:, :, None] * d[:, None, :])).clamp(-1.0, 1.0)  # torch.corrcoef's clamp
        corr = torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)
        total = total.to(corr.device) + torch.linalg.eigvalsh(corr)[:, 0].sum()
    return total


@register("meco", needs=("features",), reference="Jiang et al. 2023, MeCo (NeurIPS)")
def meco(res, ctx) -> torch.Tensor:
    return min_correlation_eigenvalue(res.first_outputs)
