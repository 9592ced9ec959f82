"""Which latent dimensions a trained VAE uses: activity and KL divergence per dimension."""

import keras
import numpy as np

from keras_vae import losses
from keras_vae.evaluation.likelihood import check_model, stream_batches

# A dimension is active when its posterior mean varies over the data by more than this
# (Burda et al., 2016); a dimension the decoder ignores collapses to the prior, near 0.
ACTIVE_UNIT_THRESHOLD = 0.01


def latent_statistics(model, data, labels=None, batch_size: int = 256) -> dict:
    """Per-dimension statistics of the posterior means over `data`, in one pass.

    Args:
        model: BaseAutoEncoder. A trained model.
        data: array or tf.data.Dataset. The images.
        labels: array or None. Labels, for a `ConditionalVAE`. Defaults to `None`.
        batch_size: int. Images encoded at once. Defaults to `256`.

    Returns:
        Dict of float64 arrays `(latent_dim,)`: `"activity"`, the variance over the data of
        E_q[z_d] (a dimension the decoder ignores collapses to the prior and has activity
        ~0), and `"kl_per_dimension"`, the mean KL divergence to the prior of each dimension.
    """
    check_model(model, "latent_statistics")
    count, total, total_sq, kl_total = 0, 0.0, 0.0, 0.0
    for x, y in stream_batches(model, data, labels, batch_size, "latent_statistics"):
        z_mean, z_log_var = model.encode_tensors(x, y)
        mean = z_mean.numpy().astype("float64")
        count += len(mean)
        total = total + mean.sum(axis=0)
        total_sq = total_sq + np.square(mean).sum(axis=0)
        kl = losses.kl_divergence_per_dimension(z_mean, z_log_var)
        kl_total = kl_total + keras.ops.convert_to_numpy(kl).astype("float64").sum(axis=0)
    average = total / count
    # Clipped at zero: E[m^2] - E[m]^2 can round to a tiny negative for a collapsed unit.
    activity = np.maximum(total_sq / count - np.square(average), 0.0)
    return {"activity": activity, "kl_per_dimension": kl_total / count}


def count_active(activity, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """How many entries of `activity` (per-dimension `Var_x(E_q[z_d | x])`) exceed
    `threshold`: the one definition of an active unit that the callbacks and the command
    line use too.

    Args:
        activity: array `(latent_dim,)`. Per-dimension activity.
        threshold: float. Activity above which a dimension counts. Defaults to `0.01`.
    """
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold < 0:
        raise ValueError(f"active_units() expects `threshold` as a float >= 0; got {threshold!r}.")
    return int(np.sum(np.asarray(activity) > threshold))


def active_units(
    model, data, labels=None, threshold: float = ACTIVE_UNIT_THRESHOLD, batch_size: int = 256
) -> int:
    """The number of latent dimensions whose activity `Var_x(E_q[z_d | x])` exceeds
    `threshold` (`ACTIVE_UNIT_THRESHOLD`, Burda et al., 2016). See `latent_statistics`.

    Args:
        model: BaseAutoEncoder. A trained VAE.
        data: array or tf.data.Dataset. The images.
        labels: array or None. Labels, for a `ConditionalVAE`. Defaults to `None`.
        threshold: float. Activity above which a dimension counts as active. Defaults to `0.01`.
        batch_size: int. Images encoded at once. Defaults to `256`.
    """
    count_active([], threshold)
    activity = latent_statistics(model, data, labels, batch_size)["activity"]
    return count_active(activity, threshold)


def kl_per_dimension(model, data, labels=None, batch_size: int = 256) -> np.ndarray:
    """Mean KL divergence to the prior of each latent dimension over `data`: `(latent_dim,)`.

    Sums to the mean `kl_loss`; dimensions near 0 carry no information about x.

    Args:
        model: VAE. A trained VAE.
        data: array or tf.data.Dataset. The images.
        labels: array or None. Labels, for a `ConditionalVAE`. Defaults to `None`.
        batch_size: int. Images encoded at once. Defaults to `256`.
    """
    return latent_statistics(model, data, labels, batch_size)["kl_per_dimension"]
