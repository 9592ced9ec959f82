"""The ELBO and the importance-weighted log-likelihood of a trained VAE, streamed in batches.

Both work on arrays and `tf.data` datasets of any size. A dataset may yield images or
`(images, labels)` pairs; for a conditional model the labels are required (pass `labels=`
with an array, or a dataset of pairs), since its likelihood is p(x | y).
"""

import math
import weakref

import keras
import numpy as np
import tensorflow as tf

from keras_vae import losses, validation

# Decoded images held at once by `elbo` and `log_likelihood` (batch x samples per chunk):
# bounds memory whatever `num_samples` is, so peak memory does not grow with K.
MAX_DECODED_PER_CHUNK = 2048


# Data plumbing ------------------------------------------------------------------------------


def check_model(model, function: str):
    if not getattr(model, "probabilistic", False) or not hasattr(model, "encoder"):
        raise TypeError(
            f"{function}() expects a VAE (a model whose encoder gives (z_mean, z_log_var));"
            f" got {type(model).__name__}."
        )


def stream_batches(model, data, labels, batch_size: int, function: str):
    """Yields `(images, one_hot_or_None)` batches as float32 tensors, checked once each."""
    batch_size = validation.check_positive_int(batch_size, "batch_size", f"{function}()")
    conditional = model.is_conditional
    if isinstance(data, tf.data.Dataset):
        if labels is not None:
            raise ValueError(
                f"{function}() takes labels from the dataset; got a dataset and `labels` too."
            )
        for element in data:
            x, y, _ = keras.utils.unpack_x_y_sample_weight(element)
            x = tf.convert_to_tensor(x)
            model.check_symbolic_images(x, function)
            x = tf.cast(x, "float32")
            if conditional:
                if y is None:
                    raise ValueError(
                        f"{function}() on a {type(model).__name__} needs labels: the dataset"
                        " must yield (images, labels) pairs."
                    )
                condition = model.condition_from_labels(y, method=function)
                yield x, tf.convert_to_tensor(condition)
            else:
                yield x, None
        return
    x = model.check_images(data, "data", function)
    if conditional and labels is None:
        raise ValueError(
            f"{function}() on a {type(model).__name__} needs `labels` (one per image)."
        )
    # None for an unconditional model; raises naming `function` when labels come with one.
    one_hot = model.condition_from_labels(labels, n=len(x), method=function)
    for start in range(0, len(x), batch_size):
        stop = start + batch_size
        yield (
            tf.constant(x[start:stop]),
            None if one_hot is None else tf.constant(one_hot[start:stop]),
        )


def _count(data) -> int | None:
    """The number of examples for the progress bar, when it is known before streaming.

    Anything without a length (a dataset, or a wrong argument that `stream_batches` rejects with
    a clear message) gets an open-ended bar.
    """
    if isinstance(data, tf.data.Dataset) or not hasattr(data, "__len__"):
        return None
    return len(data)


def _seed_pair(seed):
    """A stateless-RNG seed: the same `seed` gives the same estimate on every run."""
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31 - 1))
    return int(seed)


def _chunks(num_samples, batch_size, samples_per_chunk, function):
    """Splits `num_samples` draws into chunks that keep the decoded batch bounded."""
    if samples_per_chunk is None:
        samples_per_chunk = max(1, min(num_samples, MAX_DECODED_PER_CHUNK // batch_size))
    samples_per_chunk = validation.check_positive_int(
        samples_per_chunk, "samples_per_chunk", f"{function}()"
    )
    return [
        min(samples_per_chunk, num_samples - start)
        for start in range(0, num_samples, samples_per_chunk)
    ]


def _tile_batch(t, k):
    """`(B, ...)` -> `(k * B, ...)`, sample-major, matching a reshape of `(k, B, ...)`."""
    return tf.tile(t, tf.concat([[k], tf.ones([tf.rank(t) - 1], tf.int32)], axis=0))


def prior_log_density(model, z, condition=None):
    """log p(z) (log p(z | y) for a conditional model given one-hot `condition`) under the
    model's prior: N(0, I) unless the model learned one."""
    if hasattr(model, "prior_log_density"):
        return model.prior_log_density(z, condition)
    return losses.standard_normal_log_density(z)


def has_learned_prior(model) -> bool:
    return getattr(getattr(model, "prior", None), "is_learned", False)


# The graph functions of each model, kept while the model lives (the functions hold only a
# weak reference to it), so repeated `elbo`/`log_likelihood` calls reuse their traces.
_TRACED = weakref.WeakKeyDictionary()


def _traced(model):
    """Graph functions for evaluation passes: the encoder, and k posterior draws per
    example with `log p(x | z)` and the importance log-weight
    `log p(x | z) + log p(z) - log q(z | x)`, each `(k, batch)`.

    Autograph is off: there is no tensor-dependent control flow to convert, and converting
    the model's Python methods is slow and fragile. `k` is a Python int, so a pass traces at
    most twice (full chunks and the last, shorter one); the functions are made once per model.
    """
    if model in _TRACED:
        return _TRACED[model]
    model_ref = weakref.ref(model)

    @tf.function(autograph=False, reduce_retracing=True)
    def encode(x, y):
        return model_ref().encode_tensors(x, y)

    @tf.function(autograph=False, reduce_retracing=True)
    def sampled_terms(x, y, z_mean, z_log_var, seed_pair, k):
        model = model_ref()
        batch = tf.shape(x)[0]
        eps = tf.random.stateless_normal(tf.concat([[k], tf.shape(z_mean)], axis=0), seed=seed_pair)
        z = z_mean[None] + tf.exp(0.5 * z_log_var)[None] * eps
        z_flat = tf.reshape(z, (k * batch, -1))
        y_rep = None if y is None else _tile_batch(y, k)
        log_px_z = model.reconstruction_log_likelihood(
            _tile_batch(x, k), model.decode_tensors(z_flat, y_rep)
        )
        log_px_z = tf.reshape(log_px_z, (k, batch))
        log_weights = (
            log_px_z
            + prior_log_density(model, z, y)
            - losses.log_normal_density(z, z_mean[None], z_log_var[None])
        )
        return log_px_z, log_weights

    _TRACED[model] = encode, sampled_terms
    return encode, sampled_terms


def _sampled_batches(
    model, data, labels, batch_size, num_samples, samples_per_chunk, seed, verbose, function
):
    """The pass shared by `elbo` and `log_likelihood`: streams `data` and yields, per batch,
    `(z_mean, z_log_var, terms)` where `terms` lists `(log_px_z, log_weights)` of each chunk
    of draws (see `_traced`), `num_samples` draws in all; advances the progress bar."""
    batch_size = validation.check_positive_int(batch_size, "batch_size", f"{function}()")
    chunks = _chunks(num_samples, batch_size, samples_per_chunk, function)
    seed = _seed_pair(seed)
    encode, sampled_terms = _traced(model)
    progbar = keras.utils.Progbar(_count(data), verbose=verbose, unit_name="example")
    for index, (x, y) in enumerate(stream_batches(model, data, labels, batch_size, function)):
        z_mean, z_log_var = encode(x, y)
        terms = [
            sampled_terms(
                x, y, z_mean, z_log_var, tf.constant([seed, index * len(chunks) + i], tf.int64), k
            )
            for i, k in enumerate(chunks)
        ]
        yield z_mean, z_log_var, terms
        progbar.add(int(x.shape[0]))


# ELBO ---------------------------------------------------------------------------------------


def elbo(
    model,
    data,
    labels=None,
    batch_size: int = 256,
    num_samples: int = 1,
    seed: int | None = None,
    verbose: int = 0,
) -> dict:
    """Per-example negative ELBO, with its reconstruction and KL terms, in nats.

    The KL divergence to the standard normal prior is exact (closed form for Gaussians); to a
    learned prior (`MixturePrior`) it is a Monte Carlo average over the same draws as the
    reconstruction term `-E_q[log p(x | z)]`, `num_samples` draws of z. The
    negative ELBO here is always `reconstruction + KL` (beta = 1), an upper bound on
    `-log p(x)` whatever `beta` the model was trained with.

    Args:
        model: a trained `VAE` (or `ConditionalVAE`, with `labels`).
        data: float array `(n, *input_shape)` or a `tf.data` dataset of images or pairs.
        labels: int array `(n,)` or one-hot `(n, num_classes)`, for a conditional model.
        batch_size: int. Examples per batch for arrays. Defaults to `256`.
        num_samples: int. Draws of z per example for the reconstruction term. Defaults to `1`.
        seed: int or None. Makes the draws repeatable. Defaults to `None`.
        verbose: int. `1` shows a progress bar. Defaults to `0`.

    Returns:
        Dict of float64 arrays `(n,)`: `"loss"` (negative ELBO), `"reconstruction_loss"`,
        `"kl_loss"`.
    """
    check_model(model, "elbo")
    num_samples = validation.check_positive_int(num_samples, "num_samples", "elbo()")
    reconstructions, kls = [], []
    batches = _sampled_batches(
        model, data, labels, batch_size, num_samples, None, seed, verbose, function="elbo"
    )
    learned_prior = has_learned_prior(model)
    for z_mean, z_log_var, terms in batches:
        total = sum(log_px_z.numpy().astype("float64").sum(axis=0) for log_px_z, _ in terms)
        reconstructions.append(-total / num_samples)
        if learned_prior:
            # log p(x | z) - log w = log q(z | x) - log p(z), averaged over the draws.
            kl_sum = sum(
                (log_px_z - log_weights).numpy().astype("float64").sum(axis=0)
                for log_px_z, log_weights in terms
            )
            kls.append(kl_sum / num_samples)
        else:
            kls.append(keras.ops.convert_to_numpy(losses.kl_divergence(z_mean, z_log_var)))
    reconstruction = np.concatenate(reconstructions).astype("float64")
    kl = np.concatenate(kls).astype("float64")
    return {"loss": reconstruction + kl, "reconstruction_loss": reconstruction, "kl_loss": kl}


# Importance-weighted log-likelihood ----------------------------------------------------------


def log_likelihood(
    model,
    data,
    labels=None,
    num_samples: int = 1000,
    batch_size: int = 100,
    samples_per_chunk: int | None = None,
    seed: int | None = None,
    verbose: int = 1,
) -> np.ndarray:
    """Importance-weighted estimate of log p(x) per example, in nats (the IWAE bound).

    With the encoder's q(z | x) as proposal and K = `num_samples` draws z_k,
    `log p(x) >= log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x)`; the bound tightens as K
    grows (K = 1 is the ELBO) and reaches log p(x) in the limit (Burda et al., 2016). The
    sum is a log-sum-exp, evaluated in chunks of `samples_per_chunk` draws combined with a
    running log-sum-exp, so memory stays bounded for any K.

    Args:
        model: a trained `VAE` (or `ConditionalVAE`, with `labels`: then log p(x | y)).
        data: float array `(n, *input_shape)` or a `tf.data` dataset of images or pairs.
        labels: int array `(n,)` or one-hot labels, for a conditional model.
        num_samples: int. K, importance samples per example. Defaults to `1000`.
        batch_size: int. Examples per batch for arrays. Defaults to `100`.
        samples_per_chunk: int or None. Draws decoded at once per example; by default as
            many as keep `batch x chunk` within `MAX_DECODED_PER_CHUNK` images.
        seed: int or None. Makes the estimate repeatable. Defaults to `None`.
        verbose: int. `1` shows a progress bar (`0` for none). Defaults to `1`.

    Returns:
        float64 array `(n,)`: the estimate of log p(x) for each example.
    """
    check_model(model, "log_likelihood")
    num_samples = validation.check_positive_int(num_samples, "num_samples", "log_likelihood()")
    estimates = []
    batches = _sampled_batches(
        model,
        data,
        labels,
        batch_size,
        num_samples,
        samples_per_chunk,
        seed,
        verbose,
        function="log_likelihood",
    )
    for z_mean, _, terms in batches:
        # A running log-sum-exp over the chunks.
        total = np.full(int(z_mean.shape[0]), -np.inf)
        for _, log_weights in terms:
            part = tf.reduce_logsumexp(log_weights, axis=0).numpy().astype("float64")
            total = np.logaddexp(total, part)
        estimates.append(total - math.log(num_samples))
    return np.concatenate(estimates)
