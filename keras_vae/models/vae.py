"""The variational autoencoder."""

import warnings

import keras
import numpy as np
from keras import ops

from keras_vae import priors
from keras_vae.models.base import BaseAutoEncoder


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(BaseAutoEncoder):
    """A variational autoencoder trained with `fit()` on the negative ELBO.

    The encoder gives a Gaussian q(z | x) = N(z_mean, exp(z_log_var)); `Sampling` draws z with
    the reparameterization trick; the decoder gives p(x | z). The training objective per
    example is `reconstruction_loss + beta * kl_weight * kl_loss`, where the KL divergence to
    the prior (N(0, I) by default) is what lets a random draw from the prior decode to a
    valid image. The model asks its `prior` (a `keras_vae.priors.Prior`) for the KL term,
    the density, the mixture and the draws, and never which prior it has.
    `fit` reports `loss` (the negative ELBO, weighted by `beta`), `reconstruction_loss` and
    `kl_loss`, in nats per example.

    Args:
        encoder: keras Layer or Model, or None. Maps images to `(z_mean, z_log_var)`.
            Defaults to `Encoder`.
        decoder: keras Layer or Model, or None. Maps `z` to logits (Bernoulli) or means
            (Gaussian). Defaults to `Decoder`.
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"` for the default networks. Defaults to
            `"conv"`.
        beta: float. Weight of the KL term (beta-VAE). Defaults to `1.0`.
        likelihood: str. `"bernoulli"` or `"gaussian"`. Defaults to `"bernoulli"`.
        gaussian_variance: `"learned"` (one variance for every pixel),
            `"learned_per_channel"` (one per channel, e.g. R, G and B) or a positive float,
            the variance of the Gaussian likelihood. Defaults to `"learned"`.
        free_bits: float. A floor, in nats, on the batch-mean KL of each latent dimension in
            the objective (the reported `kl_loss` stays the true KL). Defaults to `0.0`.
            With a learned prior the KL does not split per dimension, so the floor is on the
            batch-mean KL of the whole code: `free_bits * latent_dim` nats.
        prior: None, `"standard_normal"` or a `keras_vae.priors.Prior`. The prior p(z):
            None or `"standard_normal"` for N(0, I) (`StandardNormalPrior`, the KL term in
            closed form), or a learned prior trained with the model (the KL term estimated
            from the posterior sample): a mixture of free Gaussians (`MixturePrior`), or the
            encoder's posteriors at learned pseudo-inputs (`VampPrior`). `sample()` draws
            from it; `vae.prior` is the `Prior` object. Defaults to `None`.
        seed: int or None. Seed of the sampling layer. Defaults to `None`.

    Example:
    <!-- skip: trains for minutes -->
    ```python
    vae = keras_vae.VAE(latent_dim=2, seed=1)
    vae.compile()
    vae.fit(x_train, epochs=10, validation_data=x_test)
    images = vae.sample(16, seed=0)
    ```
    """

    probabilistic = True
    loss_names = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(self, *args, beta=1.0, free_bits=0.0, prior=None, **kwargs):
        if not isinstance(beta, int | float) or isinstance(beta, bool) or beta < 0:
            raise ValueError(f"VAE expects `beta` as a float >= 0; got {beta!r}.")
        if not isinstance(free_bits, int | float) or isinstance(free_bits, bool) or free_bits < 0:
            raise ValueError(f"VAE expects `free_bits` as a float >= 0; got {free_bits!r}.")
        latent_dim = kwargs.get("latent_dim", args[2] if len(args) > 2 else 2)
        prior = priors.get(prior, latent_dim, type(self).__name__)
        # Kept outside Keras's tracking until `build`, which runs inside the base constructor
        # and is the last moment a sub-layer may be added.
        object.__setattr__(self, "_prior_argument", prior)
        super().__init__(*args, **kwargs)
        self.beta = float(beta)
        self.free_bits = float(free_bits)

    def build(self, input_shape=None):
        # Scaled by callbacks such as KL warm-up; a variable, so changing it never retraces.
        self.kl_weight = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="kl_weight"
        )
        self.prior = self._prior_argument
        # Checked here, where the model knows its latent size, image shape and labels.
        self.prior.check_model(self, type(self).__name__)
        self.prior.attach(self)
        super().build(input_shape)

    def compute_losses(self, x, training=False, condition=None):
        """The objective on images `x` (with the one-hot `condition` of a conditional
        model); see `elbo_terms`."""
        if condition is None and self.is_conditional and isinstance(x, list | tuple):
            warnings.warn(
                f"{type(self).__name__}.compute_losses((images, one_hot)) is deprecated: call"
                " compute_losses(images, condition=one_hot).",
                DeprecationWarning,
                stacklevel=2,
            )
            x, condition = x
        z_mean, z_log_var = self.encode_tensors(x, condition, training=training)
        z = self.sampling([z_mean, z_log_var])
        decoded = self.decode_tensors(z, condition, training=training)
        return self.elbo_terms(x, decoded, z_mean, z_log_var, z=z, condition=condition)

    def prior_kl(self, z_mean, z_log_var, z=None, condition=None):
        """KL(q(z | x) || p(z)) per example: the prior's `kl`, in closed form where it has
        one (N(0, I), a `ClassConditionalPrior` of one Gaussian per class), else estimated at
        the posterior sample `z` (`-H(q) - log p(z)`)."""
        return self.prior.kl(z_mean, z_log_var, z=z, condition=condition)

    def elbo_terms(self, images, decoder_output, z_mean, z_log_var, z=None, condition=None):
        """The objective and the per-example ELBO terms, given one posterior sample's decoding.

        Returns `(objective, {"loss", "reconstruction_loss", "kl_loss"})`: the objective is
        the batch mean of `reconstruction + beta * kl_weight * kl` (with the free-bits floor
        on the KL when set: per dimension where the prior's KL splits over them, as for
        N(0, I), else on the whole code); the dict holds per-example values with the true
        KL (exact where the prior has a closed form, else the estimate at the sample `z`,
        which is then required). `condition` is the one-hot label a class-conditional prior
        needs.
        """
        reconstruction = -self.reconstruction_log_likelihood(images, decoder_output)
        kl_per_dimension = self.prior.kl_per_dimension(z_mean, z_log_var)
        if kl_per_dimension is not None:
            kl = ops.sum(kl_per_dimension, axis=-1)
            if self.free_bits > 0:
                floored = ops.maximum(ops.mean(kl_per_dimension, axis=0), self.free_bits)
                kl_objective = ops.sum(floored)
            else:
                kl_objective = ops.mean(kl)
        else:
            kl = self.prior_kl(z_mean, z_log_var, z, condition)
            kl_objective = ops.mean(kl)
            if self.free_bits > 0:
                kl_objective = ops.maximum(kl_objective, self.free_bits * self.latent_dim)
        objective = ops.mean(reconstruction) + self.beta * self.kl_weight * kl_objective
        return objective, {
            "loss": reconstruction + self.beta * kl,
            "reconstruction_loss": reconstruction,
            "kl_loss": kl,
        }

    def call(self, inputs, training=False):
        images, condition = self.split_inputs(inputs)
        z_mean, z_log_var = self.encode_tensors(images, condition, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.output_mean(self.decode_tensors(z, condition, training=training))

    # The prior -------------------------------------------------------------------------------

    def sampling_prior(self):
        return self.prior

    def prior_log_density(self, z, condition=None):
        """log p(z) under the model's prior, summed over the latent axis: `(..., d) -> (...)`.
        A class-conditional prior gives log p(z | y) for one-hot `condition` `(batch, c)`
        (z `(..., batch, d)`); the other priors ignore `condition`."""
        return self.prior.log_prob(z, condition)

    def prior_mixture(self, label=None):
        """The model's prior as a `keras_vae.latent.GaussianMixture` (`prior.as_mixture`);
        for a class-conditional prior, that of class `label` (an int)."""
        if self.prior.is_conditional and label is None:
            raise ValueError(
                f"{type(self).__name__}.prior_mixture() needs `label`, the class whose prior"
                f" p(z | y) to give (an int), with a {type(self.prior).__name__}; got None."
            )
        return self.prior.as_mixture(label)

    def prior_components(self):
        """The components of the prior, `(means (k, d), scale_tril (k, d, d), weights (k,))`
        as numpy float32 (Cholesky factors of the covariances, probabilities): a
        `MixturePrior`'s Gaussians, a `VampPrior`'s posteriors at its pseudo-inputs (equal
        weights), or N(0, I) as one component."""
        mixture = self.prior_mixture()
        return mixture.means, mixture.scale_tril, mixture.weights

    def posterior_draws(self, x, draws_per_image=1, seed=None, batch_size=256):
        """`draws_per_image` draws z ~ q(z | x) of every image, numpy float32
        `(draws_per_image * n, d)`: the first draw of every image, then the second, ...
        (`z_mean + exp(z_log_var / 2) * noise`, the noise from `numpy.random.default_rng(seed)`).
        """
        z_mean, z_log_var = self.encode(x, batch_size=batch_size)
        rng = np.random.default_rng(seed)
        return np.concatenate(
            [
                z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
                for _ in range(draws_per_image)
            ]
        ).astype("float32")

    def refit_prior(self, x, draws_per_image=3, seed=None, max_iter=100, batch_size=256):
        """Refits a `MixturePrior` by EM to posterior draws of images `x`; returns the mean
        log-density the prior gives those draws, `{"before": ..., "after": ...}`.

        For a fixed encoder the prior that maximises the ELBO is the one that maximises
        E_q[log p(z)] over the training codes; with a mixture prior that is a maximum
        likelihood fit to posterior draws z ~ q(z | x), which EM does in a few seconds
        where gradient steps need many epochs. scikit-learn's `GaussianMixture` (diagonal or
        full, as the prior) runs it, started from the prior as it is, so the draws' density
        cannot fall. Call it after `fit`; it changes only the prior's weights.

        Args:
            x: images `(n, *input_shape)`, usually the training images.
            draws_per_image: int >= 1. Posterior draws per image. Defaults to `3`.
            seed: int or None. Seed of the draws and of EM. Defaults to `None`.
            max_iter: int >= 1. EM iterations at most. Defaults to `100`.
            batch_size: int. Images encoded at a time. Defaults to `256`.
        """
        owner = f"{type(self).__name__}.refit_prior()"
        if not self.prior.can_refit:
            raise ValueError(
                f"{owner} refits a MixturePrior; the model's prior is {self.prior.description}."
            )
        for name, value in (("draws_per_image", draws_per_image), ("max_iter", max_iter)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner} expects `{name}` as an int >= 1; got {value!r}.")
        draws = self.posterior_draws(x, draws_per_image, seed=seed, batch_size=batch_size)
        if len(draws) < self.prior.num_components:
            raise ValueError(
                f"{owner} needs at least num_components={self.prior.num_components} posterior"
                f" draws; got {len(draws)} ({len(draws) // draws_per_image} images x"
                f" {draws_per_image})."
            )
        return self.prior.refit(draws, seed=seed, max_iter=max_iter)

    def prior_sampler(self, temperature=1.0, label=None):
        """The model's prior as a sampler (`prior.sampler`, built from `prior.as_mixture()`):
        a `GaussianMixtureSampler` with a learned prior's components, or a `PriorSampler`
        for N(0, I), standard deviations scaled by `temperature`; exportable as a `generate`
        signature like any mixture. For a class-conditional prior, the prior of class
        `label` (an int), whose draws are decoded with that label."""
        from keras_vae.latent.mixture import check_temperature

        owner = f"{type(self).__name__}.prior_sampler()"
        temperature = check_temperature(temperature, owner)
        if isinstance(label, np.integer):
            label = int(label)
        if self.prior.is_conditional and (isinstance(label, bool) or not isinstance(label, int)):
            raise ValueError(
                f"{owner} needs `label`, the class whose prior p(z | y) to draw from (an int in"
                f" [0, {self.prior.num_classes})), with a {type(self.prior).__name__}; got"
                f" {label!r}."
            )
        return self.prior.sampler(temperature, label)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta": self.beta,
                "free_bits": self.free_bits,
                # N(0, I) is written as None, as earlier versions wrote it.
                "prior": keras.saving.serialize_keras_object(self.prior)
                if self.prior.is_learned
                else None,
            }
        )
        return config
