"""Draws from the pool of one class of a `LatentPools`."""

import numpy as np

from keras_vae.latent import LatentPools
from keras_vae.samplers.base import Sampler, check_n, draw_from_components, register_sampler


@register_sampler
class PoolSampler(Sampler):
    """Draws latent vectors from the pool of class `label` in `pools`.

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

    # The chosen pool as a one-component mixture.
    @property
    def means(self) -> np.ndarray:
        return self.pools.means[self.index : self.index + 1]

    @property
    def scale_tril(self) -> np.ndarray:
        return self.pools.scale_tril[self.index : self.index + 1]

    @property
    def weights(self) -> np.ndarray:
        return np.ones(1, "float32")

    @property
    def component_names(self) -> list:
        return [self.pools.component_names[self.index]]

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        n = check_n(n, "PoolSampler.sample()")
        z, _ = draw_from_components(self.means, self.scale_tril, self.weights, n, seed)
        return z

    def get_config(self) -> dict:
        return {"pools": self.pools.to_config(), "label": self.label}

    @classmethod
    def from_config(cls, config: dict) -> "PoolSampler":
        return cls(LatentPools.from_config(config["pools"]), config["label"])

    def __repr__(self) -> str:
        return f"PoolSampler(latent_dim={self.latent_dim}, label={self.label!r})"
