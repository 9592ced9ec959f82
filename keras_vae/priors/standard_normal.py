"""The textbook prior p(z) = N(0, I)."""

import keras
import numpy as np

from keras_vae import losses
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.priors.base import Prior


@keras.saving.register_keras_serializable(package="keras_vae")
class StandardNormalPrior(Prior):
    """p(z) = N(0, I): the prior of the textbook VAE, with nothing to learn.

    The KL term is in closed form and splits over the latent dimensions (so `VAE`'s
    free-bits floor applies per dimension). It is what `VAE(prior=None)` and
    `VAE(prior="standard_normal")` use; a model saved with it writes `"prior": None` in its
    config, as files of earlier versions do.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.

    Example:
    ```python
    prior = keras_vae.priors.StandardNormalPrior(8)
    z = prior.sample(16, seed=0)
    prior.log_prob(z)  # (16,)
    ```
    """

    is_learned = False

    def log_prob(self, z, condition=None):
        """log N(z | 0, I) summed over the latent axis: `(..., latent_dim) -> (...)`."""
        return losses.standard_normal_log_density(z)

    def kl(self, z_mean, z_log_var, z=None, condition=None):
        """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per example, in closed form."""
        return keras.ops.sum(self.kl_per_dimension(z_mean, z_log_var), axis=-1)

    def kl_per_dimension(self, z_mean, z_log_var):
        return losses.kl_divergence_per_dimension(z_mean, z_log_var)

    def as_mixture(self, condition=None):
        """N(0, I) as a one-component mixture named `"prior"`."""
        return GaussianMixture.standard_normal(self.latent_dim)

    def sample(self, n, seed=None, condition=None, temperature=1.0):
        if temperature != 1.0:
            return super().sample(n, seed, condition, temperature)
        return keras.ops.convert_to_numpy(
            keras.random.normal((n, self.latent_dim), dtype="float32", seed=seed)
        ).astype(np.float32)

    def sampler(self, temperature=1.0, condition=None):
        """A `PriorSampler`: N(0, temperature^2 I), saved under its own name."""
        from keras_vae.samplers import PriorSampler

        return PriorSampler(self.latent_dim, temperature=temperature)

    @property
    def description(self) -> str:
        return "N(0, I)"

    def call(self, z):
        return self.log_prob(z)
