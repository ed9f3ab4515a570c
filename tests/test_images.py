import gzip
import struct

import numpy as np
import pytest
import torch

from nas_core.data import images
from nas_core.errors import BadData, BadParameter, DataNotFound


def _write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture()
def tiny_fmnist(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    monkeypatch.setattr(images, "FASHION_MNIST_SYSTEM", tmp_path / "absent")
    return tmp_path


def test_idx_reader_and_fmnist_from_data_root(tiny_fmnist):
    s = images.load_images("fmnist", "train", tiny_fmnist)
    assert s.images.shape == (40, 1, 28, 28) and s.images.dtype == torch.uint8
    assert s.labels.tolist() == [i % 10 for i in range(40)]


def test_truncated_idx_is_bad_data(tiny_fmnist):
    path = tiny_fmnist / "fashion-mnist" / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    with gzip.open(path, "wb") as fh:
        fh.write(raw[:-100])
    with pytest.raises(BadData, match="truncated"):
        images.load_images("fmnist", "test", tiny_fmnist)


def test_missing_fmnist_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "FASHION_MNIST_SYSTEM", tmp_path / "absent")
    with pytest.raises(DataNotFound) as err:
        images.load_images("fmnist", "train", tmp_path)
    assert "apt-get install dataset-fashion-mnist" in err.value.message()


def test_missing_cifar_names_the_places(tmp_path):
    with pytest.raises(DataNotFound) as err:
        images.load_images("cifar10", "train", tmp_path)
    assert "cifar10_jpeg_q75.npz" in err.value.message()
    with pytest.raises(BadParameter):
        images.load_images("mnist", "train", tmp_path)


def test_stratified_split_is_seeded_and_stratified():
    labels = np.repeat(np.arange(10), 100)  # class-ordered, like the packed files
    a1, b1 = images.stratified_split(labels, 0.8, seed=3)
    a2, b2 = images.stratified_split(labels, 0.8, seed=3)
    a3, _ = images.stratified_split(labels, 0.8, seed=4)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2) and not np.array_equal(a1, a3)
    assert len(np.intersect1d(a1, b1)) == 0 and len(a1) + len(b1) == 1000
    assert (np.bincount(labels[a1]) == 80).all() and (np.bincount(labels[b1]) == 20).all()
    assert not np.array_equal(np.sort(a1[:80]), np.arange(80))  # shuffled, not "first 80 %"


def test_augment_crops_and_flips_like_a_reference():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    gen = torch.Generator().manual_seed(0)
    out = images.augment(x, gen, pad=2)
    # reference with the same random draws, one sample at a time
    gen = torch.Generator().manual_seed(0)
    dy = torch.randint(0, 5, (2,), generator=gen)
    dx = torch.randint(0, 5, (2,), generator=gen)
    flip = torch.rand(2, generator=gen) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        ref = padded[i, :, dy[i]:dy[i] + 6, dx[i]:dx[i] + 6]
        if flip[i]:
            ref = ref.flip(2)
        assert torch.equal(out[i], ref)


def test_normalise():
    x = torch.full((1, 1, 2, 2), 255, dtype=torch.uint8)
    mean, std = images.NORMALISATION["fmnist"]
    assert torch.allclose(images.normalise(x, "fmnist"), torch.full((1, 1, 2, 2), (1 - mean[0]) / std[0]))


def test_cifar10_npz_real(data_root):
    train, held = images.train_heldout("cifar10", data_root, seed=0, max_heldout=500)
    assert train.images.shape[1:] == (3, 32, 32) and len(held) == 500
    assert (torch.bincount(held.labels) == 50).all()
    assert abs(train.images[:2000].float().mean().item() / 255 - 0.473) < 0.02
