"""Which images feed the estimators, and how the training set is split (the study: 80/20)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class DataProtocol:
    split_seed: int = 0          # seeded, stratified shuffle of the TRAINING set
    train_fraction: float = 0.8  # 40k train the supernet, 10k held out score archs
    max_train: int | None = None     # stratified sub-sample for small profiles
    max_heldout: int | None = None


PROFILES = {
    "smoke": DataProtocol(max_train=2048, max_heldout=1024),
    "quick": DataProtocol(max_train=10000, max_heldout=2560),
    "paper": DataProtocol(),
}
