"""Draws from the pool of one class of a `LatentPools`."""

import numpy as np

from keras_vae.latent import LatentPools
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.samplers.base import Sampler, register_sampler


@register_sampler
class PoolSampler(Sampler):
    """Draws latent vectors from the pool of class `label` in `pools`.

    Its mixture is the chosen pool alone, `pools.as_mixture().select(label)`.

    Args:
        pools: `keras_vae.LatentPools`. The per-class Gaussians of a trained model.
        label: one of `pools.labels`. The class to draw.

    Example:
    ```python
    pools = LatentPools.fit(vae, x_train, y_train)
    sevens = vae.sample(16, seed=0, sampler=PoolSampler(pools, 7))
    ```
    """

    def __init__(self, pools: LatentPools, label):
        if not isinstance(pools, LatentPools):
            raise TypeError(
                f"PoolSampler expects `pools` as a LatentPools; got {type(pools).__name__}."
            )
        self.index = pools.index_of(label, "PoolSampler")
        self.pools = pools
        self.label = pools.labels[self.index].item()
        self.latent_dim = pools.latent_dim

    def as_mixture(self) -> GaussianMixture:
        return self.pools.as_mixture().component(self.index)

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
        return {"pools": self.pools.to_config(), "label": self.label}

    @classmethod
    def from_config(cls, config: dict) -> "PoolSampler":
        return cls(LatentPools.from_config(config["pools"]), config["label"])

    def __repr__(self) -> str:
        return f"PoolSampler(latent_dim={self.latent_dim}, label={self.label!r})"
