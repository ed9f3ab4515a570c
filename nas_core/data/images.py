"""Image datasets as uint8 tensors, read from the formats users have, split with a seed.

Formats (all read without torchvision):
  * encoded-image npz  (`cifar10/cifar10_jpeg_q75.npz`: JPEG bytes + offsets + labels);
  * torchvision's CIFAR-10 / CIFAR-100 python folders (pickled batches);
  * NAS-Bench-201's ImageNet16-120 pickles (`ImageNet16/train_data_batch_*`, `val_data`);
  * Fashion-MNIST IDX files (raw or .gz), under the data root or Debian's
    `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist).
Decoded arrays are cached as .npy (keyed by the source file's path, size and mtime), so JPEG
decoding happens once per machine.

Class-ordered files are the norm here: every split goes through `stratified_split` (seeded).
"""
from __future__ import annotations

import gzip
import io
import pickle
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from nas_core.cache import CorruptFile, config_key, quarantine, read_checked, write_checked
from nas_core.config import cache_dir, data_root as resolve_root
from nas_core.errors import BadData, BadParameter, DataNotFound

FASHION_MNIST_SYSTEM = Path("/usr/share/datasets/fashion-mnist")
# Per-channel normalisation constants (the datasets' usual published values).
NORMALISATION = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "imagenet16": ((0.4811, 0.4575, 0.4078), (0.2471, 0.2404, 0.2453)),
    "fmnist": ((0.2860,), (0.3530,)),
    "fmnist16": ((0.2860,), (0.3530,)),  # Fashion-MNIST at 16x16: the mini benchmark's images
}
MINI_RESOLUTION = 16
DATASETS = tuple(NORMALISATION)


@dataclass
class ImageSet:
    """uint8 images (N, C, H, W) with int64 labels; normalisation happens on the device."""
    name: str
    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> "ImageSet":
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        return ImageSet(self.name, self.images[idx], self.labels[idx], self.num_classes)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])


def load_images(dataset: str, split: str = "train", data_root=None) -> ImageSet:
    """`dataset` in cifar10, cifar100, imagenet16, fmnist; `split` in train, test."""
    if dataset not in DATASETS:
        raise BadParameter(f"unknown image dataset {dataset!r}", fix=f"use one of: {', '.join(DATASETS)}")
    if split not in ("train", "test"):
        raise BadParameter(f"unknown split {split!r}", fix="use 'train' or 'test'")
    if dataset == "fmnist16":
        root = resolve_root(data_root)
        images, labels = _fashion_mnist16(split, None if root is None else str(root))
        return ImageSet(dataset, images.clone(), labels.clone(), 10)  # copies: callers own their tensors
    if dataset == "fmnist":
        images, labels = _fashion_mnist(split, data_root)
        return ImageSet(dataset, images, labels, 10)
    root = resolve_root(data_root, required=True)
    reader = {"cifar10": _cifar10, "cifar100": _cifar100, "imagenet16": _imagenet16}[dataset]
    images, labels, classes = reader(root, split)
    return ImageSet(dataset, images, labels, classes)


def stratified_split(labels, first, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, class-stratified split. `first` is a fraction (0..1) or a count of the first part.

    Each class contributes its share of the first part (largest-remainder rounding, so the
    first part has exactly round(share * n) items), picked after a seeded shuffle; both parts
    come back shuffled (so they can be batched in order).
    """
    labels = np.asarray(labels)
    n = len(labels)
    share = first / n if first > 1 else float(first)
    if not 0 < share < 1:
        raise BadParameter(f"split size {first} must be a fraction in (0, 1) or a count in (0, {n})")
    rng = np.random.default_rng(seed)
    classes, sizes = np.unique(labels, return_counts=True)
    # largest-remainder allocation: per-class shares that add up to exactly round(share * n)
    exact = share * sizes
    take = np.floor(exact).astype(int)
    short = int(round(share * n)) - take.sum()
    take[np.argsort(-(exact - take), kind="stable")[:short]] += 1
    part_a, part_b = [], []
    for c, k in zip(classes, take):
        members = rng.permutation(np.flatnonzero(labels == c))
        part_a.append(members[:k])
        part_b.append(members[k:])
    a, b = np.concatenate(part_a), np.concatenate(part_b)
    return rng.permutation(a), rng.permutation(b)


def train_heldout(dataset: str, data_root=None, seed: int = 0, train_fraction: float = 0.8,
                  max_train: int | None = None, max_heldout: int | None = None) -> tuple[ImageSet, ImageSet]:
    """The study's split of the TRAINING set: `train_fraction` trains, the rest is held out
    (scores architectures). The test split is never used for scoring. `max_*` take stratified
    sub-samples for the small profiles."""
    full = load_images(dataset, "train", data_root)
    a, b = stratified_split(full.labels.numpy(), train_fraction, seed)
    if max_train is not None and max_train < len(a):
        a = a[stratified_split(full.labels.numpy()[a], max_train, seed + 1)[0]]
    if max_heldout is not None and max_heldout < len(b):
        b = b[stratified_split(full.labels.numpy()[b], max_heldout, seed + 2)[0]]
    return full.subset(a), full.subset(b)


# ---- device-side preprocessing ----------------------------------------------------------------

def normalise(images: torch.Tensor, dataset: str) -> torch.Tensor:
    """uint8 (N,C,H,W) on any device -> float32 normalised, on that device."""
    mean, std = NORMALISATION[dataset]
    mean_t = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return (images.float().div_(255.0) - mean_t) / std_t


def augment(x: torch.Tensor, generator: torch.Generator, pad: int = 4, flip: bool = True) -> torch.Tensor:
    """Random crop (zero padding `pad`) + horizontal flip for a whole batch, on its device,
    with no per-sample Python work."""
    n, c, h, w = x.shape
    dev = x.device
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=generator.device).to(dev)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=generator.device).to(dev)
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, :, None]  # (n, h, 1)
    cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, :]  # (n, 1, w)
    batch = torch.arange(n, device=dev)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    if flip:
        mask = (torch.rand(n, generator=generator, device=generator.device) < 0.5).to(dev)
        out = torch.where(mask[:, None, None, None], out.flip(3), out)
    return out.contiguous()


# ---- readers ----------------------------------------------------------------------------------

def _cached_decode(source: Path, tag: str, decode) -> tuple[np.ndarray, np.ndarray]:
    stat = source.stat()
    key = config_key({"path": str(source.resolve()), "size": stat.st_size, "mtime": stat.st_mtime, "tag": tag})
    folder = cache_dir() / "images" / key
    x_file, y_file = folder / "images.npy", folder / "labels.npy"
    if x_file.exists() and y_file.exists():
        try:
            return _load_checked(x_file), _load_checked(y_file)
        except CorruptFile as exc:  # a damaged cache is never used: set aside, decode again
            quarantine(exc.path, exc.reason)
    images, labels = decode()
    for path, arr in ((x_file, images), (y_file, labels)):
        buf = io.BytesIO()
        np.save(buf, arr)
        write_checked(path, buf.getvalue())
    return images, labels


def _load_checked(path: Path) -> np.ndarray:
    """A cached array, verified against its checksum (same-size corruption included)."""
    data = read_checked(path)
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CorruptFile(path, f"unreadable array: {exc}") from None


def _to_tensors(images: np.ndarray, labels: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels.astype(np.int64))


def _cifar10(root: Path, split: str):
    npz = root / "cifar10" / "cifar10_jpeg_q75.npz"
    for folder in (root / "cifar10" / "cifar-10-batches-py", root / "cifar-10-batches-py"):
        if folder.is_dir():
            names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
            x, y = _cached_decode(folder / names[0], f"cifar10-{split}",
                                  lambda: _read_cifar_pickles(folder, names, b"labels"))
            return (*_to_tensors(x, y), 10)
    if npz.is_file():
        x, y = _cached_decode(npz, f"npz-{split}", lambda: _decode_npz(npz, split))
        return (*_to_tensors(x, y), 10)
    raise DataNotFound("CIFAR-10 images not found", where=f"{npz} or {root}/cifar10/cifar-10-batches-py",
                       fix="put torchvision's cifar-10-batches-py folder or the encoded npz there "
                           "(README, section Data)")


def _cifar100(root: Path, split: str):
    for folder in (root / "cifar100" / "cifar-100-python", root / "cifar-100-python"):
        if folder.is_dir():
            x, y = _cached_decode(folder / split, f"cifar100-{split}",
                                  lambda: _read_cifar_pickles(folder, [split], b"fine_labels"))
            return (*_to_tensors(x, y), 100)
    raise DataNotFound("CIFAR-100 images not found", where=f"{root}/cifar100/cifar-100-python",
                       fix="put torchvision's cifar-100-python folder there (README, section Data)")


def _imagenet16(root: Path, split: str):
    folder = root / "ImageNet16"
    names = [f"train_data_batch_{i}" for i in range(1, 11)] if split == "train" else ["val_data"]
    if not (folder / names[0]).is_file():
        raise DataNotFound("ImageNet16-120 not found", where=str(folder),
                           fix="put NAS-Bench-201's ImageNet16 pickles (train_data_batch_1..10, val_data) there")

    def decode():
        xs, ys = [], []
        for name in names:
            with open(folder / name, "rb") as fh:
                entry = pickle.load(fh, encoding="latin1")
            labels = np.asarray(entry["labels"]) - 1  # stored 1-based
            keep = labels < 120  # ImageNet16-120 = the first 120 classes
            xs.append(np.asarray(entry["data"], dtype=np.uint8)[keep].reshape(-1, 3, 16, 16))
            ys.append(labels[keep])
        return np.concatenate(xs), np.concatenate(ys)

    x, y = _cached_decode(folder / names[0], f"imagenet16-{split}", decode)
    return (*_to_tensors(x, y), 120)


def _read_cifar_pickles(folder: Path, names, label_key: bytes):
    xs, ys = [], []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise DataNotFound(f"CIFAR batch file {name} is missing", where=str(folder),
                               fix="re-extract the official python archive")
        with open(path, "rb") as fh:
            entry = pickle.load(fh, encoding="bytes")
        xs.append(np.asarray(entry[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(entry[label_key]))
    return np.concatenate(xs), np.concatenate(ys)


def _decode_npz(path: Path, split: str):
    from PIL import Image

    try:
        with np.load(path, allow_pickle=False) as data:
            blob, offsets, labels = data[f"{split}_jpeg"], data[f"{split}_offsets"], data[f"{split}_labels"]
    except PermissionError:
        raise BadData(f"permission denied reading {path}", where=str(path), fix="make it readable (chmod a+r)") from None
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise BadData(f"cannot read {path} ({type(exc).__name__}: {exc}): truncated or damaged", where=str(path),
                      fix=f"copy or download it again; expected arrays {split}_jpeg, {split}_offsets, "
                          f"{split}_labels (README, section Data)") from None
    raw = blob.tobytes()
    out = np.empty((len(labels), 3, 32, 32), dtype=np.uint8)
    try:
        for i in range(len(labels)):
            img = Image.open(io.BytesIO(raw[offsets[i]:offsets[i + 1]])).convert("RGB")
            out[i] = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    except (OSError, ValueError, IndexError) as exc:  # PIL's UnidentifiedImageError is an OSError
        raise BadData(f"cannot decode image {i} of {path} ({type(exc).__name__}): the file is damaged",
                      where=str(path), fix="copy or download it again") from None
    return out, np.asarray(labels)


def fashion_mnist_dir(data_root=None) -> Path | None:
    """The folder holding Fashion-MNIST IDX files, or None."""
    candidates = []
    root = resolve_root(data_root) if data_root is not None else resolve_root(None)
    if root is not None:
        candidates += [root / "fashion-mnist", root / "FashionMNIST" / "raw", root / "fmnist"]
    candidates.append(FASHION_MNIST_SYSTEM)
    for folder in candidates:
        if any((folder / f"train-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
            return folder
    return None


def _fashion_mnist(split: str, data_root):
    folder = fashion_mnist_dir(data_root)
    if folder is None:
        raise DataNotFound("Fashion-MNIST not found", where=f"<data root>/fashion-mnist or {FASHION_MNIST_SYSTEM}",
                           fix="run `apt-get install dataset-fashion-mnist` (Debian/Ubuntu, as root), or put "
                               "the four IDX files (train-images-idx3-ubyte.gz, ...) in <data root>/fashion-mnist")
    prefix = "train" if split == "train" else "t10k"
    img_path = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
    lab_path = _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    x, y = _cached_decode(img_path, f"fmnist-{split}", lambda: (_read_idx(img_path)[:, None], _read_idx(lab_path)))
    return _to_tensors(x, y)


@lru_cache(maxsize=2)
def _fashion_mnist16(split: str, root: str | None):
    """The mini benchmark's images, resized once per process (the resize takes ~0.3 s, which an
    executor's many small jobs would otherwise pay each time)."""
    images, labels = _fashion_mnist(split, root)
    return _downsample(images, MINI_RESOLUTION), labels


def _downsample(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N,1,28,28) -> uint8 (N,1,size,size), antialiased bilinear; chunked to bound memory."""
    import torch.nn.functional as F

    out = [F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
           .round_().clamp_(0, 255).to(torch.uint8) for chunk in images.split(10000)]
    return torch.cat(out)


def _idx_file(folder: Path, stem: str) -> Path:
    for ext in ("", ".gz"):
        if (folder / f"{stem}{ext}").is_file():
            return folder / f"{stem}{ext}"
    raise DataNotFound(f"Fashion-MNIST file {stem}[.gz] is missing", where=str(folder),
                       fix="reinstall dataset-fashion-mnist or copy all four IDX files")


def _read_idx(path: Path) -> np.ndarray:
    """IDX format: magic (2 zero bytes, dtype code, ndim), ndim big-endian sizes, raw data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise BadData(f"{path} is not an unsigned-byte IDX file", where=str(path), fix="re-download or reinstall it")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise BadData(f"{path} is truncated: header says {tuple(dims)}, found {data.size} bytes", where=str(path),
                      fix="re-download or reinstall it")
    return data.reshape(dims).copy()
