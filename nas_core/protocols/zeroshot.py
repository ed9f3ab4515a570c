"""Zero-shot protocol (STUDY.md "Zero-shot estimators")."""
from dataclasses import dataclass

ALL = ("grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "synflow_bn", "jacob_cov",
       "relu_logdet", "relu", "params", "flops")


@dataclass(frozen=True)
class ZeroShotProtocol:
    proxies: tuple = ALL
    seeds: tuple = (20, 2020, 202020)  # init seeds
    batches: int = 10                   # fixed held-out batches, the same for every arch
    batch_size: int = 128
    input_mode: str = "real"
    C: int = 16                         # the NB201 network the proxies are computed on
    N: int = 5


PROFILES = {
    # smaller networks than NB201's C16/N5 on CPU: proxies are computed on the same cell
    # space; the reduction is recorded in every output's configuration
    "smoke": ZeroShotProtocol(seeds=(20,), batches=2, batch_size=32, C=8, N=1),
    "quick": ZeroShotProtocol(seeds=(20,), batches=1, batch_size=64, C=8, N=2),
    "paper": ZeroShotProtocol(),
}
