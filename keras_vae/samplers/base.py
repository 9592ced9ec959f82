"""The interface every sampler follows, and its JSON file format.

A sampler answers one question: where do latent vectors come from? `sample(n, seed)` gives
`(n, latent_dim)` float32 vectors for a model's decoder; `as_mixture()` gives the same
distribution as a `keras_vae.latent.GaussianMixture`, the one type the exporters, the web
page and the firmware read; `save` writes the sampler as a small JSON file kept beside the
model, `load_sampler` reads any sampler back.
"""

import numpy as np

from keras_vae import validation
from keras_vae.latent.mixture import (
    FORMAT,
    FORMAT_VERSION,
    GaussianMixture,
    check_temperature,
    draw_from_components,
    read_document,
    write_document,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Sampler",
    "check_n",
    "check_temperature",
    "draw_from_components",
    "load_sampler",
    "register_sampler",
]

# Sampler classes by name, filled by `register_sampler`, read by `load_sampler`. A bare
# `GaussianMixture` file is a sampler too.
_REGISTRY = {"GaussianMixture": GaussianMixture}


def register_sampler(cls):
    """Class decorator: makes `cls` loadable by `load_sampler` under its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


class Sampler:
    """Base class: a source of latent vectors for a decoder.

    A subclass sets `latent_dim`, implements `as_mixture()` (the distribution it draws
    from, a `GaussianMixture`), `sample(n, seed)` and `get_config()` (plain JSON values), and
    accepts that config back as keyword arguments of its constructor.
    """

    latent_dim: int

    def as_mixture(self) -> GaussianMixture:
        """The sampler's distribution as a `GaussianMixture`."""
        raise NotImplementedError

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Draws `n` latent vectors: float32 `(n, latent_dim)`; `seed` makes them repeatable."""
        return self.as_mixture().sample(n, seed)

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> "Sampler":
        return cls(**config)

    def check_latent_dim(self, latent_dim: int, owner: str, argument: str = "sampler") -> None:
        """Raises when this sampler's vectors do not fit a model of `latent_dim`."""
        if int(latent_dim) != self.latent_dim:
            raise ValueError(
                f"{owner} expects `{argument}` of latent_dim {int(latent_dim)} (the model's);"
                f" got a {type(self).__name__} of latent_dim {self.latent_dim}."
            )

    def save(self, path, overwrite: bool = False) -> str:
        """Writes the sampler to a JSON file; refuses to replace one unless `overwrite=True`."""
        return write_document(path, type(self).__name__, self.get_config(), overwrite)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(latent_dim={self.latent_dim})"


def sampler_from_document(name, config, path, owner: str):
    """The sampler of class `name` built from `config` (read from `path`)."""
    if name not in _REGISTRY:
        raise ValueError(
            f"{owner} knows the samplers {sorted(_REGISTRY)}; {path!r} holds {name!r}."
        )
    return _REGISTRY[name].from_config(config)


def load_sampler(path, latent_dim: int | None = None):
    """Reads a sampler written by `Sampler.save` (or a `GaussianMixture.save` file).

    Args:
        path: str or path-like. A `.json` file written by `save`.
        latent_dim: int or None. When given, the sampler must draw vectors of this size
            (the latent size of the model it will feed).
    """
    name, config, path = read_document(path, "load_sampler()")
    sampler = sampler_from_document(name, config, path, "load_sampler()")
    if latent_dim is not None:
        sampler.check_latent_dim(latent_dim, "load_sampler()")
    return sampler


def check_n(n, owner: str) -> int:
    return validation.check_positive_int(n, "n", owner)
