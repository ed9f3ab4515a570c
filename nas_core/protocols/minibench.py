"""The mini benchmark's fixed training protocol (Fashion-MNIST at 16x16, NB201 cells).

Sized so that 320 architectures x 2 seeds train in well under 150 minutes on 2 CPU cores
(about 5 s per training on one core): C=8, N=1 keeps the full 5-op, 6-edge cell space; 8,000
stratified training images for 4 epochs; accuracy on the whole 10,000-image test split.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MiniBenchProtocol:
    dataset: str = "fmnist16"     # Fashion-MNIST downsampled to 16x16 (antialiased)
    C: int = 8
    N: int = 1
    n_archs: int = 320            # de-isomorphic, conv path, stratified over 5 FLOPs groups
    sample_seed: int = 0
    seeds: tuple = field(default=(0, 1))
    train_images: int = 8000      # stratified from the 60k training split
    split_seed: int = 0
    epochs: int = 4
    batch_size: int = 128
    lr: float = 0.1               # SGD, Nesterov momentum, cosine to 0 per step
    momentum: float = 0.9
    weight_decay: float = 5e-4
    flip: bool = True             # horizontal flip; no crop at this resolution
    version: int = 1              # bump when the trainer's behaviour changes


MINI_BENCH = MiniBenchProtocol()  # one fixed protocol: the committed table was built with it
