"""A Gaussian mixture fitted to a trained model's codes: where its data really lies."""

import numpy as np

from keras_vae import validation
from keras_vae.latent import encode_means
from keras_vae.samplers.base import Sampler, check_n, draw_from_components, register_sampler


def _as_matrix(value, name: str, shape: tuple, owner: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(f"{owner} expects `{name}` as numbers of shape {shape}.") from None
    if array.shape != shape or not np.isfinite(array).all():
        raise ValueError(
            f"{owner} expects `{name}` as finite numbers of shape {shape}; got shape {array.shape}."
        )
    return array


@register_sampler
class GaussianMixtureSampler(Sampler):
    """Draws from a mixture of Gaussians, `sum_k w_k N(means[k], L_k L_k^T)`.

    `fit` encodes training images with a trained model and fits the mixture to the codes
    (scikit-learn's `GaussianMixture`, full covariances). A VAE's prior N(0, I) covers the
    whole space, including regions no training image maps to; an autoencoder has no prior
    at all. A mixture fitted after training knows where the codes are for either model, so
    its draws decode to typical images (Ghosh et al., 2020).

    Args:
        means: array `(k, latent_dim)`. The component means.
        scale_tril: array `(k, latent_dim, latent_dim)`. Lower-triangular `L_k` with the
            covariance `L_k L_k^T`.
        weights: array `(k,)`. Component probabilities (non-negative, summing to 1).
        component_names: list of str or None. Defaults to `"component 0"`, ...

    Example:
    ```python
    mixture = GaussianMixtureSampler.fit(vae, x_train, n_components=10, seed=0)
    images = vae.sample(64, seed=0, sampler=mixture)
    mixture.save("run/mixture.json")
    ```
    """

    def __init__(self, means, scale_tril, weights, component_names=None):
        owner = "GaussianMixtureSampler"
        means = np.asarray(means, dtype="float64")
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(
                f"{owner} expects `means` of shape (k, latent_dim); got {means.shape}."
            )
        k, d = means.shape
        means = _as_matrix(means, "means", (k, d), owner)
        scale_tril = _as_matrix(scale_tril, "scale_tril", (k, d, d), owner)
        if not np.allclose(scale_tril, np.tril(scale_tril)):
            raise ValueError(f"{owner} expects `scale_tril` lower-triangular.")
        weights = _as_matrix(weights, "weights", (k,), owner)
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
        self.latent_dim = d
        self.means = means.astype("float32")
        self.scale_tril = scale_tril.astype("float32")
        self.weights = (weights / weights.sum()).astype("float32")
        self.component_names = component_names

    @property
    def n_components(self) -> int:
        return len(self.weights)

    @classmethod
    def fit_codes(cls, codes, n_components: int = 10, seed: int = 0) -> "GaussianMixtureSampler":
        """Fits the mixture to latent vectors `codes` `(n, latent_dim)` directly."""
        from sklearn.mixture import GaussianMixture

        owner = "GaussianMixtureSampler.fit()"
        n_components = validation.check_positive_int(n_components, "n_components", owner)
        codes = np.asarray(codes, dtype="float64")
        if codes.ndim != 2 or not np.isfinite(codes).all():
            raise ValueError(
                f"{owner} expects finite codes of shape (n, latent_dim); got {codes.shape}."
            )
        if n_components > len(codes):
            raise ValueError(
                f"{owner} expects `n_components` <= the number of examples ({len(codes)});"
                f" got n_components={n_components}."
            )
        mixture = GaussianMixture(
            n_components, covariance_type="full", random_state=seed, n_init=1
        ).fit(codes)
        return cls(
            mixture.means_,
            np.linalg.cholesky(mixture.covariances_),
            mixture.weights_,
        )

    @classmethod
    def fit(
        cls,
        model,
        data,
        labels=None,
        n_components: int = 10,
        seed: int = 0,
        batch_size: int = 256,
    ) -> "GaussianMixtureSampler":
        """Encodes `data` with `model` and fits the mixture to the codes.

        Args:
            model: a trained `VAE` (its posterior means are used), `AutoEncoder` or
                `ConditionalVAE` (with `labels`).
            data: images `(n, *input_shape)`.
            labels: labels `(n,)`, for a conditional model only.
            n_components: int. Number of Gaussians, at most the number of images.
                Defaults to `10`.
            seed: int. Seed of the mixture's initialisation. Defaults to `0`.
            batch_size: int. Images encoded at once. Defaults to `256`.
        """
        codes = encode_means(model, data, labels, batch_size, "GaussianMixtureSampler.fit")
        return cls.fit_codes(codes, n_components=n_components, seed=seed)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        return self.sample_with_components(n, seed)[0]

    def sample_with_components(self, n: int, seed: int | None = None):
        """Like `sample`, and also the int `(n,)` component each vector came from."""
        n = check_n(n, "GaussianMixtureSampler.sample()")
        return draw_from_components(self.means, self.scale_tril, self.weights, n, seed)

    def get_config(self) -> dict:
        return {
            "means": self.means.tolist(),
            "scale_tril": self.scale_tril.tolist(),
            "weights": self.weights.tolist(),
            "component_names": list(self.component_names),
        }

    def __repr__(self) -> str:
        return (
            f"GaussianMixtureSampler(latent_dim={self.latent_dim},"
            f" n_components={self.n_components})"
        )
