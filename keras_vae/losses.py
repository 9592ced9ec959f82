"""Loss terms of the evidence lower bound, as pure `keras.ops` functions.

Every function returns one value per example: a sum over pixels or latent dimensions. Callers
take the mean over the batch, so a reported loss is a negative ELBO in nats per example.
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _flatten_per_example(x):
    """Reshapes `(batch, ...)` to `(batch, features)` so sums run over everything but the batch."""
    return ops.reshape(x, (ops.shape(x)[0], -1))


def kl_divergence(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per example, in nats.

    Args:
        z_mean: tensor of shape `(batch, latent_dim)`. Mean of the approximate posterior.
        z_log_var: tensor of shape `(batch, latent_dim)`. Log-variance of the posterior.

    Returns:
        Tensor of shape `(batch,)`.
    """
    return ops.sum(kl_divergence_per_dimension(z_mean, z_log_var), axis=-1)


def kl_divergence_per_dimension(z_mean, z_log_var):
    """KL to the standard normal prior, kept per latent dimension: `(batch, latent_dim)`."""
    return 0.5 * (ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var)


def gaussian_kl_divergence(mean_q, log_var_q, mean_p, log_var_p):
    """KL(N(mean_q, exp(log_var_q)) || N(mean_p, exp(log_var_p))) of diagonal Gaussians,
    summed over the last axis: `(..., d) -> (...)`, in nats."""
    return 0.5 * ops.sum(
        log_var_p
        - log_var_q
        + (ops.exp(log_var_q) + ops.square(mean_q - mean_p)) * ops.exp(-log_var_p)
        - 1.0,
        axis=-1,
    )


def bernoulli_log_likelihood(x, logits):
    """log p(x | logits) under independent Bernoulli pixels, summed per example.

    Computed from logits as `x * logits - softplus(logits)`, which is exact and stable for
    any logit magnitude. `x` may be binary or a probability in [0, 1] (continuous MNIST).

    Args:
        x: tensor of shape `(batch, ...)` with values in [0, 1].
        logits: tensor of the same shape as `x`.

    Returns:
        Tensor of shape `(batch,)`.
    """
    x = ops.cast(x, logits.dtype)
    per_pixel = x * logits - ops.softplus(logits)
    return ops.sum(_flatten_per_example(per_pixel), axis=-1)


def gaussian_log_likelihood(x, mean, log_var):
    """log N(x | mean, exp(log_var)) with a diagonal covariance, summed per example.

    Args:
        x: tensor of shape `(batch, ...)`.
        mean: tensor of the same shape as `x`.
        log_var: tensor broadcastable to `x` (a scalar for a shared, fixed or learned variance).

    Returns:
        Tensor of shape `(batch,)`.
    """
    x = ops.cast(x, mean.dtype)
    log_var = ops.cast(log_var, mean.dtype)
    per_pixel = -0.5 * (LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var))
    # Broadcast to the shape of `x`: with a mean and a variance shared across pixels, the sum
    # must still count every pixel.
    per_pixel = per_pixel + ops.zeros_like(x)
    return ops.sum(_flatten_per_example(per_pixel), axis=-1)


def log_normal_density(z, mean, log_var):
    """log N(z | mean, exp(log_var)) summed over the last axis: `(..., d) -> (...)`."""
    return ops.sum(-0.5 * (LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var)), axis=-1)


def standard_normal_log_density(z):
    """log N(z | 0, I) summed over the last axis: `(..., d) -> (...)`."""
    return ops.sum(-0.5 * (LOG_2PI + ops.square(z)), axis=-1)


def diagonal_gaussian_entropy(z_log_var):
    """H(N(mean, diag(exp(z_log_var)))) per example, in nats: `(batch, d) -> (batch,)`."""
    return ops.sum(0.5 * (1.0 + LOG_2PI + z_log_var), axis=-1)
