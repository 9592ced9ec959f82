"""`GaussianMixture`: the one type for a Gaussian mixture over the latent space.

A model's prior, a mixture fitted to its codes, the pool of one class and the exported
`generate` signature all describe the same thing, `sum_k w_k N(means[k], L_k L_k^T)`. This
module holds it with numpy only, so every layer that needs it (the priors, the samplers,
the exporters, the web page, the firmware table) can import it without pulling a model in.

Example:
```python
mixture = vae.prior_sampler().as_mixture()  # or pools.as_mixture(), sampler.as_mixture()
z = mixture.sample(16, seed=0)              # (16, latent_dim) float32
log_p = mixture.log_prob(z)                 # (16,)
mixture.save("run/mixture.json")
again = GaussianMixture.load("run/mixture.json")
```
"""

import json
import os

import numpy as np

from keras_vae import validation

# The JSON document every sampler and mixture file uses (`keras_vae.samplers.load_sampler`
# reads them all).
FORMAT = "keras_vae.sampler"
FORMAT_VERSION = 1

# Files whose config holds a mixture as `means`, `scale_tril`, `weights`, `component_names`.
_MIXTURE_CLASSES = ("GaussianMixture", "GaussianMixtureSampler")


def _as_array(value, name: str, shape: tuple, owner: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(f"{owner} expects `{name}` as numbers of shape {shape}.") from None
    if array.shape != shape or not np.isfinite(array).all():
        raise ValueError(
            f"{owner} expects `{name}` as finite numbers of shape {shape}; got shape {array.shape}."
        )
    return array


def draw_from_components(means, scale_tril, weights, n: int, seed, temperature: float = 1.0):
    """`n` draws from the Gaussian mixture sum_k w_k N(mean_k, L_k L_k^T), the spread scaled by
    `temperature`. Returns float32 `(n, d)` vectors and the int `(n,)` component of each."""
    rng = np.random.default_rng(seed)
    components = rng.choice(len(weights), size=n, p=weights)
    noise = rng.standard_normal((n, means.shape[1]))
    offsets = np.einsum("nij,nj->ni", scale_tril[components].astype("float64"), noise)
    z = means[components].astype("float64") + temperature * offsets
    return z.astype("float32"), components


class GaussianMixture:
    """A mixture of Gaussians over the latent space, `sum_k w_k N(means[k], L_k L_k^T)`.

    The parameters are kept in float64 (`log_prob` uses them); `means`, `scale_tril` and
    `weights` read them as float32, the tables an exported `generate` and the firmware
    hold, and `sample` draws from those, so a mixture read from a file draws what it drew
    when it was written.

    Args:
        means: array `(k, latent_dim)`. The component means.
        scale_tril: array `(k, latent_dim, latent_dim)`. Lower-triangular `L_k`, the
            covariance is `L_k L_k^T`.
        weights: array `(k,)`. Component probabilities, non-negative and summing to 1.
        component_names: list of str or None. Defaults to `"component 0"`, ...

    Example:
    ```python
    mixture = GaussianMixture.standard_normal(8)
    z = mixture.sample(4, seed=0)
    mixture.log_prob(z)
    ```
    """

    def __init__(self, means, scale_tril, weights, component_names=None):
        owner = type(self).__name__
        means = np.asarray(means, dtype="float64")
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(
                f"{owner} expects `means` of shape (k, latent_dim); got {means.shape}."
            )
        k, d = means.shape
        means = _as_array(means, "means", (k, d), owner)
        scale_tril = _as_array(scale_tril, "scale_tril", (k, d, d), owner)
        if not np.allclose(scale_tril, np.tril(scale_tril)):
            raise ValueError(f"{owner} expects `scale_tril` lower-triangular.")
        if (np.diagonal(scale_tril, axis1=1, axis2=2) <= 0).any():
            raise ValueError(f"{owner} expects `scale_tril` with a positive diagonal.")
        weights = _as_array(weights, "weights", (k,), owner)
        if (weights < 0).any() or not np.isclose(weights.sum(), 1.0, atol=1e-5):
            raise ValueError(
                f"{owner} expects `weights` >= 0 summing to 1; got sum {weights.sum():.6g}."
            )
        if component_names is None:
            component_names = [f"component {i}" for i in range(k)]
        component_names = [str(name) for name in component_names]
        if len(component_names) != k:
            raise ValueError(
                f"{owner} expects one name per component ({k}); got {len(component_names)}."
            )
        self._means = means
        self._scale_tril = scale_tril
        self._weights = weights / weights.sum()
        self.component_names = component_names

    # Construction ---------------------------------------------------------------------------

    @classmethod
    def standard_normal(cls, latent_dim: int, temperature: float = 1.0) -> "GaussianMixture":
        """N(0, temperature^2 I) as a one-component mixture named `"prior"`."""
        latent_dim = validation.check_positive_int(
            latent_dim, "latent_dim", "GaussianMixture.standard_normal()"
        )
        scale = check_temperature(temperature, "GaussianMixture.standard_normal()")
        eye = np.eye(latent_dim, dtype="float32")
        return cls(np.zeros((1, latent_dim)), (scale * eye)[None], np.ones(1), ["prior"])

    @classmethod
    def from_diagonal(cls, means, scales, weights, component_names=None) -> "GaussianMixture":
        """A mixture of diagonal Gaussians: standard deviations `scales` `(k, d)`."""
        scales = np.asarray(scales, dtype="float64")
        return cls(means, scales[:, :, None] * np.eye(scales.shape[-1]), weights, component_names)

    # Reading ----------------------------------------------------------------------------------

    @property
    def latent_dim(self) -> int:
        return int(self._means.shape[1])

    @property
    def n_components(self) -> int:
        return len(self._weights)

    @property
    def means(self) -> np.ndarray:
        """The component means, float32 `(k, latent_dim)`."""
        return self._means.astype("float32")

    @property
    def scale_tril(self) -> np.ndarray:
        """The Cholesky factors `L_k`, float32 `(k, latent_dim, latent_dim)`."""
        return self._scale_tril.astype("float32")

    @property
    def weights(self) -> np.ndarray:
        """The component probabilities, float32 `(k,)`."""
        return self._weights.astype("float32")

    @property
    def covariances(self) -> np.ndarray:
        """`L_k L_k^T`, float64 `(k, d, d)`."""
        return np.einsum("kij,klj->kil", self._scale_tril, self._scale_tril)

    def as_mixture(self) -> "GaussianMixture":
        """The mixture itself: what samplers and priors give, so any of them can be passed
        where a mixture is expected."""
        return self

    def check_latent_dim(self, latent_dim: int, owner: str, argument: str = "sampler") -> None:
        """Raises, naming `argument`, when the mixture's vectors do not fit `latent_dim`."""
        if int(latent_dim) != self.latent_dim:
            raise ValueError(
                f"{owner} expects `{argument}` of latent_dim {int(latent_dim)} (the model's);"
                f" got a {type(self).__name__} of latent_dim {self.latent_dim}."
            )

    # Parts ------------------------------------------------------------------------------------

    def component(self, index: int) -> "GaussianMixture":
        """Component `index` alone, as a one-component mixture of weight 1."""
        valid = isinstance(index, int | np.integer) and not isinstance(index, bool)
        if not valid or not 0 <= index < self.n_components:
            raise ValueError(
                f"GaussianMixture.component() expects `index` as an int in"
                f" [0, {self.n_components}); got {index!r}."
            )
        part = slice(int(index), int(index) + 1)
        return GaussianMixture(
            self._means[part], self._scale_tril[part], np.ones(1), self.component_names[part]
        )

    def select(self, name) -> "GaussianMixture":
        """The component called `name` (its `component_names` entry; a label such as `7`
        matches `"7"`), as a one-component mixture."""
        if str(name) not in self.component_names:
            raise ValueError(
                f"GaussianMixture.select() expects `name` in {self.component_names}; got {name!r}."
            )
        return self.component(self.component_names.index(str(name)))

    def with_temperature(self, temperature: float) -> "GaussianMixture":
        """The same mixture with every standard deviation scaled by `temperature`."""
        temperature = check_temperature(temperature, "GaussianMixture.with_temperature()")
        return GaussianMixture(
            self._means, temperature * self._scale_tril, self._weights, self.component_names
        )

    # Drawing and density ----------------------------------------------------------------------

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Draws `n` latent vectors: float32 `(n, latent_dim)`; `seed` makes them repeatable."""
        return self.sample_with_components(n, seed)[0]

    def sample_with_components(self, n: int, seed: int | None = None):
        """Like `sample`, and also the int `(n,)` component each vector came from."""
        n = validation.check_positive_int(n, "n", f"{type(self).__name__}.sample()")
        return draw_from_components(self.means, self.scale_tril, self.weights, n, seed)

    def component_log_prob(self, z) -> np.ndarray:
        """log N(z | means[k], L_k L_k^T) of each vector under each component: `(n, k)`."""
        z = np.asarray(validation.as_float_array(z, "z", (self.latent_dim,), "log_prob"))
        diff = z[:, None, :].astype("float64") - self._means[None]  # (n, k, d)
        # Solve L y = diff per component; |y|^2 is the Mahalanobis distance.
        solved = np.stack(
            [np.linalg.solve(tril, diff[:, k].T).T for k, tril in enumerate(self._scale_tril)],
            axis=1,
        )
        log_det = 2.0 * np.log(np.diagonal(self._scale_tril, axis1=1, axis2=2)).sum(axis=-1)
        return -0.5 * (
            np.square(solved).sum(axis=-1) + log_det[None] + self.latent_dim * np.log(2 * np.pi)
        )

    def log_prob(self, z) -> np.ndarray:
        """log p(z) under the mixture, float64 `(n,)`, for latent vectors `z` `(n, d)`."""
        with np.errstate(divide="ignore"):
            weighted = self.component_log_prob(z) + np.log(self._weights)[None]
        top = weighted.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(weighted - top).sum(axis=1, keepdims=True)))[:, 0]

    # Files ------------------------------------------------------------------------------------

    def get_config(self) -> dict:
        return {
            "means": self._means.tolist(),
            "scale_tril": self._scale_tril.tolist(),
            "weights": self._weights.tolist(),
            "component_names": list(self.component_names),
        }

    @classmethod
    def from_config(cls, config: dict) -> "GaussianMixture":
        return cls(**config)

    def save(self, path, overwrite: bool = False) -> str:
        """Writes the mixture to a JSON file (the samplers' format); refuses to replace one
        unless `overwrite=True`."""
        return write_document(path, type(self).__name__, self.get_config(), overwrite)

    @classmethod
    def load(cls, path, latent_dim: int | None = None) -> "GaussianMixture":
        """Reads a mixture written by `save`, or by any sampler's `save` (a
        `GaussianMixtureSampler`, `PoolSampler` or `PriorSampler` file gives its mixture).
        `latent_dim`, when given, is checked."""
        name, config, path = read_document(path, "GaussianMixture.load()")
        if name in _MIXTURE_CLASSES:
            mixture = GaussianMixture.from_config(config)
        else:
            # The other samplers live above this module; their files come through them.
            from keras_vae.samplers.base import sampler_from_document

            mixture = sampler_from_document(name, config, path, "GaussianMixture.load()")
            mixture = mixture.as_mixture()
        if latent_dim is not None:
            mixture.check_latent_dim(latent_dim, "GaussianMixture.load()", "latent_dim")
        return mixture

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(latent_dim={self.latent_dim}, n_components={self.n_components})"
        )


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


def as_mixture(value, latent_dim: int, owner: str, argument: str = "sampler") -> GaussianMixture:
    """`value` as a `GaussianMixture`: a mixture, or anything with `as_mixture()` (samplers,
    `LatentPools`, prior layers), checked against `latent_dim`."""
    convert = getattr(value, "as_mixture", None)
    if not callable(convert):
        raise TypeError(
            f"{owner} expects `{argument}` as a GaussianMixture or an object with as_mixture()"
            f" (a sampler, LatentPools or prior); got {type(value).__name__}."
        )
    mixture = convert()
    if not isinstance(mixture, GaussianMixture):
        raise TypeError(
            f"{owner} expects `{argument}.as_mixture()` to give a GaussianMixture; got"
            f" {type(mixture).__name__}."
        )
    if int(latent_dim) != mixture.latent_dim:
        raise ValueError(
            f"{owner} expects `{argument}` of latent_dim {int(latent_dim)} (the model's); got"
            f" a {type(value).__name__} of latent_dim {mixture.latent_dim}."
        )
    return mixture


def write_document(path, name: str, config: dict, overwrite: bool) -> str:
    """Writes `{"format", "version", "class": name, "config"}` to the JSON file `path`."""
    path = os.fspath(path)
    if not path.endswith(".json"):
        raise ValueError(f"{name}.save() expects a path ending in .json; got {path!r}.")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{name}.save() will not replace {path!r}; pass overwrite=True.")
    document = {"format": FORMAT, "version": FORMAT_VERSION, "class": name, "config": config}
    # Written beside the target and renamed, so a crash never leaves half a file.
    temporary = f"{path}.partial"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(document, file)
    os.replace(temporary, path)
    return path


def read_document(path, owner: str) -> tuple:
    """`(class name, config, path)` of a JSON file written by `write_document`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{owner} found no file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{owner} expects a sampler JSON file; {path!r} is not ({error})."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(
            f"{owner} expects a file written by Sampler.save() (format {FORMAT!r});"
            f" {path!r} is not one."
        )
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{owner} reads format version {FORMAT_VERSION}; {path!r} has version"
            f" {document.get('version')!r}."
        )
    return document.get("class"), document.get("config"), path
