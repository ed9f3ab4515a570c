"""Where things live: the data root, the cache, the outputs, and the compute device.

One data root is configured by `--data-root` (CLI / notebook parameter `data_root`) or the
environment variable NAS_CORE_DATA; nothing else is searched, so a run never silently picks
up a different file. Documented layout (every entry optional; see README "Data"):

    $NAS_CORE_DATA/
      nasbench201/nb201_ground_truth.csv      compact NB201 table (or .parquet)
      nasbench201/NATS-tss-v1_0-3ffb9-simple/  official NATS-Bench tss files  (nats_bench)
      nasbench201/NATS-tss-v1_0-3ffb9.pickle.pbz2  official NATS-Bench single file (nats_bench)
      nasbench201/NAS-Bench-201-v1_*.pth      official NAS-Bench-201 file (read with torch, then nats_bench)
      cifar10/cifar10_jpeg_q75.npz            encoded-image npz
      cifar10/cifar-10-batches-py/            torchvision's CIFAR-10 folder (also at the root)
      cifar100/cifar-100-python/              torchvision's CIFAR-100 folder (also at the root)
      ImageNet16/                             NB201's ImageNet16-120 pickles
      fashion-mnist/                          Fashion-MNIST IDX files (else the Debian package's)
      nasbench301/nb301_ground_truth_sample.csv   NB301 sample (or official result JSON, or a table)
      nasbench101/nb101_ground_truth.csv      a CSV export of NAS-Bench-101 (docs/nb101.md), else
      nasbench101/nb101_ground_truth_sample.csv   the 500-cell sample
      nds/ResNet_rng1.json ... ResNet_rng3.json, nds/ResNeXt-A.json   official NDS files (or nds/nds_data/)
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from nas_core.errors import BadParameter, DataNotFound

ENV_DATA = "NAS_CORE_DATA"
ENV_CACHE = "NAS_CORE_CACHE"
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root(explicit: str | os.PathLike | None = None, *, required: bool = False) -> Path | None:
    """The configured data root, or None when none is configured (then the mini benchmark is used)."""
    raw = explicit if explicit not in (None, "") else os.environ.get(ENV_DATA) or None
    if raw is None:
        if required:
            raise DataNotFound(
                "no data root is configured",
                fix=f"pass --data-root DIR or set {ENV_DATA}=DIR (see README, section Data)")
        return None
    root = Path(raw).expanduser().resolve()
    if not root.is_dir():
        raise DataNotFound(
            f"the data root {root} does not exist or is not a folder",
            where=str(root),
            fix=f"point --data-root / {ENV_DATA} at the folder that holds nasbench201/ and cifar10/ "
                "(README, section Data), or unset it to use the built-in mini benchmark")
    return root


def use_data_root(root) -> None:
    """Entry points resolve the data root once and publish it here (the environment, so worker
    processes see it too); engines below read it with `data_root()`, and nothing records it."""
    if root is not None:
        os.environ[ENV_DATA] = str(root)


def cache_dir() -> Path:
    """Computed results (scores, supernet runs, decoded images); safe to delete."""
    path = Path(os.environ.get(ENV_CACHE) or REPO_ROOT / ".cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def outputs_dir(profile: str, benchmark: str = "nb201", truth: str = "") -> Path:
    """outputs/<profile>[-<benchmark>][-<truth>]: keyed by what changes the results, so an
    interactive rerun with another benchmark or ground truth never overwrites the committed
    outputs piecemeal. NAS-Bench-201 adds no suffix (outputs/quick), the mini benchmark adds
    `-mini` (outputs/quick-mini); `truth` is given only when it is not the benchmark's default
    column (outputs/quick-cifar10valid_valid_acc_12ep)."""
    name = profile if benchmark == "nb201" else f"{profile}-{benchmark}"
    if truth:
        name += "-" + "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in truth)
    return REPO_ROOT / "outputs" / name


def resolve_device(name: str = "auto") -> str:
    """'auto' -> 'cuda' if available else 'cpu'; 'cuda' without a GPU is a clear error."""
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadParameter(f"device {name!r} was asked for but PyTorch sees no CUDA GPU",
                               fix="use --device cpu or --device auto")
        return name
    raise BadParameter(f"unknown device {name!r}", fix="use one of: auto, cpu, cuda, cuda:N")


def parse_shard(text: str | None) -> tuple[int, int]:
    """`--shard i/n` (this process does every n-th piece of work, starting at i) -> (i, n);
    None or '' -> (0, 1), all the work."""
    if not text:
        return 0, 1
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        i, n = -1, 0
    if not 0 <= i < n:
        raise BadParameter(f"bad --shard {text!r}", fix="use i/n with 0 <= i < n, e.g. 0/2 and 1/2")
    return i, n


def running_in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, papermill, nbval): results are displayed
    inline there and progress bars stay off (their redraws would litter the saved notebook)."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_progress(requested: bool = True) -> bool:
    """Whether a long job draws a progress bar: as requested, never inside a notebook."""
    return bool(requested) and not running_in_notebook()


def progress_bar(enabled: bool = True, **options):
    """A text tqdm bar, drawn as `show_progress(enabled)` decides (refreshed every 2 s unless
    `mininterval` says otherwise). Plain tqdm, not tqdm.auto: in a notebook kernel without
    ipywidgets the latter warns, with an installed file's absolute path, into the notebook."""
    from tqdm import tqdm

    return tqdm(disable=not show_progress(enabled), **{"mininterval": 2.0, **options})


@contextmanager
def torch_threads(n: int):
    """Run the block on `n` torch CPU threads, then restore the count. CPU kernels sum in an
    order that depends on the thread count, so results that must match across process layouts
    are computed with a fixed count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
