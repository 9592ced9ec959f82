"""The VAE's own prior N(0, I), with a temperature."""

import numpy as np

from keras_vae import validation
from keras_vae.samplers.base import (
    Sampler,
    check_n,
    check_temperature,
    draw_from_components,
    register_sampler,
)


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

    # The prior as a one-component mixture, so an exported `generate` treats it like the others.
    @property
    def means(self) -> np.ndarray:
        return np.zeros((1, self.latent_dim), "float32")

    @property
    def scale_tril(self) -> np.ndarray:
        return (self.temperature * np.eye(self.latent_dim, dtype="float32"))[None]

    @property
    def weights(self) -> np.ndarray:
        return np.ones(1, "float32")

    @property
    def component_names(self) -> list:
        return ["prior"]

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        n = check_n(n, "PriorSampler.sample()")
        z, _ = draw_from_components(
            self.means, self.scale_tril, np.ones(1), n, seed, temperature=1.0
        )
        return z

    def get_config(self) -> dict:
        return {"latent_dim": self.latent_dim, "temperature": self.temperature}

    def __repr__(self) -> str:
        return f"PriorSampler(latent_dim={self.latent_dim}, temperature={self.temperature:g})"
