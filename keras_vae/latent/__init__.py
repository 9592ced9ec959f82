"""Tools for exploring a latent space: class pools, interpolation, traversals and grids.

A trained VAE places each class in a region of latent space. `LatentPools` describes the
region of each class as a Gaussian fitted to the encoded means of its examples, so you can
go to the pool of 7s, pick vectors there and decode them. `interpolate`, `traverse` and
`latent_grid` build the latent vectors of the usual figures; decode them with
`model.decode(z)`.

Example:
```python
pools = LatentPools.fit(vae, x_train, y_train)
sevens = pools.generate(7, n=16, seed=0)          # images, (16, 28, 28, 1)
pools.save("run/pools.npz")                       # next to run/model.keras
path = interpolate(pools.means[3], pools.means[8], steps=9, method="slerp")
images = vae.decode(path)
```
"""

import os

import numpy as np
import tensorflow as tf

from keras_vae import validation
from keras_vae.latent.mixture import GaussianMixture, as_mixture

__all__ = [
    "GaussianMixture",
    "LatentPools",
    "as_mixture",
    "encode_means",
    "interpolate",
    "latent_grid",
    "traverse",
]

INTERPOLATION_METHODS = ("linear", "slerp")

# Added to the diagonal before the Cholesky factorization: a class whose encoded means lie
# on a lower-dimensional set has a singular covariance, and sampling must still work.
COVARIANCE_JITTER = 1e-6


def _check_latent_vector(z, name: str, method: str) -> np.ndarray:
    array = np.asarray(z, dtype="float64") if _is_numeric(z) else None
    if array is None or array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{method}() expects `{name}` as a 1-D latent vector (latent_dim,); got {_describe(z)}."
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{method}() expects finite values in `{name}`; got {array}.")
    return array


def encode_means(model, x, labels=None, batch_size: int = 256, method: str = "encode_means"):
    """The codes of images `x`: posterior means for a VAE, `z` for an autoencoder, as a float64
    array `(n, latent_dim)`. A conditional model takes `labels` (one per image)."""
    batch_size = validation.check_positive_int(batch_size, "batch_size", f"{method}()")
    x = model.check_images(x, "x", method)
    condition = model.condition_from_labels(labels, n=len(x), method=method)
    codes = []
    for start in range(0, len(x), batch_size):
        part = None if condition is None else tf.constant(condition[start : start + batch_size])
        encoded = model.encode_tensors(tf.constant(x[start : start + batch_size]), part)
        mean = encoded[0] if isinstance(encoded, tuple | list) else encoded
        codes.append(np.asarray(mean, dtype="float64"))
    return np.concatenate(codes)


def _check_labels(y, count: int, owner: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{owner} expects `y` as 1-D labels (n,); got shape {y.shape}.")
    if len(y) != count:
        raise ValueError(
            f"{owner} expects one label per example; got {count} examples and {len(y)} labels."
        )
    return y


def _is_numeric(value) -> bool:
    try:
        array = np.asarray(value)
    except Exception:
        return False
    return array.dtype != bool and np.issubdtype(array.dtype, np.number)


def _describe(value) -> str:
    try:
        array = np.asarray(value)
        return f"shape {array.shape} and dtype {array.dtype}"
    except Exception:
        return type(value).__name__


class LatentPools:
    """The pool of each class in a model's latent space, as a Gaussian N(mean_k, cov_k).

    `fit` encodes labelled examples with the model's encoder and keeps, for each class, the
    mean and covariance of the posterior means. `sample` draws latent vectors from a pool,
    `generate` decodes them to images, `log_density` and `classify` say which pool a vector
    is in. Pools are plain arrays: `save` writes them to a `.npz` file kept next to the
    model, `load` reads them back.

    The pools are a mixture: `as_mixture()` gives them as a `GaussianMixture` (the class
    shares as weights, the labels as text for component names), and `means`, `scale_tril`,
    `weights` and `component_names` read its tables. `as_mixture().select(7)` is the pool
    of 7s alone; `keras_vae.samplers.PoolSampler` draws from one pool.

    Args:
        labels: array `(k,)`. The class of each pool.
        means: array `(k, latent_dim)`.
        covariances: array `(k, latent_dim, latent_dim)`.
        counts: array `(k,)`. Examples behind each pool.
        model: the model whose latent space the pools live in (for `generate`/`decode`),
            or None.
    """

    def __init__(self, labels, means, covariances, counts, model=None):
        self.labels = np.asarray(labels)
        self._means = np.asarray(means, dtype="float64")
        self.covariances = np.asarray(covariances, dtype="float64")
        self.counts = np.asarray(counts, dtype="int64")
        k = len(self.labels)
        if (
            self.labels.ndim != 1
            or self._means.ndim != 2
            or len(self._means) != k
            or self.covariances.shape != (k, self._means.shape[1], self._means.shape[1])
            or self.counts.shape != (k,)
        ):
            raise ValueError(
                "LatentPools expects labels (k,), means (k, d), covariances (k, d, d) and"
                f" counts (k,); got {self.labels.shape}, {self._means.shape},"
                f" {self.covariances.shape} and {self.counts.shape}."
            )
        self.model = model
        eye = np.eye(self.latent_dim)
        self._cholesky = np.linalg.cholesky(self.covariances + COVARIANCE_JITTER * eye)

    @property
    def latent_dim(self) -> int:
        return int(self._means.shape[1])

    def as_mixture(self) -> GaussianMixture:
        """The pools as one `GaussianMixture`: a component per class, weighted by its share."""
        return GaussianMixture(
            self._means, self._cholesky, self.counts / self.counts.sum(), self.component_names
        )

    @property
    def means(self) -> np.ndarray:
        """The pool means, float32 `(k, latent_dim)`."""
        return self._means.astype("float32")

    @property
    def scale_tril(self) -> np.ndarray:
        """Lower-triangular `L_k`, `L_k L_k^T` the (jittered) covariance: float32 `(k, d, d)`."""
        return self._cholesky.astype("float32")

    @property
    def weights(self) -> np.ndarray:
        """Each pool's share of the examples, float32 `(k,)`."""
        return (self.counts / self.counts.sum()).astype("float32")

    @property
    def component_names(self) -> list:
        return [str(label) for label in self.labels.tolist()]

    def to_config(self) -> dict:
        """The pools as plain JSON values (`from_config` reads them back)."""
        return {
            "labels": self.labels.tolist(),
            "means": self._means.tolist(),
            "covariances": self.covariances.tolist(),
            "counts": self.counts.tolist(),
        }

    @classmethod
    def from_config(cls, config: dict, model=None) -> "LatentPools":
        return cls(model=model, **config)

    @classmethod
    def fit(cls, model, x, y, batch_size: int = 256) -> "LatentPools":
        """Fits one Gaussian per class to the encoded means of `x`.

        Args:
            model: a trained `VAE` (its `encode` gives `(z_mean, z_log_var)`) or
                `AutoEncoder` (its `encode` gives `z`).
            x: images `(n, *input_shape)`.
            y: labels `(n,)`, any hashable values (ints for digits).
            batch_size: int. Defaults to `256`.

        Returns:
            A `LatentPools` bound to `model`.
        """
        y = _check_labels(y, len(x), "LatentPools.fit()")
        condition = y if model.is_conditional else None
        z = encode_means(model, x, condition, batch_size, "LatentPools.fit")
        return cls.fit_codes(z, y, model=model)

    @classmethod
    def fit_codes(cls, z, y, model=None) -> "LatentPools":
        """Fits one Gaussian per class to latent vectors `z` `(n, latent_dim)` with labels `y`."""
        z = np.asarray(validation.as_float_array(z, "z", np.shape(z)[1:], "LatentPools.fit()"))
        z = z.astype("float64")
        y = _check_labels(y, len(z), "LatentPools.fit()")
        labels = np.unique(y)
        means, covariances, counts = [], [], []
        for label in labels:
            members = z[y == label]
            if len(members) < 2:
                raise ValueError(
                    f"LatentPools.fit() needs at least 2 examples per class; class {label!r}"
                    f" has {len(members)}."
                )
            means.append(members.mean(axis=0))
            covariances.append(np.atleast_2d(np.cov(members, rowvar=False)))
            counts.append(len(members))
        return cls(labels, np.stack(means), np.stack(covariances), counts, model=model)

    def index_of(self, label, owner: str) -> int:
        """The position of the pool of `label`; raises naming `owner` for an unknown label."""
        matches = np.flatnonzero(self.labels == label) if np.ndim(label) == 0 else []
        if len(matches) == 0:
            raise ValueError(f"{owner} expects `label` in {self.labels.tolist()}; got {label!r}.")
        return int(matches[0])

    def _model(self, method: str):
        if self.model is None:
            raise ValueError(
                f"LatentPools.{method}() needs the model to decode with: pass `model=` to"
                " LatentPools.load() or set `pools.model`."
            )
        return self.model

    def sample(self, label, n: int, seed: int | None = None) -> np.ndarray:
        """Draws `n` latent vectors `(n, latent_dim)` float32 from the pool of `label`."""
        n = validation.check_positive_int(n, "n", "LatentPools.sample()")
        index = self.index_of(label, "LatentPools.sample()")
        # Its own draw (no component choice), kept so a seed gives the vectors it always gave;
        # `as_mixture().select(label).sample(n, seed)` draws from the same Gaussian.
        eps = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        z = self._means[index] + eps @ self._cholesky[index].T
        return z.astype("float32")

    def decode(self, z, label=None) -> np.ndarray:
        """Decodes latent vectors with the bound model (a conditional model needs `label`)."""
        model = self._model("decode")
        if model.is_conditional:
            if label is None:
                raise ValueError(
                    f"LatentPools.decode() with a {type(model).__name__} needs `label`."
                )
            return model.decode(z, np.full(len(z), label))
        return model.decode(z)

    def generate(self, label, n: int, seed: int | None = None) -> np.ndarray:
        """Draws `n` vectors from the pool of `label` and decodes them to images."""
        self._model("generate")
        return self.decode(self.sample(label, n, seed), label)

    def log_density(self, z) -> np.ndarray:
        """log N(z | mean_k, cov_k) of each vector under each pool: `(n, k)`."""
        return self.as_mixture().component_log_prob(z)

    def classify(self, z) -> np.ndarray:
        """The label of the pool with the highest density at each vector: `(n,)`."""
        return self.labels[np.argmax(self.log_density(z), axis=1)]

    def save(self, path, overwrite: bool = False) -> None:
        """Writes the pools to a `.npz` file; refuses to replace an existing file unless
        `overwrite=True`."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            raise ValueError(f"LatentPools.save() expects a path ending in .npz; got {path!r}.")
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(
                f"LatentPools.save() will not replace {path!r}; pass overwrite=True to replace it."
            )
        np.savez(
            path,
            labels=self.labels,
            means=self._means,
            covariances=self.covariances,
            counts=self.counts,
        )

    @classmethod
    def load(cls, path, model=None) -> "LatentPools":
        """Reads pools written by `save`; `model` binds them for `generate`/`decode`."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"LatentPools.load() found no file at {path!r}.")
        with np.load(path, allow_pickle=False) as data:
            pools = cls(
                data["labels"], data["means"], data["covariances"], data["counts"], model=model
            )
        if model is not None and getattr(model, "latent_dim", pools.latent_dim) != pools.latent_dim:
            raise ValueError(
                f"LatentPools.load() read pools of latent_dim {pools.latent_dim} from {path!r};"
                f" the model has latent_dim {model.latent_dim}."
            )
        return pools


def interpolate(z0, z1, steps: int, method: str = "linear") -> np.ndarray:
    """Latent vectors on a path from `z0` to `z1`, both endpoints included: `(steps, d)`.

    `"linear"` walks the straight line. `"slerp"` walks the great-circle arc,
    `sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1` with `w` the angle between them:
    for vectors of equal norm every point keeps that norm, so the path stays where the
    Gaussian prior has its mass instead of cutting through the low-norm centre (White,
    2016). Nearly parallel vectors fall back to the linear path; opposite vectors have no
    unique arc and raise.

    Args:
        z0: array `(d,)`. Start.
        z1: array `(d,)`. End.
        steps: int >= 2. Number of vectors.
        method: str. `"linear"` or `"slerp"`. Defaults to `"linear"`.
    """
    z0 = _check_latent_vector(z0, "z0", "interpolate")
    z1 = _check_latent_vector(z1, "z1", "interpolate")
    if z0.shape != z1.shape:
        raise ValueError(
            f"interpolate() expects `z0` and `z1` of the same shape; got {z0.shape} and {z1.shape}."
        )
    steps = validation.check_positive_int(steps, "steps", "interpolate()")
    if steps < 2:
        raise ValueError(f"interpolate() expects `steps` >= 2 (both endpoints); got {steps}.")
    if method not in INTERPOLATION_METHODS:
        raise ValueError(
            f"interpolate() expects `method` in {INTERPOLATION_METHODS}; got {method!r}."
        )
    t = np.linspace(0.0, 1.0, steps)[:, None]
    norms = np.linalg.norm(z0) * np.linalg.norm(z1)
    if method == "linear" or norms == 0:
        path = (1.0 - t) * z0 + t * z1
    else:
        cosine = np.clip(np.dot(z0, z1) / norms, -1.0, 1.0)
        omega = np.arccos(cosine)
        if omega < 1e-6:
            path = (1.0 - t) * z0 + t * z1
        elif np.pi - omega < 1e-6:
            raise ValueError(
                "interpolate() with method='slerp' needs `z0` and `z1` not pointing in opposite"
                " directions: the arc between them is not unique."
            )
        else:
            path = (np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    # Exact endpoints, whatever the rounding of the trigonometry.
    path[0], path[-1] = z0, z1
    return path.astype("float32")


def traverse(z, dim: int, values) -> np.ndarray:
    """Copies of `z` with dimension `dim` set to each of `values`: `(len(values), d)`.

    Decoding the result shows what one latent dimension controls, the others held fixed.
    """
    z = _check_latent_vector(z, "z", "traverse")
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or not 0 <= dim < len(z):
        raise ValueError(f"traverse() expects `dim` as an int in [0, {len(z)}); got {dim!r}.")
    values = np.asarray(values, dtype="float64") if _is_numeric(values) else None
    if values is None or values.ndim != 1 or values.size == 0:
        raise ValueError("traverse() expects `values` as a non-empty 1-D sequence of numbers.")
    path = np.repeat(z[None], len(values), axis=0)
    path[:, dim] = values
    return path.astype("float32")


def latent_grid(n: int, extent: float = 3.0) -> np.ndarray:
    """A regular `n x n` grid over `[-extent, extent]^2` for a 2-D latent space: `(n*n, 2)`.

    Row-major from the top left, as an image grid is read: the first coordinate grows left
    to right, the second falls top to bottom; `decode` and tile the images `n` by `n` to get
    the usual map of a 2-D latent space.
    """
    n = validation.check_positive_int(n, "n", "latent_grid()")
    if not isinstance(extent, int | float) or isinstance(extent, bool) or extent <= 0:
        raise ValueError(f"latent_grid() expects `extent` as a positive float; got {extent!r}.")
    axis = np.linspace(-extent, extent, n)
    first, second = np.meshgrid(axis, axis[::-1])
    return np.stack([first.ravel(), second.ravel()], axis=1).astype("float32")
