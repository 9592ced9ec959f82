"""A learned prior made of the encoder's own posteriors: the VampPrior."""

import math
import warnings

import keras
import numpy as np
from keras import ops

from keras_vae import losses
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.priors.base import LearnedPrior, diagonal_scale_tril


@keras.saving.register_keras_serializable(package="keras_vae")
class VampPrior(LearnedPrior):
    """p(z) = 1/K sum_k q(z | u_k): the encoder's posteriors at K learned pseudo-inputs.

    The "variational mixture of posteriors" prior (Tomczak and Welling, 2018). The optimal
    prior of a VAE is the average of its posteriors over the data; the VampPrior
    approximates that average with K learned images `u_k` (the pseudo-inputs), so its
    components sit where the encoder puts real images by construction, and move with the
    encoder as it trains. Unlike `MixturePrior`, whose Gaussians are free parameters, every
    component here is the posterior of something image-like.

    The layer holds only the pseudo-inputs; the model that owns it (`VAE(prior=...)`)
    attaches its encoder when it is built (`attach`), and `log_prob`, `kl` and `as_mixture`
    run that encoder on the pseudo-inputs to get the components, `(means, log_vars)`.
    Pseudo-inputs are stored as pixel logits divided by
    `learning_rate_multiplier` (see `MixturePrior` for why) and read through
    `pseudo_inputs()`, the sigmoid of the logits: images in [0, 1]. `set_pseudo_inputs`
    starts them from real images (the README's measurements all start there; a start from
    noise was not measured).

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        num_components: int. Number of pseudo-inputs K. Defaults to `50`.
        input_shape: tuple. Shape of one image, the encoder's input. Defaults to
            `(28, 28, 1)`.
        learning_rate_multiplier: float > 0. How much faster than the networks the
            pseudo-inputs learn. Defaults to `20.0`.
        seed: int or None. Seed of the initial pseudo-input logits (normal, sd 1).
            Defaults to `None`.

    Example:
    ```python
    prior = keras_vae.VampPrior(16, num_components=50, input_shape=(28, 28, 1))
    prior.set_pseudo_inputs(x_train[:50])
    vae = keras_vae.VAE(latent_dim=16, prior=prior)
    vae.compile()
    vae.fit(x_train, epochs=20)
    digits = vae.sample(16, seed=0)  # draws from the learned prior
    ```
    """

    def __init__(
        self,
        latent_dim=2,
        num_components=50,
        input_shape=(28, 28, 1),
        learning_rate_multiplier=20.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(latent_dim, num_components, learning_rate_multiplier, seed, **kwargs)
        shape = tuple(input_shape) if isinstance(input_shape, list | tuple) else None
        if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
            raise ValueError(
                "VampPrior expects `input_shape` as a tuple of ints >= 1, the shape of one"
                f" image (e.g. (28, 28, 1)); got {input_shape!r}."
            )
        self.image_shape = shape
        self._encoder = None
        self.scaled_logits = self.add_weight(
            shape=(num_components, *shape),
            initializer=keras.initializers.RandomNormal(
                stddev=1.0 / self.learning_rate_multiplier, seed=seed
            ),
            name="pseudo_input_logits",
        )
        self.built = True

    def pseudo_inputs(self):
        """The K pseudo-inputs as a float32 tensor `(K, *input_shape)` of pixels in [0, 1]."""
        return ops.sigmoid(self.scaled_logits * self.learning_rate_multiplier)

    def set_pseudo_inputs(self, images):
        """Sets the pseudo-inputs to `images` `(K, *input_shape)` with pixels in [0, 1]
        (clipped to [0.001, 0.999], where the logits are finite)."""
        images = np.asarray(images)
        expected = (self.num_components, *self.image_shape)
        if images.shape != expected:
            raise ValueError(
                f"VampPrior.set_pseudo_inputs() expects images of shape {expected}"
                f" (num_components, *input_shape); got {images.shape}."
            )
        if not np.issubdtype(images.dtype, np.floating):
            raise ValueError(
                "VampPrior.set_pseudo_inputs() expects float images with pixels in [0, 1];"
                f" got dtype {images.dtype}."
            )
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise ValueError(
                "VampPrior.set_pseudo_inputs() expects finite pixels in [0, 1]; got values in"
                f" [{np.nanmin(images):.3g}, {np.nanmax(images):.3g}]"
                f"{' with NaN or inf' if not np.isfinite(images).all() else ''}."
            )
        pixels = np.clip(images.astype("float64"), 1e-3, 1 - 1e-3)
        logits = np.log(pixels) - np.log1p(-pixels)
        self.scaled_logits.assign((logits / self.learning_rate_multiplier).astype("float32"))

    # The model ------------------------------------------------------------------------------

    def check_model(self, model, owner):
        super().check_model(model, owner)
        if model.is_conditional:
            raise ValueError(
                f"{owner} expects `prior` as a StandardNormalPrior, MixturePrior or"
                " ClassConditionalPrior; got VampPrior (its components come from an encoder"
                " that takes no labels)."
            )
        if self.image_shape != tuple(model.image_shape):
            raise ValueError(
                f"{owner} expects a VampPrior whose pseudo-inputs have the model's image shape"
                f" {tuple(model.image_shape)}; got input_shape {self.image_shape}."
            )

    def attach(self, model):
        """Keeps `model.encode_tensors`, which gives the components at the pseudo-inputs.
        Held outside Keras's tracking: the model owns the prior, not the other way round."""
        object.__setattr__(self, "_encoder", model.encode_tensors)

    def components(self):
        """The encoder's posteriors at the pseudo-inputs, `(means, log_vars)` float32 tensors
        `(K, latent_dim)`; needs the model's encoder (`attach`)."""
        if self._encoder is None:
            raise ValueError(
                "VampPrior needs the encoder of its model to give its components: pass it to"
                " `VAE(prior=...)`, which attaches it, or give `means` and `log_vars` to"
                " `posterior_log_prob`."
            )
        return self._encoder(self.pseudo_inputs())

    # Densities ------------------------------------------------------------------------------

    def log_prob(self, z, condition=None, *deprecated):
        """log p(z) summed over the latent axis, `(..., latent_dim) -> (...)`, from the
        attached encoder's posteriors at the pseudo-inputs; `condition` is ignored.

        The earlier form `log_prob(z, means, log_vars)` still works, with a
        `DeprecationWarning`: call `posterior_log_prob(z, means, log_vars)` instead.
        """
        if deprecated:
            warnings.warn(
                "VampPrior.log_prob(z, means, log_vars) is deprecated: call"
                " posterior_log_prob(z, means, log_vars), or log_prob(z) on a prior attached"
                " to its model.",
                DeprecationWarning,
                stacklevel=2,
            )
            return self.posterior_log_prob(z, condition, *deprecated)
        return self.posterior_log_prob(z, *self.components())

    def posterior_log_prob(self, z, means, log_vars):
        """log p(z) summed over the latent axis, `(..., latent_dim) -> (...)`, given the
        encoder's posteriors at the pseudo-inputs: `means`, `log_vars` `(K, latent_dim)`."""
        per_component = losses.log_normal_density(
            ops.cast(z, "float32")[..., None, :], means, log_vars
        )
        return ops.logsumexp(per_component, axis=-1) - math.log(self.num_components)

    def as_mixture(self, condition=None):
        """The K posteriors at the pseudo-inputs, equal weights, as a
        `keras_vae.latent.GaussianMixture`; `condition` is ignored."""
        means, log_vars = self.components()
        scales = ops.convert_to_numpy(ops.exp(0.5 * log_vars))
        weights = np.full((self.num_components,), 1.0 / self.num_components, dtype="float32")
        return GaussianMixture(ops.convert_to_numpy(means), diagonal_scale_tril(scales), weights)

    def call(self, inputs):
        """`[z, means, log_vars]` -> log p(z) (see `posterior_log_prob`)."""
        z, means, log_vars = inputs
        return self.posterior_log_prob(z, means, log_vars)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1])

    def get_config(self):
        config = super().get_config()
        config["input_shape"] = list(self.image_shape)
        return config
