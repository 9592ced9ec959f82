"""A Gaussian mixture fitted to a trained model's codes: where its data really lies."""

import numpy as np

from keras_vae import validation
from keras_vae.latent import encode_means
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.samplers.base import Sampler, register_sampler


@register_sampler
class GaussianMixtureSampler(GaussianMixture, Sampler):
    """A `GaussianMixture` fitted to a trained model's codes, saved as a sampler.

    Everything but `fit` and `fit_codes` is `keras_vae.latent.GaussianMixture`'s; the
    class keeps its name because the `mixture.json` files of earlier versions carry it.

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

    @classmethod
    def fit_codes(cls, codes, n_components: int = 10, seed: int = 0) -> "GaussianMixtureSampler":
        """Fits the mixture to latent vectors `codes` `(n, latent_dim)` directly."""
        from sklearn.mixture import GaussianMixture as SklearnMixture

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
        mixture = SklearnMixture(
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
