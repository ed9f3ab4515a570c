"""NDS ResNet and NDS ResNeXt-A on CIFAR-10 (docs/nds.md): two benchmarks, one per design space.

Architectures are the kit's canonical NDS strings (`resnet:ds=..;ws=..`); every configuration
is its own architecture. The ground truth is the study's: 100 - the lowest test top-1 error
over training of NDS's published JSON files (ResNet: the mean over its three seed files,
ResNeXt-A: a seeded random 5,000 of its 25,000 networks). The zero-shot proxies run on the
architecture's own CIFAR network; the supernet is the ordinal (prefix-sharing) supernet with
uniform sampling.

Network sizes, as the protocols read C and N here: C = the largest width of any stage, N = the
largest depth of any stage. The benchmark's own size is the space's (256 / 24 for ResNet,
256 / 16 for ResNeXt-A), i.e. no limit. A smaller size (small profiles) runs every
architecture on its clipped form (`space.nds.clip`: each stage's depth and width capped to the
largest choice within the limit), for the zero-shot network and the supernet alike; every
notebook's banner says so. #params/#FLOPs baselines always describe the architecture itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.benchmarks.base import Benchmark, ImageData, NotApplicable
from nas_core.errors import BadParameter
from nas_core.space import nds as space

TRUTH_COLUMN = "cifar10_test_acc"
CHOICE_NAMES = {"ds": "depth", "ws": "width", "bms": "bottleneck", "gs": "groups"}


@dataclass(frozen=True)
class NDSBenchmark(Benchmark):
    space: str = "resnet"

    def parse(self, arch_str: str):
        arch = space.parse(arch_str)
        if arch.space != self.space:
            raise BadParameter(f"{arch_str!r} is an NDS {space.get_space(arch.space).label} architecture; "
                               f"{self.title} takes '{self.space}:...' strings",
                               fix=f"use --benchmark nds_{arch.space}, or an architecture of {self.title}")
        return arch

    def format(self, arch) -> str:
        return space.format_arch(arch)

    def _archs(self, arch_strs):
        return [self.parse(s) for s in arch_strs]

    def fit(self, arch, C: int | None = None, N: int | None = None):
        """The architecture a network of size C (largest width) / N (largest depth) runs."""
        own_c, own_n = self.network_size
        if (C or own_c) >= own_c and (N or own_n) >= own_n:
            return arch
        return space.clip(arch, max_depth=N, max_width=C)

    def params_flops(self, arch_strs, C: int | None = None, N: int | None = None):
        """Exact #params / #FLOPs (M) of the CIFAR network (pycls's counters, the files' own)."""
        pf = np.array([space.params_flops(self.fit(a, C, N)) for a in self._archs(arch_strs)],
                      dtype=np.float64).reshape(-1, 2)
        return pf[:, 0] / 1e6, pf[:, 1] / 1e6

    def features(self, arch_strs) -> pd.DataFrame:
        """Per-stage depths d1..d3 and widths w1..w3 (ResNeXt-A: bottleneck multipliers b1..b3,
        groups g1..g3), total_depth, params_M, flops_M."""
        from nas_core.space.features import flops_groups

        frame = space.features(self._archs(arch_strs)).drop(columns="arch_str").reset_index(drop=True)
        frame["flops_group"] = flops_groups(frame["flops_M"].to_numpy())
        return frame

    def graph_features(self, arch_strs) -> pd.DataFrame:
        """Counting baselines (higher = more): per-stage depths and widths and the total depth
        (blocks); ResNeXt-A adds the per-stage group counts."""
        feats = self.features(arch_strs)
        cols = [c for c in feats.columns if c[0] in "dwg" and c[1:].isdigit()] + ["total_depth"]
        return feats[cols].astype(float).reset_index(drop=True)

    def mutation_pairs(self, arch_strs) -> pd.DataFrame:
        """Ordered pairs of listed architectures that differ in one design choice of one stage,
        labelled by the choice and its values ('depth 4' -> 'depth 8'); kind = depth / width /
        bottleneck / groups. Distinct configurations are distinct networks: no pair is a no-op."""
        rows = []
        for i, j, a, b in self.listed_neighbours(self._archs(arch_strs), space.neighbours):
            key, old, new = _changed_choice(a, b)
            rows.append({"i": i, "j": j, "from_op": f"{CHOICE_NAMES[key]} {old:g}",
                         "to_op": f"{CHOICE_NAMES[key]} {new:g}", "kind": CHOICE_NAMES[key], "no_op": False})
        return pd.DataFrame(rows, columns=["i", "j", "from_op", "to_op", "kind", "no_op"])

    def network(self, arch, seed: int, C: int | None = None, N: int | None = None,
                in_channels: int | None = None, num_classes: int | None = None):
        from nas_core.nets.nds import init_seeded

        return init_seeded(self.fit(arch, C, N), seed, num_classes=num_classes or self.images.classes,
                           in_channels=in_channels or self.images.channels)

    # ---- one-shot: the ordinal supernet ---------------------------------------------------------
    def _limits(self, proto) -> dict:
        """The choice lists a supernet of the protocol's size holds (C: largest width, N: depth)."""
        sp = space.get_space(self.space)
        if proto is None:
            return {}
        depths = tuple(d for d in sp.depths if d <= proto.N)
        widths = tuple(w for w in sp.widths if w <= proto.C)
        if not depths or not widths:
            raise BadParameter(f"an {self.title} supernet of C{proto.C}/N{proto.N} holds no architecture",
                               fix=f"C (largest width) >= {min(sp.widths)} and N (largest depth) >= {min(sp.depths)}")
        return {"ds": depths, "ws": widths}

    def supernet(self, proto, channels: int, classes: int):
        from nas_core.nets.nds_supernet import NDSSupernet

        lists = self._limits(proto)
        return NDSSupernet(self.space, depths=lists["ds"], widths=lists["ws"], num_classes=classes,
                           in_channels=channels, affine=proto.affine, dropout=proto.dropout, clip=True)

    def sampler(self, spec: str, seed: int, restrict_to=None, data_root=None, proto=None):
        """iso: every per-stage choice uniform within the supernet's size (`proto`; None: the
        whole space); with `restrict_to` (arch strings): uniform over those architectures."""
        from nas_core.space import uniform_sampler

        if spec != "iso":
            raise NotApplicable(f"sampler {spec!r} is not defined for {self.title}",
                                fix="use iso (uniform over the design space); de-isomorphic, fair, MC and pruning "
                                    "samplers are NAS-Bench-201's")
        if restrict_to is not None:
            return uniform_sampler.pool_sampler([self.parse(s) for s in restrict_to], seed)
        return uniform_sampler.nds_sampler(self.space, seed, choices=self._limits(proto) or None)

    def sampler_pool_ids(self, arch_strs):
        return sorted({self.format(self.parse(s)) for s in arch_strs})

    # ---- ground truth -----------------------------------------------------------------------------
    def ground_truth(self, data_root) -> pd.DataFrame:
        from nas_core.data.nds_truth import load_nds_truth

        return load_nds_truth(self.space, data_root)

    def describe_data(self, data_root) -> str:
        from nas_core.data.nds_truth import FILES, find_folder

        folder = find_folder(data_root)
        frame = self.ground_truth(data_root)
        made_up = is_fixture(folder)
        text = (f"{self.title} ground truth from NDS's {', '.join(FILES[self.space])} ({len(frame)} networks) + "
                f"CIFAR-10 images from a data root folder named `{Path(data_root).name}`")
        if made_up:
            text = ("**MADE-UP FIXTURE** (the kit's test files in the official schema: every accuracy is random, so "
                    "no number below means anything; this run checks code paths only). " + text)
        return text


def is_fixture(folder: Path) -> bool:
    """Whether an NDS folder is the kit's made-up test fixture (its README says so)."""
    readme = Path(folder) / "README.md"
    return readme.is_file() and "MADE-UP NDS fixture" in readme.read_text(errors="replace")


def _changed_choice(a, b) -> tuple[str, float, float]:
    for key in ("ds", "ws", "bms", "gs"):
        for old, new in zip(getattr(a, key), getattr(b, key)):
            if old != new:
                return key, old, new
    raise ValueError("architectures are equal")


_STUDY = {  # every NDS profile: uniform sampling only, no NB201-only variants
    ("study", "*"): {"rq3_samplers": (), "rq3_affine": False, "mc_samples": (), "op_prune": (), "soft_prune": ""},
    ("study", "smoke"): {"eval_archs": "sample:12", "rq4_archs": "sample:6", "diag_archs": 4},
    ("study", "quick"): {"eval_archs": "sample:60", "rq4_archs": "sample:10", "prune_fractions": (0.5,)},
    # smoke checks code paths in minutes: proxies and supernet run on clipped networks (largest
    # width 32, at most 2 blocks per stage), stated in every notebook's banner
    ("zeroshot", "smoke"): {"C": 32, "N": 2},
    ("supernet", "smoke"): {"C": 32, "N": 2, "dropout": 0.0},
    ("supernet", "quick"): {"C": 64, "N": 4, "dropout": 0.0},
}
# the study's NDS supernets: the whole space, BN affine off, batch 128, SGD lr 0.05, wd 5e-5
_PAPER = {"batch_size": 128, "lr": 0.05, "weight_decay": 5e-5, "dropout": 0.0}
_NOTE = ("100 − the lowest test top-1 error over training (NDS's `min_test_top1`), {how}, as the study")
_SCOPE = ("Here C is the supernet's largest width and N its largest depth per stage; an architecture larger "
          "than the supernet is scored on its clipped form (each stage's depth and width capped to the largest "
          "choice the supernet holds).")

RESNET = NDSBenchmark(
    name="nds_resnet", title="NDS ResNet", images=ImageData("cifar10", 10, 3, 32), default_metric=TRUTH_COLUMN,
    truth_note=_NOTE.format(how="mean over the three seed files"), has_isomorphism=False, has_whole_space=False,
    network_size=(256, 24), samplers=("iso",), oneshot_scope=_SCOPE, space="resnet",
    protocol_overrides={**_STUDY, ("supernet", "paper"): {"C": 256, "N": 24, **_PAPER}})

RESNEXTA = NDSBenchmark(
    name="nds_resnexta", title="NDS ResNeXt-A", images=ImageData("cifar10", 10, 3, 32), default_metric=TRUTH_COLUMN,
    truth_note=_NOTE.format(how="on a seeded random 5,000 of the file's 25,000 networks"),
    has_isomorphism=False, has_whole_space=False, network_size=(256, 16), samplers=("iso",), oneshot_scope=_SCOPE,
    space="resnexta", protocol_overrides={**_STUDY, ("supernet", "paper"): {"C": 256, "N": 16, **_PAPER}})
