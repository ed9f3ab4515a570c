"""`nas-core data convert | check | layout`: what the kit finds under the data root.

  convert  reads the official NATS-Bench tss / NAS-Bench-201 files under <data root>/nasbench201/
           once into the compact table (a second call reuses it and says so);
  check    one line per data item: found (source, size), missing (how to get it) or PROBLEM
           (found but unreadable). Missing items are information (exit 0); exit 2 when the data
           root itself is wrong or a file that is there cannot be read;
  layout   the documented data-root layout.
"""
from __future__ import annotations

import gzip
import inspect
import pickle
import zipfile
from pathlib import Path

import numpy as np

from nas_core.errors import BadData, BadParameter, DataNotFound, KitError

ROOT_HELP = "data root (default: $NAS_CORE_DATA)"


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="the data root: convert official files, check what is there")
    sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    convert = sub.add_parser("convert", help="convert the official NATS-Bench / NAS-Bench-201 files once")
    convert.add_argument("--data-root", default=None, help=ROOT_HELP)
    convert.add_argument("--out", default=None,
                         help="output .parquet or .csv (default: the kit's cache, where the loader looks; "
                              "<data root>/nasbench201/nb201_ground_truth.parquet makes it the compact table)")
    convert.add_argument("--force", action="store_true", help="convert again even if the output exists")
    convert.set_defaults(func=run_convert)
    check = sub.add_parser("check", help="report what the kit finds under the data root (informational)")
    check.add_argument("--data-root", default=None, help=ROOT_HELP)
    check.set_defaults(func=run_check)
    layout = sub.add_parser("layout", help="print the documented layout of the data root")
    layout.set_defaults(func=run_layout)


# ---- convert ----------------------------------------------------------------------------------

def run_convert(args) -> int:
    from nas_core.config import data_root
    from nas_core.data import groundtruth as gt

    root = data_root(args.data_root, required=True)
    target = Path(args.out) if args.out else gt._converted_path(root)
    if target.suffix not in (".parquet", ".csv"):
        raise BadParameter(f"--out {target} must end in .parquet or .csv")
    if target.is_file() and not args.force:
        frame = gt._validated(gt._read(target), target)
        print(f"reusing {target}, converted earlier ({len(frame)} architectures); "
              "pass --force (or delete it) to convert again")
        return 0
    source = gt._official_source(root / "nasbench201")
    compact = [root / "nasbench201" / n for n in gt.COMPACT_NAMES if (root / "nasbench201" / n).is_file()]
    if source is None and compact:
        print(f"nothing to convert: no official files under {root / 'nasbench201'}, and the compact table "
              f"{compact[0]} is already what the kit loads")
        return 0
    if source is not None:
        print(f"converting {source} (read once through nats_bench; this takes a while) ...")
    frame = gt.convert_official(root, out=target)
    metrics = [c for c in frame.columns if c not in ("index", "arch_str", "iso_class", "iso_representative")]
    print(f"wrote {len(frame)} architectures to {target}\n  columns: {', '.join(metrics)}")
    if compact:
        print(f"note: {compact[0]} exists and is what the kit loads first")
    return 0


# ---- check ------------------------------------------------------------------------------------

def run_check(args) -> int:
    from nas_core.config import data_root

    root = data_root(args.data_root)  # a wrong root is a KitError (exit 2); none is fine
    if root is None:
        print("data root: none configured (--data-root / $NAS_CORE_DATA): the kit runs the built-in "
              "mini benchmark on Fashion-MNIST")
        items = [("Fashion-MNIST", _check_fmnist), ("mini benchmark", _check_mini)]
    else:
        print(f"data root: {root}")
        items = [("NAS-Bench-201 ground truth", _check_ground_truth), ("CIFAR-10 images", _check_cifar10),
                 ("CIFAR-100 images", _check_cifar100), ("ImageNet16-120 images", _check_imagenet16),
                 ("Fashion-MNIST", _check_fmnist), ("mini benchmark", _check_mini)]
    problems = 0
    for label, check in items:
        try:
            status = check(root)
        except KitError as exc:  # a problem with this item only: report it, go on with the others
            status = "PROBLEM: " + exc.message().replace("\n", "\n    ")
        problems += status.startswith("PROBLEM")
        print(f"  {label}: {status}")
    if problems:
        print(f"{problems} item(s) found but unreadable: fix or remove them (see PROBLEM above)")
    return 2 if problems else 0


def _missing(exc: KitError) -> str:
    return "missing: " + exc.message().replace("\n", "\n    ")


def _check_ground_truth(root: Path) -> str:
    from nas_core.data import groundtruth as gt

    folder = root / "nasbench201"
    for path in [folder / n for n in gt.COMPACT_NAMES] + [gt._converted_path(root)]:
        if path.is_file():
            frame = gt._validated(gt._read(path), path)
            kind = "compact table" if path.parent == folder else "converted from the official files"
            return (f"{kind} {path}: {len(frame)} architectures, "
                    f"{frame['iso_class'].nunique()} isomorphism classes")
    source = gt._official_source(folder)
    if source is not None:
        return (f"official files {source}, not converted yet: run `nas-core data convert --data-root {root}` "
                "once (the first ground-truth load would do it too)")
    return _missing(DataNotFound("no NAS-Bench-201 ground truth", where=str(folder), fix=gt.HOW_TO_GET))


def _check_cifar10(root: Path) -> str:
    for folder in (root / "cifar10" / "cifar-10-batches-py", root / "cifar-10-batches-py"):
        if folder.is_dir():
            n_train = _cifar_count(folder, [f"data_batch_{i}" for i in range(1, 6)], b"labels")
            return f"torchvision folder {folder}: {n_train} train + {_cifar_count(folder, ['test_batch'], b'labels')} test"
    npz = root / "cifar10" / "cifar10_jpeg_q75.npz"
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as data:
                counts = len(data["train_labels"]), len(data["test_labels"])
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            return (f"PROBLEM: cannot read {npz} ({type(exc).__name__}: {exc}): the file is truncated or damaged; "
                    "copy or download it again")
        return f"encoded-image npz {npz}: {counts[0]} train + {counts[1]} test"
    return _missing(DataNotFound("CIFAR-10 images not found", where=f"{npz} or {root}/cifar10/cifar-10-batches-py",
                                 fix="put torchvision's cifar-10-batches-py folder or the encoded npz there"))


def _check_cifar100(root: Path) -> str:
    for folder in (root / "cifar100" / "cifar-100-python", root / "cifar-100-python"):
        if folder.is_dir():
            return (f"torchvision folder {folder}: {_cifar_count(folder, ['train'], b'fine_labels')} train + "
                    f"{_cifar_count(folder, ['test'], b'fine_labels')} test")
    return f"missing (optional, for the other datasets): put torchvision's cifar-100-python folder at {root}/cifar100/"


def _check_imagenet16(root: Path) -> str:
    folder = root / "ImageNet16"
    present = sorted(p.name for p in folder.glob("train_data_batch_*")) if folder.is_dir() else []
    if present:
        val = "val_data present" if (folder / "val_data").is_file() else "val_data MISSING"
        return f"NAS-Bench-201 pickles in {folder}: {len(present)}/10 training batches, {val}"
    return f"missing (optional, for the other datasets): put NAS-Bench-201's ImageNet16 pickles in {folder}"


def _check_fmnist(root) -> str:
    from nas_core.data.images import FASHION_MNIST_SYSTEM, fashion_mnist_dir

    folder = fashion_mnist_dir(root)
    if folder is None:
        where = f"{root}/fashion-mnist or {FASHION_MNIST_SYSTEM}" if root else str(FASHION_MNIST_SYSTEM)
        return (f"missing (looked in {where}): run `apt-get install dataset-fashion-mnist` (Debian/Ubuntu) or put "
                "the four IDX files in <data root>/fashion-mnist")
    return f"IDX files in {folder}: {_idx_count(folder, 'train')} train + {_idx_count(folder, 't10k')} test"


def _check_mini(root) -> str:
    try:
        from nas_core.data.minibench_table import load_mini_table
    except ImportError:
        return "not available in this installation"
    from nas_core.errors import DataNotFound

    try:
        frame = load_mini_table()
    except DataNotFound as exc:
        return f"missing: {exc.what}; {exc.fix}"
    return f"built in, {len(frame)} architectures"


def _cifar_count(folder: Path, names, label_key: bytes) -> str:
    total = 0
    for name in names:
        if not (folder / name).is_file():
            return f"? ({name} MISSING)"
        try:
            with open(folder / name, "rb") as fh:
                total += len(pickle.load(fh, encoding="bytes")[label_key])
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as exc:
            raise BadData(f"cannot read {folder / name}: {type(exc).__name__}: {exc}", where=str(folder),
                          fix="re-extract the official python archive") from None
    return str(total)


def _idx_count(folder: Path, prefix: str) -> str:
    """Number of items from the IDX header (magic, then the first dimension, big-endian)."""
    for name in (f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels-idx1-ubyte.gz"):
        path = folder / name
        if path.is_file():
            with (gzip.open if name.endswith(".gz") else open)(path, "rb") as fh:
                head = fh.read(8)
            return str(int.from_bytes(head[4:8], "big")) if len(head) == 8 else "? (truncated)"
    return "? (labels file MISSING)"


# ---- layout -----------------------------------------------------------------------------------

def run_layout(args) -> int:
    from nas_core import config

    print(inspect.cleandoc(config.__doc__))
    return 0
