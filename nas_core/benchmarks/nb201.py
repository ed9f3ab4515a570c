"""NAS-Bench-201 (and its cell space reused by the mini benchmark, `mini.py`).

The space: 6 edges x 5 ops, 15,625 cells, 6,466 isomorphism classes (a class's representative
is its member with the lowest official index; its ground truth is the members' mean). The
network: C16/N5 cells on CIFAR-10. Everything here delegates to `nas_core.space.nb201`,
`nas_core.nets` and `nas_core.data.groundtruth`, which hold the rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.benchmarks.base import Benchmark, ImageData
from nas_core.space import nb201 as space

NB201_SAMPLERS = ("iso", "deiso", "fair", "mc:S", "without:OPS", "soft:W,K,T,P")


@dataclass(frozen=True)
class NB201Space(Benchmark):
    """The NB201 cell space on some image dataset (shared by nb201 and mini)."""

    def parse(self, arch_str: str):
        return space.parse(arch_str)

    def format(self, arch) -> str:
        return space.format_arch(arch)

    def iso_keys(self, arch_strs) -> np.ndarray:
        return space.space_table().iso_key[space.kit_ids_from_strings(list(arch_strs))]

    def valid_mask(self, arch_strs) -> np.ndarray:
        return space.space_table().has_conv_path[space.kit_ids_from_strings(list(arch_strs))]

    def macro(self, C: int | None = None, N: int | None = None, images: tuple | None = None):
        """The network's size; `images` = (resolution, classes, channels), default the benchmark's."""
        from nas_core.space.complexity import Macro

        res, classes, channels = images or (self.images.resolution, self.images.classes, self.images.channels)
        return Macro(C=C or self.network_size[0], N=N or self.network_size[1], resolution=res,
                     num_classes=classes, in_channels=channels)

    def params_flops(self, arch_strs, C: int | None = None, N: int | None = None, images: tuple | None = None):
        from nas_core.space.complexity import params_flops

        return params_flops(space.ops_from_strings(list(arch_strs)), self.macro(C, N, images))

    def features(self, arch_strs) -> pd.DataFrame:
        from nas_core.space.features import arch_features

        # NB201's CIFAR C16/N5 counts for both nb201 and mini (the mini table's committed
        # analyses group by them; on the cell space the FLOPs order barely depends on the size)
        return arch_features(list(arch_strs), dataset="cifar10")

    def graph_features(self, arch_strs) -> pd.DataFrame:
        from nas_core.space.features import graph_features

        return graph_features(space.ops_from_strings(list(arch_strs)))

    def mutation_pairs(self, arch_strs) -> pd.DataFrame:
        """Pairs over isomorphism classes: every member cell of a listed architecture's class
        stands for it (carries its row), and pairs are found among all those members; a pair
        of two isomorphic members is a no-op mutation."""
        iso = space.space_table().iso_key
        klass = iso[space.kit_ids_from_strings(list(arch_strs))]
        members = np.flatnonzero(np.isin(iso, klass))
        row_of = pd.Series(np.arange(len(klass)), index=klass).reindex(iso[members]).to_numpy()
        i, j, a, b = space.mutation_pairs(members)
        return pd.DataFrame({"i": row_of[i], "j": row_of[j], "from_op": np.array(space.OPS)[a],
                             "to_op": np.array(space.OPS)[b], "kind": "op",
                             "no_op": iso[members[i]] == iso[members[j]]})

    def network(self, arch, seed: int, C: int | None = None, N: int | None = None,
                in_channels: int | None = None, num_classes: int | None = None):
        from nas_core.nets.network import init_seeded

        return init_seeded(arch, seed, C=C or self.network_size[0], N=N or self.network_size[1],
                           num_classes=num_classes or self.images.classes,
                           in_channels=in_channels or self.images.channels)

    def supernet(self, proto, channels: int, classes: int):
        from nas_core.nets.supernet import Supernet

        return Supernet(C=proto.C, N=proto.N, num_classes=classes, in_channels=channels, affine=proto.affine,
                        dropout=proto.dropout)

    def sampler(self, spec: str, seed: int, restrict_to=None, data_root=None, proto=None):
        from nas_core.samplers import make_sampler

        order = self.official_order(data_root) if spec == "deiso" and restrict_to is None else None
        return make_sampler(spec, seed, restrict_to=restrict_to, official_order=order)

    def official_order(self, data_root):
        """Kit ids in the benchmark's official index order (the de-iso representative of a class
        is its lowest official index); None where the index is the kit id (mini)."""
        return None

    def sampler_pool_ids(self, arch_strs):
        return np.unique(space.kit_ids_from_strings(list(arch_strs)))


@dataclass(frozen=True)
class NASBench201(NB201Space):
    def ground_truth(self, data_root) -> pd.DataFrame:
        from nas_core.data.groundtruth import load_ground_truth

        return load_ground_truth("nb201", data_root)

    def official_order(self, data_root):
        return space.kit_ids_from_strings(self.ground_truth(data_root)["arch_str"].tolist())

    def describe_data(self, data_root) -> str:
        return f"NAS-Bench-201 ground truth + CIFAR-10 images from a data root folder named `{Path(data_root).name}`"


BENCHMARK = NASBench201(
    name="nb201", title="NAS-Bench-201", images=ImageData("cifar10", 10, 3, 32),
    default_metric="cifar10_test_acc_200ep",
    truth_note="NAS-Bench-201's own training results (test accuracy after 200 epochs, mean over seeds)",
    has_isomorphism=True, has_whole_space=True, network_size=(16, 5), samplers=NB201_SAMPLERS,
    nb201_cell_space=True)
