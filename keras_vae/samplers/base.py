"""The interface every sampler follows, and its JSON file format.

A sampler answers one question: where do latent vectors come from? `sample(n, seed)` gives
`(n, latent_dim)` float32 vectors for a model's decoder; `save` writes the sampler as a small
JSON file kept beside the model, `load_sampler` reads any sampler back.
"""

import json
import os

import numpy as np

from keras_vae import validation

FORMAT = "keras_vae.sampler"
FORMAT_VERSION = 1

# Sampler classes by name, filled by `register_sampler`, read by `load_sampler`.
_REGISTRY = {}


def register_sampler(cls):
    """Class decorator: makes `cls` loadable by `load_sampler` under its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


class Sampler:
    """Base class: a source of latent vectors for a decoder.

    A subclass sets `latent_dim`, implements `sample(n, seed)` and `get_config()` (plain
    JSON values) and accepts that config back as keyword arguments of its constructor.
    """

    latent_dim: int

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Draws `n` latent vectors: float32 `(n, latent_dim)`; `seed` makes them repeatable."""
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> "Sampler":
        return cls(**config)

    def check_latent_dim(self, latent_dim: int, owner: str) -> None:
        """Raises when this sampler's vectors do not fit a model of `latent_dim`."""
        if int(latent_dim) != self.latent_dim:
            raise ValueError(
                f"{owner} expects a sampler of latent_dim {int(latent_dim)} (the model's);"
                f" got a {type(self).__name__} of latent_dim {self.latent_dim}."
            )

    def save(self, path, overwrite: bool = False) -> str:
        """Writes the sampler to a JSON file; refuses to replace one unless `overwrite=True`."""
        path = os.fspath(path)
        if not path.endswith(".json"):
            raise ValueError(
                f"{type(self).__name__}.save() expects a path ending in .json; got {path!r}."
            )
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(
                f"{type(self).__name__}.save() will not replace {path!r}; pass overwrite=True."
            )
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "config": self.get_config(),
        }
        # Written beside the target and renamed, so a crash never leaves half a file.
        temporary = f"{path}.partial"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(document, file)
        os.replace(temporary, path)
        return path

    def __repr__(self) -> str:
        return f"{type(self).__name__}(latent_dim={self.latent_dim})"


def load_sampler(path, latent_dim: int | None = None) -> Sampler:
    """Reads a sampler written by `Sampler.save`.

    Args:
        path: str or path-like. A `.json` file written by `save`.
        latent_dim: int or None. When given, the sampler must draw vectors of this size
            (the latent size of the model it will feed).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_sampler() found no file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"load_sampler() expects a sampler JSON file; {path!r} is not ({error})."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(
            f"load_sampler() expects a file written by Sampler.save() (format {FORMAT!r});"
            f" {path!r} is not one."
        )
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"load_sampler() reads format version {FORMAT_VERSION}; {path!r} has version"
            f" {document.get('version')!r}."
        )
    name = document.get("class")
    if name not in _REGISTRY:
        raise ValueError(
            f"load_sampler() knows the samplers {sorted(_REGISTRY)}; {path!r} holds {name!r}."
        )
    sampler = _REGISTRY[name].from_config(document["config"])
    if latent_dim is not None:
        sampler.check_latent_dim(latent_dim, "load_sampler()")
    return sampler


def check_n(n, owner: str) -> int:
    return validation.check_positive_int(n, "n", owner)


def check_temperature(temperature, owner: str) -> float:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float | np.floating | np.integer)
        or not np.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            f"{owner} expects `temperature` as a positive number; got {temperature!r}."
        )
    return float(temperature)


def draw_from_components(means, scale_tril, weights, n: int, seed, temperature: float = 1.0):
    """`n` draws from the Gaussian mixture sum_k w_k N(mean_k, L_k L_k^T), the spread scaled by
    `temperature`. Returns float32 `(n, d)` vectors and the int `(n,)` component of each."""
    rng = np.random.default_rng(seed)
    components = rng.choice(len(weights), size=n, p=weights)
    noise = rng.standard_normal((n, means.shape[1]))
    offsets = np.einsum("nij,nj->ni", scale_tril[components].astype("float64"), noise)
    z = means[components].astype("float64") + temperature * offsets
    return z.astype("float32"), components
