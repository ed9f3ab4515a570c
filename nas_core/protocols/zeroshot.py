"""Zero-shot protocol (docs/zeroshot.md)."""
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
    C: int | None = None                # network the proxies run on; None = the benchmark's
    N: int | None = None                # own (NB201: C16/N5, mini benchmark: C8/N1)


PROFILES = {
    # every profile computes the proxies on the benchmark's own network (NB201: C16/N5): a
    # reduced network changes the gradient proxies' rankings (snip's tau 0.22 on C8/N2 vs 0.32
    # on C16/N5 for the same 40 archs), so small profiles cut batches and architectures instead
    "smoke": ZeroShotProtocol(seeds=(20,), batches=2, batch_size=32),
    "quick": ZeroShotProtocol(seeds=(20,), batches=1, batch_size=64),
    "paper": ZeroShotProtocol(),
}
