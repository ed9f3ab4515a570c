"""NAS-Bench-101, with NAS-Bench-1shot1 sub-space 3 for the one-shot estimator (docs/nb101.md).

Architectures are the kit's NB101 strings (`<adjacency>|<ops>` of the pruned cell); two cells
are one architecture when the benchmark's graph hash says so (`iso_keys`), and the ground
truth of a hash class is the mean over its rows (the sample holds one validation accuracy per
row, up to three runs of one architecture). The zero-shot proxies run on the benchmark's own
network (stem 128 channels, 3 stacks of 3 cells; C = stem channels, N = cells per stack). The
supernet is NAS-Bench-1shot1's sub-space-3 model with uniform sampling; it covers only that
sub-space, so the one-shot estimator scores the evaluated cells that lie in it (`oneshot_mask`),
each on its canonical configuration.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.benchmarks.base import Benchmark, ImageData, NotApplicable
from nas_core.space import nb101 as space

VALID_COLUMN = "cifar10_valid_acc_108ep"   # the sample's (one run's validation accuracy)
TEST_COLUMN = "cifar10_test_acc_108ep"     # a full export's (the study's truth)
OP_SHORT = {space.CONV3: "conv3x3", space.CONV1: "conv1x1", space.POOL: "maxpool3x3"}


@lru_cache(maxsize=200_000)
def _cell(arch_str: str) -> space.Cell:
    return space.parse(arch_str)


@dataclass(frozen=True)
class NASBench101(Benchmark):
    def parse(self, arch_str: str):
        return _cell(arch_str)

    def format(self, arch) -> str:
        from nas_core.space.nb1shot1 import S3Arch, to_cell

        return space.format_arch(to_cell(arch) if isinstance(arch, S3Arch) else arch)

    def _cells(self, arch_strs) -> list[space.Cell]:
        return [self.parse(s) for s in arch_strs]

    def iso_keys(self, arch_strs) -> np.ndarray:
        """The benchmark's graph hash of each (pruned) cell."""
        return np.asarray([c.hash for c in self._cells(arch_strs)], dtype=object)

    def default_metric_of(self, truth: pd.DataFrame) -> str:
        """A full export's test accuracy (the study's truth) when the table has it, else the
        sample's validation accuracy."""
        if TEST_COLUMN in truth.columns and truth[TEST_COLUMN].notna().any():
            return TEST_COLUMN
        return VALID_COLUMN

    def macro(self, C: int | None = None, N: int | None = None) -> space.Macro:
        return space.Macro(stem_channels=C or self.network_size[0], cells_per_stack=N or self.network_size[1],
                           resolution=self.images.resolution, num_classes=self.images.classes,
                           in_channels=self.images.channels)

    def params_flops(self, arch_strs, C: int | None = None, N: int | None = None):
        """Exact #params / #FLOPs (M) of the NB101 network (the sample's own columns reproduce)."""
        macro = self.macro(C, N)
        pf = np.array([space.params_flops(c, macro) for c in self._cells(arch_strs)], dtype=np.float64).reshape(-1, 2)
        return pf[:, 0] / 1e6, pf[:, 1] / 1e6

    def features(self, arch_strs) -> pd.DataFrame:
        """Op counts (n_conv3x3, n_conv1x1, n_maxpool3x3), n_vertices, n_edges, depth (op
        vertices on the longest input->output path), input_to_output, params_M, flops_M."""
        from nas_core.space.features import flops_groups

        frame = space.features(self._cells(arch_strs), self.macro()).drop(columns="hash")
        frame = frame.rename(columns={f"n_{op}": f"n_{short}" for op, short in OP_SHORT.items()})
        frame["input_to_output"] = frame["input_to_output"].astype(int)
        frame["flops_group"] = flops_groups(frame["flops_M"].to_numpy())
        return frame.reset_index(drop=True)

    def mutation_pairs(self, arch_strs) -> pd.DataFrame:
        """Ordered pairs (i, j) of listed cells where one mutation of cell i in the benchmark's
        7-vertex layout -- one vertex's op changed, or one edge toggled -- gives cell j's
        architecture (equal graph hash). Op changes are labelled by the op names, edge toggles
        'no edge' -> 'edge' (added) or back (removed); `no_op` when i and j are one architecture."""
        cells = self._cells(arch_strs)
        hashes = [c.hash for c in cells]
        where: dict[str, list[int]] = {}
        for k, h in enumerate(hashes):
            where.setdefault(h, []).append(k)
        rows, seen = [], set()
        for i, cell in enumerate(cells):
            for kind, before, after, mutant in space.mutations(cell):
                if mutant is None:
                    continue
                for j in where.get(mutant.hash, ()):
                    if j != i and (i, j) not in seen:
                        seen.add((i, j))
                        rows.append({"i": i, "j": j, "from_op": OP_SHORT.get(before, before),
                                     "to_op": OP_SHORT.get(after, after), "kind": kind,
                                     "no_op": hashes[i] == hashes[j]})
        return pd.DataFrame(rows, columns=["i", "j", "from_op", "to_op", "kind", "no_op"])

    def network(self, arch, seed: int, C: int | None = None, N: int | None = None,
                in_channels: int | None = None, num_classes: int | None = None):
        from nas_core.nets.nb101 import init_seeded

        macro = space.Macro(stem_channels=C or self.network_size[0], cells_per_stack=N or self.network_size[1],
                            resolution=self.images.resolution, num_classes=num_classes or self.images.classes,
                            in_channels=in_channels or self.images.channels)
        return init_seeded(arch, seed, macro=macro)

    # ---- one-shot: NAS-Bench-1shot1 sub-space 3 ---------------------------------------------
    def oneshot_mask(self, arch_strs) -> np.ndarray:
        from nas_core.space.nb1shot1 import in_subspace3

        return np.asarray([in_subspace3(c) for c in self._cells(arch_strs)], dtype=bool)

    def supernet(self, proto, channels: int, classes: int):
        """Sub-space 3's supernet: C = channels of the first stack, N = cells per stack."""
        from nas_core.nets.nb101_supernet import NB101Supernet

        return NB101Supernet(C=proto.C, cells_per_stack=proto.N, num_classes=classes, in_channels=channels,
                             affine=proto.affine, dropout=proto.dropout)

    def sampler(self, spec: str, seed: int, restrict_to=None, data_root=None, proto=None):
        """iso: every node's parents and every block's op uniform (NAS-Bench-1shot1's sampling);
        with `restrict_to` (arch strings): uniform over those cells' canonical configurations."""
        from nas_core.space import uniform_sampler
        from nas_core.space.nb1shot1 import embed

        if spec != "iso":
            raise NotApplicable(f"sampler {spec!r} is not defined for {self.title}",
                                fix="use iso (uniform over sub-space 3); de-isomorphic, fair, MC and pruning "
                                    "samplers are NAS-Bench-201's")
        if restrict_to is None:
            return uniform_sampler.subspace3_sampler(seed)
        return uniform_sampler.pool_sampler([embed(self.parse(s)) for s in restrict_to], seed)

    def sampler_pool_ids(self, arch_strs):
        return sorted({self.format(self.parse(s)) for s in arch_strs})

    # ---- ground truth -----------------------------------------------------------------------
    def ground_truth(self, data_root) -> pd.DataFrame:
        from nas_core.data.nb101_truth import load_nb101_truth

        return load_nb101_truth(data_root)

    def describe_data(self, data_root) -> str:
        from nas_core.data.nb101_truth import SAMPLE_NAME, find_table

        path = find_table(data_root)
        frame = self.ground_truth(data_root)
        kind = ("the 500-cell sample: one run's validation accuracy per row" if path.name == SAMPLE_NAME
                else "a full export of the benchmark")
        inside = int(self.oneshot_mask(frame.loc[frame["iso_representative"], "arch_str"]).sum())
        return (f"NAS-Bench-101 ground truth `{path.name}` ({kind}; {len(frame)} rows, "
                f"{int(frame['iso_representative'].sum())} distinct architectures, {inside} of them in "
                f"NAS-Bench-1shot1 sub-space 3) + CIFAR-10 images from a data root folder named `{Path(data_root).name}`")


BENCHMARK = NASBench101(
    name="nb101", title="NAS-Bench-101", images=ImageData("cifar10", 10, 3, 32),
    default_metric=VALID_COLUMN,
    truth_note=("on the 500-cell sample, the 108-epoch validation accuracy of one training run per row (rows of one "
                "architecture averaged); the study ranked by NB101's test accuracy (a full export under "
                "nasbench101/ makes that the default), so its numbers are comparable in kind, not digit for digit"),
    has_isomorphism=True, has_whole_space=False, network_size=(128, 3), samplers=("iso",),
    op_names=tuple(OP_SHORT.values()),
    oneshot_scope=("The supernet is NAS-Bench-1shot1's sub-space 3: it covers only the cells of that sub-space, so "
                   "the one-shot estimator scores the evaluated cells inside it (each on its canonical "
                   "configuration); zero-shot estimators score every evaluated cell."),
    # Costs on the shared 2-core machine (docs/nb101.md, "Profiles"): the study's 12 proxies on the own
    # network at one batch of 64 take 20 / 35 / 74 s per cell at 203 / 520 / 1,791 MFLOPs (about 38 s
    # on average over the sample), the after-study proxies as much again (30 / 38 / 86 s); one epoch
    # of the C8/N1 sub-space-3 supernet on 10,000 images 36 s
    protocol_overrides={
        ("study", "*"): {"rq3_samplers": (), "rq3_affine": False, "mc_samples": (), "op_prune": (),
                         "soft_prune": ""},
        ("study", "smoke"): {"eval_archs": "sample:10", "rq4_archs": "sample:4", "diag_archs": 4},
        # quick: 20 stratified cells + 20 of sub-space 3 (about 37 cells, ~26 min on two workers with
        # the after-study proxies); RQ4's variants on 4 cells, batch sizes 16 / 32 (~9 min); supernets
        # 10 epochs (~12 min for two seeds)
        ("study", "quick"): {"eval_archs": "sample:20", "rq4_archs": "sample:4", "prune_fractions": (0.5,),
                             "zs_batch_sizes": (16, 32)},
        # smoke checks code paths in minutes: its proxies run on a reduced 16-channel stem with one
        # cell per stack (stated in every notebook's banner); quick and paper use NB101's own network
        ("zeroshot", "smoke"): {"C": 16, "N": 1},
        ("supernet", "quick"): {"epochs": 10, "save_every": 2},
        # NAS-Bench-1shot1's one-shot model: 16 channels, 3 cells per stack, batch 256, lr 0.025
        ("supernet", "paper"): {"C": 16, "N": 3, "batch_size": 256, "lr": 0.025},
    })
