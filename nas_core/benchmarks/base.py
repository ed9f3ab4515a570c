"""What a search space provides to the kit (the seam; see docs/benchmarks.md for the checklist).

Architectures cross the seam as the benchmark's own strings (`arch_str`, as its ground truth
writes them); each benchmark parses them into its own hashable encoding for its networks.
Methods a space cannot support raise `NotApplicable` with a one-line reason, which the
notebooks print instead of the analysis (e.g. de-isomorphic sampling on a space without
isomorphism classes).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nas_core.errors import KitError


class NotApplicable(KitError):
    """An analysis or sampler that does not exist for this search space (a one-line reason)."""


@dataclass(frozen=True)
class ImageData:
    dataset: str          # key for nas_core.data.images (cifar10, fmnist16, ...)
    classes: int
    channels: int
    resolution: int


@dataclass(frozen=True)
class Benchmark:
    name: str                        # registry name, also the outputs/ suffix
    title: str                       # for people: "NAS-Bench-201"
    images: ImageData
    default_metric: str              # ground-truth column the study ranks against
    truth_note: str = ""             # what the ground truth is (shown beside comparisons)
    needs_data_root: bool = True
    # capabilities (False: the analyses that need them say so in one line)
    has_isomorphism: bool = False
    has_whole_space: bool = False    # the ground truth covers the whole space (not a sample)
    # the benchmark's own network, where the zero-shot proxies run (C, N as the space reads them)
    network_size: tuple = (16, 5)
    # protocol numbers that differ from the profiles': {(section, profile): {field: value}}
    protocol_overrides: dict = field(default_factory=dict)
    samplers: tuple = ("iso",)       # supernet sampler specs this space understands
    vote_experts: tuple = ("jacob_cov", "snip", "synflow")  # the study's voting experts per space
    op_names: tuple = ()             # the space's operations (feature columns end with them)
    # the NB201 cell space (nb201, mini): RQ2's feature list and REA's mutation rule are NB201's own
    nb201_cell_space: bool = False
    # what the supernet scores when it does not cover every architecture as it is (shown in the
    # notebooks' banner; "" = every evaluated architecture, unchanged)
    oneshot_scope: str = ""

    # ---- protocols --------------------------------------------------------------------------
    def protocol(self, section: str, profile: str, **overrides):
        from nas_core.profiles import protocol

        mine = {**self.protocol_overrides.get((section, "*"), {}),
                **self.protocol_overrides.get((section, profile), {})}
        return protocol(section, profile, **{**mine, **{k: v for k, v in overrides.items() if v is not None}})

    def default_metric_of(self, truth: pd.DataFrame) -> str:
        """The ground-truth column ranked against when none is named (it may depend on which
        file the data root holds, e.g. NB101's sample vs a full export)."""
        return self.default_metric

    # ---- architectures (override) -------------------------------------------------------------
    def parse(self, arch_str: str):
        raise NotImplementedError

    def format(self, arch) -> str:
        raise NotImplementedError

    def iso_keys(self, arch_strs) -> np.ndarray:
        """A class key per architecture: equal keys = the same network function. Spaces without
        isomorphism reduction return the canonical string of each architecture."""
        return np.asarray([self.format(self.parse(s)) for s in arch_strs], dtype=object)

    def valid_mask(self, arch_strs) -> np.ndarray:
        """Architectures worth evaluating (NB201: with a conv on a live path)."""
        return np.ones(len(list(arch_strs)), dtype=bool)

    def params_flops(self, arch_strs) -> tuple[np.ndarray, np.ndarray]:
        """Analytic #params (M) and #FLOPs (M) of the benchmark's own network."""
        raise NotImplementedError

    def stratify_flops(self, arch_strs) -> np.ndarray:
        """The FLOPs that `sample:N` selections are stratified on (default: the own network's)."""
        return self.params_flops(arch_strs)[1]

    def oneshot_mask(self, arch_strs) -> np.ndarray:
        """Architectures the benchmark's supernet can score (default: all). The Study draws the
        one-shot evaluation set among them (NB101: the cells of NAS-Bench-1shot1 sub-space 3)."""
        return np.ones(len(list(arch_strs)), dtype=bool)

    def features(self, arch_strs) -> pd.DataFrame:
        """RQ2's per-architecture features; always has params_M, flops_M and flops_group."""
        raise NotImplementedError

    def graph_features(self, arch_strs) -> pd.DataFrame:
        """Counting baselines (one row per architecture, every column "higher = more"): the
        number of each op and the trainable layers on the longest path. Default: the op-count
        and depth columns of `features`."""
        feats = self.features(arch_strs)
        cols = [c for c in feats.columns if c.endswith("_depth") or c == "depth" or c.startswith("n_")
                or any(c.endswith(op) for op in self.op_names)]
        return feats[cols].astype(float).reset_index(drop=True)

    @staticmethod
    def listed_neighbours(archs, neighbours):
        """(i, j, a, b) for every ordered pair of listed architectures (parsed, hashable) where b
        is among `neighbours(a)`: the pair search every space's `mutation_pairs` shares."""
        pos = {a: k for k, a in enumerate(archs)}
        for i, a in enumerate(archs):
            for b in neighbours(a):
                j = pos.get(b)
                if j is not None:
                    yield i, j, a, b

    def mutation_pairs(self, arch_strs) -> pd.DataFrame:
        """One-mutation pairs among `arch_strs`: columns a, b (positions), from_op, to_op, cell,
        kind ('op' / 'input') and noop (the two are the same function)."""
        raise NotApplicable(f"{self.title}: no mutation pairs defined")

    # ---- networks -----------------------------------------------------------------------------
    def network(self, arch, seed: int, C: int | None = None, N: int | None = None,
                in_channels: int | None = None, num_classes: int | None = None):
        """The standalone network of `arch` (parsed), seeded default initialisation."""
        raise NotImplementedError

    def supernet(self, proto, channels: int, classes: int):
        raise NotApplicable(f"{self.title}: no supernet")

    def sampler(self, spec: str, seed: int, restrict_to=None, data_root=None, proto=None):
        """The supernet's training sampler; `proto` (the run's SupernetProtocol, None: the
        full-size supernet) tells spaces whose supernet size limits the choices (NDS) what to draw."""
        raise NotApplicable(f"{self.title}: no supernet samplers")

    def sampler_pool_ids(self, arch_strs):
        """The sampler's encoding of a list of architectures (one-shot pruning's kept set)."""
        return [self.parse(s) for s in arch_strs]

    # ---- ground truth -------------------------------------------------------------------------
    def ground_truth(self, data_root) -> pd.DataFrame:
        """index, arch_str, iso_class, iso_representative and the metric columns."""
        raise NotImplementedError

    def describe_data(self, data_root) -> str:
        raise NotImplementedError
