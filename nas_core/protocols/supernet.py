"""Supernet protocol (the reference configuration of the estimator study on NB201)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class SupernetProtocol:
    sampler: str = "iso"          # iso | deiso | fair | mc:S
    seed: int = 0
    affine: bool = False          # BN affine in the cells (off in the reference)
    C: int = 16
    N: int = 5
    dropout: float = 0.1
    epochs: int = 1000
    save_every: int = 50
    batch_size: int = 512
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    grad_clip: float = 5.0
    plateau_factor: float = 0.5   # ReduceLROnPlateau on the epoch's mean training loss
    plateau_patience: int = 30
    augment: bool = True          # random crop (pad 4) + horizontal flip, on the device
    # scoring uses the study's derive batch (512, as in training) so that train-mode BN sees
    # batch statistics of the same size; per-batch values are kept (19 = 10k held-out // 512)
    score_batches: int = 19
    score_batch_size: int = 512


PROFILES = {
    "smoke": SupernetProtocol(C=4, N=1, epochs=3, save_every=1, batch_size=128, score_batches=2,
                              score_batch_size=64, plateau_patience=2),
    "quick": SupernetProtocol(C=8, N=1, epochs=20, save_every=5, batch_size=128, score_batches=2,
                              score_batch_size=128, plateau_patience=5),
    "paper": SupernetProtocol(),
}
