"""The VAE's own prior N(0, I), with a temperature."""

import numpy as np

from keras_vae import validation
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.samplers.base import Sampler, check_temperature, register_sampler


@register_sampler
class PriorSampler(Sampler):
    """Draws from the standard normal prior, its standard deviation scaled by `temperature`.

    A temperature below 1 keeps draws nearer the centre of the prior, where a trained VAE's
    codes are dense: sharper, more typical images, less variety.

    Args:
        latent_dim: int. Size of the latent vector.
        temperature: float > 0. Standard deviation of the draws. Defaults to `1.0`.

    Example:
    ```python
    images = vae.sample(16, seed=0, sampler=PriorSampler(vae.latent_dim, temperature=0.8))
    ```
    """

    def __init__(self, latent_dim: int, temperature: float = 1.0):
        self.latent_dim = validation.check_positive_int(latent_dim, "latent_dim", "PriorSampler")
        self.temperature = check_temperature(temperature, "PriorSampler")

    def as_mixture(self) -> GaussianMixture:
        """N(0, temperature^2 I) as a one-component mixture named `"prior"`."""
        return GaussianMixture.standard_normal(self.latent_dim, self.temperature)

    # Kept for code that read the tables off the sampler before `as_mixture` existed.
    @property
    def means(self) -> np.ndarray:
        return self.as_mixture().means

    @property
    def scale_tril(self) -> np.ndarray:
        return self.as_mixture().scale_tril

    @property
    def weights(self) -> np.ndarray:
        return self.as_mixture().weights

    @property
    def component_names(self) -> list:
        return self.as_mixture().component_names

    def get_config(self) -> dict:
        return {"latent_dim": self.latent_dim, "temperature": self.temperature}

    def __repr__(self) -> str:
        return f"PriorSampler(latent_dim={self.latent_dim}, temperature={self.temperature:g})"
