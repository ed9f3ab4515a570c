"""A learned graph-feature baseline: ridge regression of the ground truth on architecture
features, fitted on a seeded part of the architectures and judged only on the rest.

Several studies found that zero-shot proxies mostly count parameters or convolutions. If a
linear model of op counts and depth, fitted on some architectures, ranks the others as well as
a proxy does, the proxy adds nothing a cheap count would not give. The model:

    standardise each feature with the fitting architectures' mean and std (a constant one
    left at 0), then  β = (ZᵀZ + α I)⁻¹ Zᵀ (t − t̄),  prediction = t̄ + z β

(the intercept t̄ is not penalised; α = 0 gives the minimum-norm least-squares fit). The split is a seeded random permutation: the first
`round(train_fraction · M)` architectures fit, the rest are predicted, never both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas_core.errors import BadParameter


@dataclass(frozen=True)
class RidgeBaseline:
    predictions: pd.Series   # held-out architectures only (index: their labels)
    fitted_on: pd.Index      # the architectures the model was fitted on (disjoint from the above)
    coef: pd.Series          # per standardised feature
    intercept: float
    alpha: float


def split_architectures(index, train_fraction: float = 0.5, seed: int = 0) -> tuple[pd.Index, pd.Index]:
    """(fit, held_out): a seeded random split of `index` into two disjoint parts."""
    index = pd.Index(index)
    if not 0 < train_fraction < 1:
        raise BadParameter(f"train_fraction must be in (0, 1), got {train_fraction}")
    n_fit = int(round(train_fraction * len(index)))
    if n_fit < 2 or len(index) - n_fit < 1:
        raise BadParameter(f"{len(index)} architectures cannot be split into >= 2 to fit and >= 1 to predict "
                           f"at train_fraction={train_fraction}", fix="use more architectures")
    order = np.random.default_rng(seed).permutation(len(index))
    return index[np.sort(order[:n_fit])], index[np.sort(order[n_fit:])]


def ridge_fit(features: np.ndarray, truth: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, β, intercept) of the ridge model on standardised features."""
    x = np.asarray(features, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # a constant feature stays 0 after centring
    z = (x - mean) / scale
    # least squares of the augmented system [Z; √α I] β = [t − t̄; 0]: the ridge solution, and
    # the minimum-norm one at α = 0 even with collinear features (op counts sum to 6)
    k = z.shape[1]
    beta = np.linalg.lstsq(np.vstack([z, np.sqrt(alpha) * np.eye(k)]),
                           np.concatenate([t - t.mean(), np.zeros(k)]), rcond=None)[0]
    return mean, scale, beta, float(t.mean())


def ridge_baseline(features: pd.DataFrame, truth: pd.Series, train_fraction: float = 0.5, alpha: float = 1.0,
                   seed: int = 0) -> RidgeBaseline:
    """Fit on a seeded `train_fraction` of the architectures (the rows shared by `features` and
    `truth`), predict the others. Evaluate `predictions` against the truth of its own index only."""
    if alpha < 0:
        raise BadParameter(f"ridge alpha must be >= 0, got {alpha}")
    common = features.index.intersection(truth.index)
    feats = features.loc[common].astype(float)
    if not np.isfinite(feats.to_numpy()).all() or not np.isfinite(truth.loc[common].to_numpy(float)).all():
        raise BadParameter("ridge_baseline needs finite features and ground truth for every architecture")
    fit, held = split_architectures(common, train_fraction, seed)
    mean, scale, beta, intercept = ridge_fit(feats.loc[fit].to_numpy(), truth.loc[fit].to_numpy(float), alpha)
    pred = intercept + ((feats.loc[held].to_numpy() - mean) / scale) @ beta
    return RidgeBaseline(pd.Series(pred, index=held, name="ridge_graph_features"), fit,
                         pd.Series(beta, index=feats.columns), intercept, float(alpha))
