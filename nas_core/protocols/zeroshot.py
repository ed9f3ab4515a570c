"""Zero-shot protocol (docs/zeroshot.md)."""
from dataclasses import dataclass

ALL = ("grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "synflow_bn", "jacob_cov",
       "relu_logdet", "relu", "params", "flops")


# the proxies published after the study (docs/zeroshot.md "Proxies after the study"); te_nas_ntk
# (one backward per image: ~40 CPU-s per NB201 arch) only where a GPU runs the paper profile
AFTER_STUDY = ("zico", "meco", "swap", "az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability",
               "az_nas_complexity", "zen", "te_nas_lr", "epe_nas", "l2_norm", "gradsign")


@dataclass(frozen=True)
class ZeroShotProtocol:
    proxies: tuple = ALL
    # swept separately (own cache entry) for the evaluated architectures, so adding them never
    # invalidates the study's proxies; RQ4's variants keep to the study's proxies
    after_study: tuple = AFTER_STUDY + ("te_nas_ntk",)
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
    "smoke": ZeroShotProtocol(seeds=(20,), batches=2, batch_size=32, after_study=AFTER_STUDY),
    "quick": ZeroShotProtocol(seeds=(20,), batches=1, batch_size=64, after_study=AFTER_STUDY),
    "paper": ZeroShotProtocol(),
}
