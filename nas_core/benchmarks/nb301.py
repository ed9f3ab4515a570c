"""NAS-Bench-301: the DARTS search space (normal + reduction cell, 4 nodes, 2 inputs each, 7 ops).

The network is NB301's training network (DARTS CIFAR network, 8 cells, stem multiplier 3;
`nas_core.nets.darts`, docs/nb301.md). There are no isomorphism classes beyond the order of a
node's two inputs (the canonical form sorts them), so de-isomorphic sampling does not apply
and the headline supernet samples uniformly. The ground truth is a table of real training
results (the sample, the official result files, or the user's own table): the study ranked
against NB301's surrogate model instead, which every comparison with its numbers says.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.benchmarks.base import Benchmark, ImageData, NotApplicable
from nas_core.space import nb301 as space

TRUTH_COLUMN = "cifar10_val_acc"


@dataclass(frozen=True)
class NASBench301(Benchmark):
    def parse(self, arch_str: str):
        return space.canonical(space.parse(arch_str))

    def format(self, arch) -> str:
        return space.format_arch(arch)

    def _archs(self, arch_strs):
        return [self.parse(s) for s in arch_strs]

    def params_flops(self, arch_strs, C: int | None = None, N: int | None = None):
        from nas_core.space.nb301_cost import params_flops

        return params_flops(self._archs(arch_strs), C=C or self.network_size[0], layers=N or self.network_size[1],
                            num_classes=self.images.classes, resolution=self.images.resolution,
                            in_channels=self.images.channels)

    def features(self, arch_strs) -> pd.DataFrame:
        from nas_core.space.features import flops_groups

        frame = space.features(self._archs(arch_strs)).reset_index(drop=True)
        frame["params_M"], frame["flops_M"] = self.params_flops(arch_strs)
        frame["flops_group"] = flops_groups(frame["flops_M"].to_numpy())
        return frame

    def mutation_pairs(self, arch_strs) -> pd.DataFrame:
        """Ordered pairs among the listed architectures that differ by one op (one pair of one
        cell changes its op); input mutations are counted in `kind` but the op-level table
        keeps op changes only. Canonical forms never collide for different ops, so no pair is
        a no-op."""
        rows = []
        for i, j, a, b in self.listed_neighbours(self._archs(arch_strs), space.neighbours):
            if space.mutation_kind(a, b) != "op":
                continue
            changed = [(pa[0], pb[0]) for ca, cb in zip(a, b) for pa, pb in zip(ca, cb) if pa != pb]
            if len(changed) != 1:  # the sort of a node's pair moved: read the changed op off the node
                changed = [_changed_op(a, b)]
            rows.append({"i": i, "j": j, "from_op": space.OPS[changed[0][0]], "to_op": space.OPS[changed[0][1]],
                         "kind": "op", "no_op": False})
        return pd.DataFrame(rows, columns=["i", "j", "from_op", "to_op", "kind", "no_op"])

    def network(self, arch, seed: int, C: int | None = None, N: int | None = None,
                in_channels: int | None = None, num_classes: int | None = None):
        from nas_core.nets.darts import init_seeded

        # op BN without affine parameters, preprocessing BN with, as NB301 counts #params (at init an affine
        # BN is the identity map too, so every proxy's forward is the same either way)
        return init_seeded(arch, seed, C=C or self.network_size[0], layers=N or self.network_size[1],
                           num_classes=num_classes or self.images.classes,
                           in_channels=in_channels or self.images.channels, affine=False, preprocess_affine=True)

    def supernet(self, proto, channels: int, classes: int):
        from nas_core.nets.darts_supernet import DartsSupernet

        import torch

        net = DartsSupernet(C=proto.C, layers=proto.N, num_classes=classes, in_channels=channels,
                            affine=proto.affine, dropout=proto.dropout)
        return net.to(memory_format=torch.channels_last)  # faster depthwise convs (nets/darts_supernet.py)

    def sampler(self, spec: str, seed: int, restrict_to=None, data_root=None, proto=None):
        from nas_core.samplers_nb301 import UniformDartsSampler

        if spec != "iso":
            raise NotApplicable(f"sampler {spec!r} is not defined for {self.title}",
                                fix="use iso (uniform over both cells); de-isomorphic, fair, MC and pruning "
                                    "samplers are NAS-Bench-201's")
        pool = None if restrict_to is None else [self.parse(s) for s in restrict_to]
        return UniformDartsSampler(seed, pool=pool)

    def sampler_pool_ids(self, arch_strs):
        return sorted({self.format(self.parse(s)) for s in arch_strs})

    def ground_truth(self, data_root) -> pd.DataFrame:
        from nas_core.data.nb301_truth import load_nb301_truth

        frame = load_nb301_truth(data_root)
        frame = frame.rename(columns={"val_acc": TRUTH_COLUMN})
        # one row per canonical architecture already: each is its own class and representative
        frame["iso_class"] = np.arange(len(frame))
        frame["iso_representative"] = True
        return frame

    def describe_data(self, data_root) -> str:
        frame = self.ground_truth(data_root)
        source = ", ".join(sorted(set(frame.get("source", pd.Series(["table"])).astype(str))))
        return (f"NAS-Bench-301 ground truth ({len(frame)} architectures, source: {source}; real training results, "
                f"not the surrogate the study used) + CIFAR-10 images from a data root folder named "
                f"`{Path(data_root).name}`")


def _changed_op(a, b) -> tuple[int, int]:
    """The (from, to) op of a one-op mutation whose node pair was re-sorted by canonicalisation."""
    for ca, cb in zip(a, b):
        for node in range(space.N_NODES):
            pa, pb = ca[2 * node:2 * node + 2], cb[2 * node:2 * node + 2]
            if pa != pb:
                ops_a = sorted(p[0] for p in pa if p not in pb)
                ops_b = sorted(p[0] for p in pb if p not in pa)
                return ops_a[0], ops_b[0]
    raise ValueError("architectures are equal")


BENCHMARK = NASBench301(
    name="nb301", title="NAS-Bench-301", images=ImageData("cifar10", 10, 3, 32),
    default_metric=TRUTH_COLUMN,
    truth_note=("real training results of NB301's data set (validation accuracy); the study ranked against "
                "NB301's surrogate model, so its numbers are comparable in kind, not digit for digit"),
    has_isomorphism=False, has_whole_space=False, network_size=(32, 8), samplers=("iso",),
    vote_experts=("plain", "grasp", "synflow"), op_names=space.OPS,
    protocol_overrides={
        # DARTS networks are ~3x an NB201 C16/N5 in FLOPs: small profiles cut architectures and
        # supernet size, never the proxies' network (docs/nb301.md measures what a reduction changes)
        ("study", "*"): {"eval_archs": "all", "rq3_samplers": (), "rq3_affine": False, "mc_samples": (),
                         "op_prune": (), "soft_prune": ""},
        # smoke: every code path once (the batch-size sweep at the profile's own batch size is the
        # main RQ4 sweep, read from the cache; noise inputs stand for both synthetic inputs)
        ("study", "smoke"): {"eval_archs": "sample:12", "rq4_archs": "sample:6", "diag_archs": 4,
                             "zs_batch_sizes": (32,), "zs_input_modes": ("real", "noise")},
        ("study", "quick"): {"eval_archs": "sample:60", "rq4_archs": "sample:10", "prune_fractions": (0.5,)},
        # smoke checks code paths in minutes: its proxies run on a reduced C8 / 5-cell network
        # (stated in every notebook's banner); quick and paper use NB301's own C32 / 8 cells
        ("zeroshot", "smoke"): {"C": 8, "N": 5},
        ("supernet", "smoke"): {"C": 4, "N": 5},
        # a DARTS supernet step costs ~10x an NB201 C8/N1 one on CPU (depthwise convolutions):
        # quick trains 10 epochs on 4,096 images (still scored on 2x128 held-out images)
        ("supernet", "quick"): {"C": 8, "N": 5, "epochs": 10, "save_every": 2, "plateau_patience": 3},
        ("data", "quick"): {"max_train": 4096},
        ("supernet", "paper"): {"C": 16, "N": 8, "batch_size": 256},
    })
