"""The built-in mini benchmark: NB201's cell space trained by the kit itself on Fashion-MNIST
at 16 px (C8/N1), the ground truth of a committed table (docs/minibench.md). It needs no data
root, so the kit runs end to end on a fresh machine."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nas_core.benchmarks.base import ImageData
from nas_core.benchmarks.nb201 import NB201_SAMPLERS, NB201Space
from nas_core.protocols.minibench import MINI_BENCH


@dataclass(frozen=True)
class MiniBenchmark(NB201Space):
    def ground_truth(self, data_root) -> pd.DataFrame:
        from nas_core.data.groundtruth import load_ground_truth

        return load_ground_truth("mini")

    def stratify_flops(self, arch_strs):
        # NB201's C16/N5 CIFAR network, as the mini table and every committed selection used
        return self.params_flops(arch_strs, C=16, N=5, images=(32, 10, 3))[1]

    def describe_data(self, data_root) -> str:
        return ("built-in mini benchmark (Fashion-MNIST, the kit's own ground truth of "
                f"{len(self.ground_truth(None))} architectures) -- no data root configured")


BENCHMARK = MiniBenchmark(
    name="mini", title="mini benchmark (NB201 cells on Fashion-MNIST 16 px)",
    images=ImageData("fmnist16", 10, 1, 16), default_metric="fmnist_test_acc_mean",
    truth_note="the kit's own training of NB201 cells on Fashion-MNIST (not a published benchmark)",
    needs_data_root=False, has_isomorphism=True, has_whole_space=False,
    network_size=(MINI_BENCH.C, MINI_BENCH.N), samplers=NB201_SAMPLERS, nb201_cell_space=True)
