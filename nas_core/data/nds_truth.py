"""NDS ResNet / ResNeXt-A ground truth from the official NDS JSON files (docs/nds.md).

The files come from https://dl.fbaipublicfiles.com/nds/data.zip (linked from
github.com/facebookresearch/nds); unzipped they are `nds_data/<Name>.json`. Put them (or the
`nds_data` folder) under `<data root>/nds/`. Each file is a JSON list of trained networks; an
entry holds, among others:
  net            the configuration: block_type, and lists of 4 values (the stem, then the 3
                 stages) ds (depths), ws (widths), ss (strides); ResNeXt adds bot_muls and num_gs
  params, flops  counted by pycls (flops in multiply-accumulates)
  min_test_top1  the lowest test top-1 ERROR (%) over training; test_ep_top1 the per-epoch errors
  rng_seed, job_id, optim (base_lr, wd, max_ep, ...), train_ep_*, ...

The study's ground truth, reproduced here:
  ResNet     the files ResNet_rng1/2/3.json train the same 5,000 networks with three seeds;
             accuracy = 100 - min_test_top1 averaged over the three;
  ResNeXt-A  ResNeXt-A.json has 25,000 networks (one seed); a seeded random 5,000 of them
             (`subset`, `seed`; all of them when the file has fewer).
The frame: index, arch_str (`space.nds.format_arch`), iso_class / iso_representative (equal
configurations share a class), cifar10_test_acc (100 - min_test_top1, mean over seeds),
cifar10_test_acc_final (100 - the last epoch's error, mean over seeds), n_seeds,
params_M_file / flops_M_file (the file's counts) and params_M_cifar10 / flops_M_cifar10 (the
kit's, `space.nds.params_flops`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nas_core.config import data_root as resolve_root
from nas_core.errors import BadData, BadParameter, DataNotFound
from nas_core.space import nds

FOLDER = "nds"
FILES = {"resnet": ("ResNet_rng1.json", "ResNet_rng2.json", "ResNet_rng3.json"),
         "resnexta": ("ResNeXt-A.json",)}
DEFAULT_SUBSET = 5000
DEFAULT_METRIC = "cifar10_test_acc"
HOW_TO_GET = ("download https://dl.fbaipublicfiles.com/nds/data.zip (github.com/facebookresearch/nds), unzip it "
              "and put its JSON files (or the nds_data folder) under <data root>/nds/")
_REQUIRED = ("net", "params", "flops", "min_test_top1")


def find_folder(data_root=None, folder=None) -> Path:
    """The folder holding the NDS JSON files: `folder` if given, else <data root>/nds (or its
    nds_data subfolder, as the zip unpacks)."""
    if folder is not None:
        path = Path(folder)
        if not path.is_dir():
            raise DataNotFound(f"NDS folder {path} does not exist", where=str(path), fix=HOW_TO_GET)
        return path
    base = resolve_root(data_root, required=True) / FOLDER
    for path in (base, base / "nds_data"):
        if path.is_dir() and any(path.glob("*.json")):
            return path
    raise DataNotFound("no NDS JSON files found", where=str(base), fix=HOW_TO_GET)


def load_nds_truth(space: str, data_root=None, folder=None, seed: int = 0,
                   subset: int = DEFAULT_SUBSET) -> pd.DataFrame:
    """The ground-truth frame of `space` ('resnet' or 'resnexta'; module docstring)."""
    sp = nds.get_space(space)
    where = find_folder(data_root, folder)
    files = [where / name for name in FILES[sp.name]]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise DataNotFound(f"NDS {sp.label} needs {', '.join(FILES[sp.name])}; missing {', '.join(missing)}",
                           where=str(where), fix=HOW_TO_GET)
    runs = [_read_entries(f, sp) for f in files]
    if sp.name == "resnet":
        frame = _average_seeds(runs, files)
    else:
        frame = runs[0]
        if subset < 1:
            raise BadParameter(f"subset must be >= 1, got {subset}")
        if len(frame) > subset:
            keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=subset, replace=False))
            frame = frame.iloc[keep].reset_index(drop=True)
        frame["n_seeds"] = 1
    return _finish(frame)


def _load_json(path: Path):
    try:
        with open(path, "rb") as fh:
            return json.load(fh)
    except PermissionError:
        raise BadData(f"permission denied reading {path}", where=str(path), fix="make it readable") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadData(f"{path.name} is not valid JSON ({exc}); the file is damaged or truncated",
                      where=str(path), fix="re-download it; " + HOW_TO_GET) from None


def _read_entries(path: Path, sp: nds.DesignSpace) -> pd.DataFrame:
    data = _load_json(path)
    if not isinstance(data, list) or not data:
        raise BadData(f"{path.name} should hold a non-empty JSON list of trained networks, got "
                      f"{type(data).__name__}", where=str(path), fix=HOW_TO_GET)
    rows = []
    for i, entry in enumerate(data):
        def bad(what):
            return BadData(f"{path.name}, entry {i}: {what}", where=str(path),
                           fix=f"expected the NDS {sp.label} schema; " + HOW_TO_GET)
        if not isinstance(entry, dict) or any(k not in entry for k in _REQUIRED):
            have = list(entry) if isinstance(entry, dict) else type(entry).__name__
            raise bad(f"needs the keys {', '.join(_REQUIRED)}; has {have}")
        net = entry["net"]
        if not isinstance(net, dict):
            raise bad("net must be a JSON object")
        if net.get("block_type") != sp.block_type:
            raise bad(f"net.block_type is {net.get('block_type')!r}, but {sp.label} networks use {sp.block_type!r} "
                      "(is this the file of another design space?)")
        if "ss" in net and list(net["ss"])[1:] != list(nds.STRIDES):
            raise bad(f"net.ss = {net['ss']}: the stage strides must be {list(nds.STRIDES)} (CIFAR)")
        try:
            arch = nds.from_net_config(sp.name, net)
        except BadParameter as exc:
            raise bad(exc.what) from None
        try:
            err = float(entry["min_test_top1"])
            curve = entry.get("test_ep_top1") or [np.nan]
            final = float(curve[-1])
            params, flops = float(entry["params"]), float(entry["flops"])
        except (TypeError, ValueError):
            raise bad("min_test_top1, test_ep_top1, params and flops must be numbers") from None
        if not 0 <= err <= 100:
            raise bad(f"min_test_top1 = {err} is not an error in percent")
        rows.append({"arch_str": nds.format_arch(arch), "cifar10_test_acc": 100.0 - err,
                     "cifar10_test_acc_final": 100.0 - final,
                     "params_M_file": params / 1e6, "flops_M_file": flops / 1e6})
    return pd.DataFrame(rows)


def _average_seeds(runs: list[pd.DataFrame], files: list[Path]) -> pd.DataFrame:
    """Mean over the seed files of each network, in the first file's order; every network must
    be in every file exactly once (the study's rule: each of the 5,000 has its three seeds)."""
    for run, f in zip(runs, files):
        dup = run["arch_str"].duplicated()
        if dup.any():
            raise BadData(f"{f.name} lists {run['arch_str'][dup].iloc[0]} more than once", where=str(f),
                          fix="each seed file trains each network once; re-download it")
    first = set(runs[0]["arch_str"])
    for run, f in zip(runs[1:], files[1:]):
        if set(run["arch_str"]) != first:
            diff = sorted(first.symmetric_difference(run["arch_str"]))
            raise BadData(f"{f.name} and {files[0].name} do not train the same networks ({len(diff)} differ, "
                          f"e.g. {diff[0]})", where=str(f), fix="use the three ResNet_rng files of one download")
    stacked = pd.concat(runs, ignore_index=True)
    mean = stacked.groupby("arch_str", sort=False).mean(numeric_only=True)
    frame = mean.loc[runs[0]["arch_str"]].reset_index()
    frame["n_seeds"] = len(runs)
    return frame


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.insert(0, "index", np.arange(len(frame)))
    codes, _ = pd.factorize(frame["arch_str"])
    frame["iso_class"] = codes
    frame["iso_representative"] = ~frame["arch_str"].duplicated()
    pf = np.array([nds.params_flops(nds.parse(s)) for s in frame["arch_str"]], dtype=np.float64) / 1e6
    frame["params_M_cifar10"], frame["flops_M_cifar10"] = pf[:, 0], pf[:, 1]
    return frame
