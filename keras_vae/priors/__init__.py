"""The priors p(z) a `VAE` takes as `prior=`: one interface, four distributions.

Every prior is a `Prior` (`log_prob(z, condition=None)`, `kl(z_mean, z_log_var, z=None,
condition=None)`, `as_mixture(condition=None)`, `sample(n, seed, condition, temperature)`):
the standard normal N(0, I), a learned mixture of Gaussians (`MixturePrior`), the VampPrior
(the encoder's posteriors at learned pseudo-inputs) and a learned prior per class
(`ClassConditionalPrior`, for `ConditionalVAE`). The model calls the interface and never
asks which prior it has.

Example:
```python
from keras_vae import priors

vae = keras_vae.VAE(latent_dim=16, prior=priors.MixturePrior(16, num_components=20))
mixture = vae.prior.as_mixture()  # a keras_vae.latent.GaussianMixture
```
"""

import keras

from keras_vae.priors.base import LearnedPrior, Prior
from keras_vae.priors.class_conditional import ClassConditionalPrior
from keras_vae.priors.mixture import MixturePrior
from keras_vae.priors.standard_normal import StandardNormalPrior
from keras_vae.priors.vamp import VampPrior

__all__ = [
    "ClassConditionalPrior",
    "LearnedPrior",
    "MixturePrior",
    "Prior",
    "StandardNormalPrior",
    "VampPrior",
    "get",
]

STANDARD_NORMAL = "standard_normal"
MIXTURE = "mixture"
# What `prior="mixture"` (`VAE`'s default) builds: a `MixturePrior` of this many Gaussians
# with these covariances, measured by `benchmarks/defaults.py` (docs/guides/performance.md).
DEFAULT_MIXTURE_COMPONENTS = 20
DEFAULT_MIXTURE_COVARIANCE = "full"


def get(prior, latent_dim: int, owner: str = "VAE", seed=None) -> Prior:
    """The `prior` argument of a model as a `Prior`: None or `"standard_normal"` give
    `StandardNormalPrior(latent_dim)`, `"mixture"` a `MixturePrior` of
    `DEFAULT_MIXTURE_COMPONENTS` Gaussians with `DEFAULT_MIXTURE_COVARIANCE` covariances
    seeded with `seed`, a serialized config (a dict) is deserialized, a `Prior` is returned
    as it is. Raises `ValueError` naming `owner` for anything else.

    Args:
        prior: None, `"standard_normal"`, `"mixture"`, a `Prior` or its serialized config.
        latent_dim: int. The model's latent size (for the priors built from a name).
        owner: str. The model, for messages. Defaults to `"VAE"`.
        seed: int or None. Seed of the initial means of `"mixture"`. Defaults to `None`.
    """
    if prior is None or (isinstance(prior, str) and prior == STANDARD_NORMAL):
        return StandardNormalPrior(latent_dim, name="prior")
    if isinstance(prior, str) and prior == MIXTURE:
        return MixturePrior(
            latent_dim,
            num_components=DEFAULT_MIXTURE_COMPONENTS,
            seed=seed,
            covariance=DEFAULT_MIXTURE_COVARIANCE,
            name="prior",
        )
    if isinstance(prior, dict):
        prior = keras.saving.deserialize_keras_object(prior)
    if not isinstance(prior, Prior):
        got = repr(prior) if isinstance(prior, str) else type(prior).__name__
        raise ValueError(
            f"{owner} expects `prior` as None or {STANDARD_NORMAL!r} (the standard normal),"
            f" {MIXTURE!r} (a learned mixture) or a keras_vae.priors.Prior"
            " (StandardNormalPrior, MixturePrior, VampPrior, ClassConditionalPrior); got"
            f" {got}."
        )
    return prior
