"""What every prior p(z) of a VAE answers, and what the learned ones share.

A `Prior` is a float32 Keras layer (its densities are losses, whatever the dtype policy)
that gives `log_prob(z, condition=None)`, `kl(z_mean, z_log_var, z=None, condition=None)` and
`as_mixture(condition=None)`, so a model asks its prior instead of asking which prior it has.
`LearnedPrior` adds what the trained priors share: a number of components, a seed, and
parameters stored divided by a learning-rate multiplier so that the optimizer moves them that
many times faster than the networks' weights.
"""

import keras
import numpy as np
from keras import ops

from keras_vae import losses


def check_int(owner: str, name: str, value, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{owner} expects `{name}` as an int >= {least}; got {value!r}.")
    return value


def check_multiplier(owner: str, multiplier) -> float:
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float) or multiplier <= 0:
        raise ValueError(
            f"{owner} expects `learning_rate_multiplier` as a number > 0; got {multiplier!r}."
        )
    return float(multiplier)


def numpy_seed(seed):
    """`seed` for numpy's generator: the int itself (a negative one, which Keras takes and
    numpy refuses, modulo 2**64), or None for a Keras `SeedGenerator` (a model's own stream,
    which numpy cannot read)."""
    if isinstance(seed, keras.random.SeedGenerator):
        return None
    if isinstance(seed, int | np.integer) and seed < 0:
        return int(seed) % 2**64
    return seed


@keras.saving.register_keras_serializable(package="keras_vae")
class Prior(keras.layers.Layer):
    """Base class of the priors p(z) a `VAE` takes as `prior=`.

    A subclass implements `log_prob(z, condition=None)` (log p(z), summed over the latent
    axis) and `as_mixture(condition=None)` (the prior as a `keras_vae.latent.GaussianMixture`),
    and overrides `kl` where the KL divergence has a closed form. The model calls `attach`
    when it is built, so a prior that needs the model (the VampPrior runs its encoder) gets
    it in one place. `condition` is the one-hot label `(batch, num_classes)` of a
    class-conditional prior (`is_conditional`); the other priors ignore it.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        **kwargs: passed to `keras.layers.Layer` (`name`); the dtype is always float32.

    Example:
    ```python
    prior = keras_vae.priors.MixturePrior(2, num_components=5)
    log_p = prior.log_prob(np.zeros((4, 2), "float32"))  # (4,)
    mixture = prior.as_mixture()  # a keras_vae.latent.GaussianMixture
    ```
    """

    # Whether the prior has parameters trained with the model (N(0, I) has none).
    is_learned = True
    # Whether log_prob and kl need a one-hot `condition` (a prior per class).
    is_conditional = False
    # Whether `refit(draws)` can fit the prior to posterior draws (EM, `VAE.refit_prior`).
    can_refit = False

    def __init__(self, latent_dim=2, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.latent_dim = check_int(type(self).__name__, "latent_dim", latent_dim)

    # The model ------------------------------------------------------------------------------

    def check_model(self, model, owner: str) -> None:
        """Raises, naming `owner`, when this prior does not fit `model` (its latent size, or
        a prior per class for a model without labels)."""
        if self.latent_dim != model.latent_dim:
            raise ValueError(
                f"{owner} expects a `prior` of latent_dim {model.latent_dim} (the model's); got"
                f" a {type(self).__name__} of latent_dim {self.latent_dim}."
            )
        if self.is_conditional and not model.is_conditional:
            raise ValueError(
                f"{owner} expects `prior` without a condition (the model takes no labels); got"
                f" a {type(self).__name__}, which needs a ConditionalVAE."
            )

    def attach(self, model) -> None:
        """Called by the model that owns the prior once it is built; nothing to do here."""

    # Densities ------------------------------------------------------------------------------

    def log_prob(self, z, condition=None):
        """log p(z) summed over the latent axis: `(..., latent_dim) -> (...)`."""
        raise NotImplementedError(f"{type(self).__name__} must implement log_prob().")

    def kl(self, z_mean, z_log_var, z=None, condition=None):
        """KL(q(z | x) || p(z)) per example, `(batch,)`, for the diagonal Gaussian posterior
        `N(z_mean, exp(z_log_var))`: in closed form where the prior has one, else the
        single-sample estimate `-H(q) - log p(z)` at the posterior sample `z` (then
        required)."""
        if z is None:
            raise ValueError(
                f"{type(self).__name__}.kl() estimates the KL divergence at the posterior"
                " sample `z`, which it needs; got z=None."
            )
        return -losses.diagonal_gaussian_entropy(z_log_var) - self.log_prob(z, condition)

    def kl_per_dimension(self, z_mean, z_log_var):
        """The KL divergence split over the latent dimensions, `(batch, latent_dim)`, where
        it splits (a factorised prior); None here. The free-bits floor of `VAE` then applies
        per dimension."""
        return None

    # Drawing --------------------------------------------------------------------------------

    def as_mixture(self, condition=None):
        """The prior as a `keras_vae.latent.GaussianMixture` (numpy, float64)."""
        raise NotImplementedError(f"{type(self).__name__} must implement as_mixture().")

    def sample(self, n, seed=None, condition=None, temperature=1.0):
        """`n` draws from the prior, float32 `(n, latent_dim)`, standard deviations scaled by
        `temperature`; `seed` is an int (repeatable draws), None or a Keras `SeedGenerator`.
        Here from `as_mixture(condition)` with numpy; subclasses may draw in Keras."""
        mixture = self.as_mixture(condition)
        if temperature != 1.0:
            mixture = mixture.with_temperature(temperature)
        return mixture.sample(n, numpy_seed(seed))

    def sampler(self, temperature=1.0, condition=None):
        """The prior as a `keras_vae.samplers` sampler: a `GaussianMixtureSampler` of
        `as_mixture(condition)`, standard deviations scaled by `temperature`."""
        from keras_vae.samplers import GaussianMixtureSampler

        mixture = self.as_mixture(condition)
        weights = mixture.weights
        return GaussianMixtureSampler(
            mixture.means,
            temperature * mixture.scale_tril,
            weights / weights.sum(),
            mixture.component_names,
        )

    def refit(self, draws, seed=None, max_iter=100):
        """Refits the prior to latent draws `(n, latent_dim)` and returns the mean log-density
        before and after; see `VAE.refit_prior`. Only a prior with `can_refit` can."""
        raise ValueError(f"{type(self).__name__} cannot be refitted to draws (can_refit=False).")

    @property
    def description(self) -> str:
        """The prior in a few words, for messages and reports."""
        return type(self).__name__

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        # A prior is float32 whatever the policy, so its config carries no dtype.
        config = {key: value for key, value in super().get_config().items() if key != "dtype"}
        config["latent_dim"] = self.latent_dim
        return config


@keras.saving.register_keras_serializable(package="keras_vae")
class LearnedPrior(Prior):
    """Base class of the priors trained with the model: components, a seed, and parameters
    stored divided by `learning_rate_multiplier`.

    A few hundred optimizer steps move a weight by a few hundred learning rates: far too
    little for a prior that must travel to where the codes are. Storing a parameter divided
    by the multiplier makes an optimizer such as Adam move it that many times faster than
    the networks' weights. A subclass lists its stored variables in `_scaled_variables()`
    and reads them through `parameters()`.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        num_components: int >= 1. Number of Gaussians (per class for a class prior).
            Defaults to `1`.
        learning_rate_multiplier: float > 0. How much faster than the networks the prior
            learns. Defaults to `20.0`.
        seed: int or None. Seed of the initial parameters. Defaults to `None`.

    Example:
    ```python
    prior = keras_vae.priors.MixturePrior(2, num_components=3)
    means, log_vars, logits = prior.parameters()
    ```
    """

    def __init__(
        self, latent_dim=2, num_components=1, learning_rate_multiplier=20.0, seed=None, **kwargs
    ):
        super().__init__(latent_dim, **kwargs)
        owner = type(self).__name__
        self.num_components = check_int(owner, "num_components", num_components)
        self.learning_rate_multiplier = check_multiplier(owner, learning_rate_multiplier)
        self.seed = seed

    def _scaled_variables(self) -> tuple:
        return ()

    def parameters(self) -> tuple:
        """The stored variables times the multiplier, as float32 tensors."""
        multiplier = self.learning_rate_multiplier
        return tuple(variable * multiplier for variable in self._scaled_variables())

    def set_parameters(self, *values) -> None:
        """Stores each parameter (in the order of `parameters()`) divided by the multiplier,
        after checking its shape."""
        method = f"{type(self).__name__}.set_parameters()"
        for variable, value in zip(self._scaled_variables(), values, strict=True):
            value = ops.convert_to_numpy(value).astype("float32")
            if value.shape != tuple(variable.shape):
                raise ValueError(
                    f"{method} expects {variable.name} of shape {tuple(variable.shape)}; got"
                    f" {value.shape}."
                )
            variable.assign(value / self.learning_rate_multiplier)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_components": self.num_components,
                "learning_rate_multiplier": self.learning_rate_multiplier,
                "seed": self.seed,
            }
        )
        return config


def diagonal_scale_tril(scales) -> np.ndarray:
    """Standard deviations `(k, d)` as diagonal Cholesky factors `(k, d, d)`, float32."""
    scales = np.asarray(scales, dtype="float32")
    return scales[:, :, None] * np.eye(scales.shape[-1], dtype="float32")
