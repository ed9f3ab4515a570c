"""nas_core.score against the reference library (SamsungLabs zero-cost-nas) on the same network
object and the same batch.

    ZC_NAS_REFERENCE=<folder of a local zero-cost-nas checkout> NAS_CORE_DATA=<data> \
        python benchmarks/compare_reference.py [--archs 3] [--batch 128] [--C 16] [--N 5] [--input real|noise]

The reference is not on PyPI and nothing of it is part of this kit: point the variable at a
checkout (`git clone https://github.com/SamsungLabs/zero-cost-nas`). Only its measure modules
are loaded (`foresight/pruners/{p_utils,predictive}.py`, `foresight/pruners/measures/`), with
its model zoo stubbed out, so it needs nothing beyond torch and numpy. Each reference measure
runs through its own `calc_measure` on a copy of the network (`copynet`, as `find_measures`
does) and is summed as `find_measures` sums it. Prints per proxy both values and the relative
difference |kit - ref| / max(|kit|, |ref|).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import types
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

import nas_core
from nas_core.engines.zeroshot import input_batches
from nas_core.nets.network import init_seeded
from nas_core.space import nb201

PROXIES = ("grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "jacob_cov")
ARCHS = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
         "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|",
         "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",
         "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
         "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|",
         "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|")

# where the kit's definition is a deliberate choice rather than the reference's code
NOTES = {
    "grasp": "same sign (-W * Hg) and temperature (T=1); Hg from one graph instead of two forwards",
    "jacob_cov": "eigvalsh of the float64 correlation (reference: np.linalg.eig, real part)",
    "synflow": "same definition (BN removed, |W| incl. biases, float64, one all-ones input)",
    "fisher": "reference: per-channel value broadcast over the channel's weights (fisher_channel: once)",
}


def load_reference(folder: str):
    """(measures, predictive) modules of the reference checkout, without its model zoo."""
    root = Path(folder).expanduser().resolve() / "foresight"
    if not (root / "pruners" / "measures" / "fisher.py").is_file():
        raise SystemExit(f"ZC_NAS_REFERENCE={folder}: no foresight/pruners/measures/fisher.py there")
    for name, path in (("foresight", root), ("foresight.pruners", root / "pruners")):
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(path)]  # a namespace for the measure modules; its __init__ is not run
        sys.modules[name] = pkg
    # p_utils does `from ..models import *` (the model zoo and its dependencies): not needed here
    sys.modules["foresight.models"] = types.ModuleType("foresight.models")
    measures = importlib.import_module("foresight.pruners.measures")
    predictive = importlib.import_module("foresight.pruners.predictive")
    return measures, predictive


def reference_values(measures, predictive, net, x, y) -> dict[str, float]:
    net.get_prunable_copy = types.MethodType(predictive.copynet, net)
    out = {}
    for name in PROXIES:
        val = measures.calc_measure(name, net, x.device, x.clone(), y.clone(), loss_fn=F.cross_entropy, split_data=1)
        if name == "jacob_cov":
            out[name] = float(np.real(val))
        else:  # find_measures' sum_arr
            out[name] = float(sum(torch.sum(t.detach()).double() for t in val))
    del net.get_prunable_copy
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--N", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--input", default="real", choices=["real", "noise"])
    args = ap.parse_args()
    folder = os.environ.get("ZC_NAS_REFERENCE")
    if not folder:
        print("ZC_NAS_REFERENCE is not set: nothing to compare.\n"
              "  git clone https://github.com/SamsungLabs/zero-cost-nas /some/folder\n"
              "  ZC_NAS_REFERENCE=/some/folder python benchmarks/compare_reference.py")
        return
    torch.set_num_threads(max(1, torch.get_num_threads()))
    measures, predictive = load_reference(folder)
    if args.input == "real":
        ((x, y),) = input_batches("cifar10", None, 1, args.batch, "real")
    else:
        g = torch.Generator().manual_seed(0)
        x, y = torch.randn(args.batch, 3, 32, 32, generator=g), torch.randint(0, 10, (args.batch,), generator=g)
    print(f"torch={torch.__version__} C={args.C} N={args.N} batch={args.batch} input={args.input} "
          f"seed={args.seed} reference={Path(folder).name}")
    worst = {p: 0.0 for p in PROXIES}
    for arch in ARCHS[: args.archs]:
        net = init_seeded(nb201.parse(arch), args.seed, C=args.C, N=args.N)
        kit = nas_core.score(net, x, y, PROXIES)
        ref = reference_values(measures, predictive, net, x, y)
        print(f"\n{arch}")
        for p in PROXIES:
            rel = abs(kit[p] - ref[p]) / max(abs(kit[p]), abs(ref[p]), 1e-30)
            worst[p] = max(worst[p], rel)
            print(f"  {p:<10s} kit {kit[p]: .8e}  ref {ref[p]: .8e}  rel diff {rel:.1e}")
    print("\nlargest relative difference per proxy (aim: 1e-3):")
    for p in PROXIES:
        flag = "ok" if worst[p] <= 1e-3 else "DIFFERS"
        note = f"  [{NOTES[p]}]" if p in NOTES else ""
        print(f"  {p:<10s} {worst[p]:.1e}  {flag}{note}")


if __name__ == "__main__":
    main()
