"""The preprocessing every source shares: scale to [0, 1] float32, optional binarization,
cache, shuffle (reshuffled each epoch), batch, prefetch."""

import tensorflow as tf

from keras_vae.validation import check_positive_int

SPLITS = ("train", "test")
# Batches prepared ahead of the training step (tf.data's autotuning is off, see below).
PREFETCH_BATCHES = 2
BINARIZE = (None, "static", "dynamic")


class DatasetUnavailableError(RuntimeError):
    """The data could not be loaded from any source that was asked for; the message says
    what failed and how to proceed (a `data_dir` with the IDX files, or the offline sample).

    `reason` holds what failed without the advice, for one-line reports such as the
    fallback line of `resolve_data_source`.

    Args:
        reason: str. What failed.
        how_to_proceed: str. What the user can do instead. Defaults to `""`.
    """

    def __init__(self, reason: str, how_to_proceed: str = ""):
        super().__init__(f"{reason} {how_to_proceed}".strip())
        self.reason = reason


def scale_images(images: tf.Tensor) -> tf.Tensor:
    """Pixels in [0, 255] (uint8 or float) -> float32 in [0, 1].

    Args:
        images: array or tensor. Pixels in [0, 255], uint8 or float.
    """
    return tf.cast(images, tf.float32) / 255.0


def binarize_static(images: tf.Tensor, index: tf.Tensor, seed: int) -> tf.Tensor:
    """One fixed Bernoulli draw per image, keyed on (seed, index): the same on every epoch,
    on every run and whatever the shuffling.

    Args:
        images: float tensor in [0, 1]. One image or a batch.
        index: int tensor. The image's index in its split (the key of its draw).
        seed: int. The seed of the draws.
    """
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

    Args:
        images: float tensor in [0, 1]. A batch of images.
        generator: tf.random.Generator. The source of the draws.
    """
    return tf.cast(generator.uniform(tf.shape(images)) < images, tf.float32)


def check_pipeline_args(split, binarize, batch_size, caller: str) -> None:
    """Raises a `ValueError` (or `TypeError`) naming a bad `split`, `binarize` or
    `batch_size`."""
    if split not in SPLITS:
        raise ValueError(f"{caller} expects `split` in {SPLITS}; got {split!r}.")
    if binarize not in BINARIZE:
        raise ValueError(f"{caller} expects `binarize` in {BINARIZE}; got {binarize!r}.")
    check_positive_int(batch_size, "batch_size", caller)


def batched_pipeline(pairs, *, binarize, batch_size, shuffle, with_labels, seed):
    """Unbatched (image, label) pairs with pixels in [0, 255] -> the batched float pipeline
    every source returns."""
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
    # tf.data's autotuning keeps a background thread per iterator, joined when the iterator
    # is destroyed; `fit` destroys the previous epoch's iterator as the next epoch starts,
    # which stalled that epoch's first step on a busy CPU (see "Where an epoch goes" in
    # docs/guides/performance.md). No step here runs in parallel, so a fixed prefetch loses
    # nothing.
    options = tf.data.Options()
    options.autotune.enabled = False
    return pairs.prefetch(PREFETCH_BATCHES).with_options(options)
