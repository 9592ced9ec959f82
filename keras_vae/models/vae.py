"""The variational autoencoder."""

import keras
import numpy as np
from keras import ops

from keras_vae import losses
from keras_vae.layers.class_prior import ClassConditionalPrior
from keras_vae.layers.mixture_prior import MixturePrior
from keras_vae.layers.vamp_prior import VampPrior
from keras_vae.models.base import BaseAutoEncoder


def _prior_layer(prior, latent_dim, conditional=False, owner="VAE", input_shape=None):
    """The `prior` argument as a `MixturePrior` or `VampPrior` layer (for a conditional model
    a `MixturePrior` or `ClassConditionalPrior`), or None for the standard normal."""
    if prior is None or (isinstance(prior, str) and prior == "standard_normal"):
        return None
    if isinstance(prior, dict):
        prior = keras.saving.deserialize_keras_object(prior)
    allowed = (MixturePrior, ClassConditionalPrior) if conditional else (MixturePrior, VampPrior)
    if not isinstance(prior, allowed):
        names = " or ".join(f"a `{kind.__name__}`" for kind in allowed)
        raise ValueError(
            f"{owner} expects `prior` as None (the standard normal) or {names}; got"
            f" {type(prior).__name__}."
        )
    if prior.latent_dim != latent_dim:
        raise ValueError(
            f"{owner} expects a `prior` of latent_dim {latent_dim} (the model's); got a"
            f" {type(prior).__name__} of latent_dim {prior.latent_dim}."
        )
    if isinstance(prior, VampPrior) and prior.image_shape != tuple(input_shape):
        raise ValueError(
            f"{owner} expects a VampPrior whose pseudo-inputs have the model's image shape"
            f" {tuple(input_shape)}; got input_shape {prior.image_shape}."
        )
    return prior


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(BaseAutoEncoder):
    """A variational autoencoder trained with `fit()` on the negative ELBO.

    The encoder gives a Gaussian q(z | x) = N(z_mean, exp(z_log_var)); `Sampling` draws z with
    the reparameterization trick; the decoder gives p(x | z). The training objective per
    example is `reconstruction_loss + beta * kl_weight * kl_loss`, where the KL divergence to
    the prior N(0, I) is what lets a random draw from the prior decode to a valid image.
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
        prior: None, `MixturePrior` or `VampPrior`. The prior p(z): None for N(0, I) (the
            KL term in closed form), or a learned prior trained with the model (the KL term
            estimated from the posterior sample): a mixture of free Gaussians, or the
            encoder's posteriors at learned pseudo-inputs. `sample()` draws from it.
            Defaults to `None`.
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
        input_shape = kwargs.get("input_shape", args[3] if len(args) > 3 else (28, 28, 1))
        prior = _prior_layer(
            prior, latent_dim, self.is_conditional, type(self).__name__, input_shape
        )
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
        super().build(input_shape)

    def compute_losses(self, x, training=False):
        z_mean, z_log_var = self.encode_tensors(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        return self.elbo_terms(x, self.decode_tensors(z, training=training), z_mean, z_log_var, z=z)

    def prior_kl(self, z_mean, z_log_var, z=None, condition=None):
        """KL(q(z | x) || p(z)) per example under a learned prior: in closed form for a
        `ClassConditionalPrior` of one Gaussian per class, else estimated at the posterior
        sample `z` (`-H(q) - log p(z)`)."""
        if isinstance(self.prior, ClassConditionalPrior) and self.prior.num_components == 1:
            return self.prior.kl_divergence(z_mean, z_log_var, condition)
        if z is None:
            raise ValueError(
                f"{type(self).__name__}.elbo_terms() needs the posterior sample `z` with a"
                f" {type(self.prior).__name__}."
            )
        return -losses.diagonal_gaussian_entropy(z_log_var) - self.prior_log_density(z, condition)

    def elbo_terms(self, images, decoder_output, z_mean, z_log_var, z=None, condition=None):
        """The objective and the per-example ELBO terms, given one posterior sample's decoding.

        Returns `(objective, {"loss", "reconstruction_loss", "kl_loss"})`: the objective is
        the batch mean of `reconstruction + beta * kl_weight * kl` (with the free-bits floor
        on the KL when set: per dimension for N(0, I), on the whole code for a learned
        prior); the dict holds per-example values with the true KL (exact for
        the standard normal prior and a `ClassConditionalPrior` of one Gaussian per class;
        for a mixture prior the estimate at the sample `z`, which is then required).
        `condition` is the one-hot label a class-conditional prior needs.
        """
        reconstruction = -self.reconstruction_log_likelihood(images, decoder_output)
        if self.prior is not None:
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
        kl_per_dimension = losses.kl_divergence_per_dimension(z_mean, z_log_var)
        kl = ops.sum(kl_per_dimension, axis=-1)
        if self.free_bits > 0:
            kl_objective = ops.sum(ops.maximum(ops.mean(kl_per_dimension, axis=0), self.free_bits))
        else:
            kl_objective = ops.mean(kl)
        objective = ops.mean(reconstruction) + self.beta * self.kl_weight * kl_objective
        return objective, {
            "loss": reconstruction + self.beta * kl,
            "reconstruction_loss": reconstruction,
            "kl_loss": kl,
        }

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encode_tensors(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.output_mean(self.decode_tensors(z, training=training))

    def encode(self, x, batch_size=256):
        """Encodes images to the posterior parameters `(z_mean, z_log_var)`, each `(n, d)`."""
        return self._batched(
            lambda batch: tuple(self._encode_batch(batch)),
            self.check_images(x),
            batch_size,
            "encode",
        )

    def reconstruct(self, x, batch_size=256):
        """Decodes the posterior mean of each image: the model's reconstruction."""
        x = self.check_images(x, method="reconstruct")
        return self._batched(
            lambda batch: self._decode_batch(self.encode_tensors(batch)[0]),
            x,
            batch_size,
            "reconstruct",
        )

    # The prior -------------------------------------------------------------------------------

    def prior_log_density(self, z, condition=None):
        """log p(z) under the model's prior, summed over the latent axis: `(..., d) -> (...)`.
        A `ClassConditionalPrior` gives log p(z | y) for one-hot `condition` `(batch, c)`
        (z `(..., batch, d)`); the other priors ignore `condition`."""
        if self.prior is None:
            return losses.standard_normal_log_density(z)
        if isinstance(self.prior, ClassConditionalPrior):
            return self.prior.log_prob(z, condition)
        if isinstance(self.prior, VampPrior):
            return self.prior.log_prob(z, *self.encode_tensors(self.prior.pseudo_inputs()))
        return self.prior.log_prob(z)

    def prior_components(self):
        """The components of a learned prior, `(means (k, d), scale_tril (k, d, d), weights
        (k,))` as numpy float32 (Cholesky factors of the covariances, probabilities): a
        `MixturePrior`'s Gaussians, or a `VampPrior`'s posteriors at its pseudo-inputs
        (equal weights)."""
        if self.prior is None:
            raise ValueError(
                f"{type(self).__name__}.prior_components() needs a learned prior; the model's"
                " prior is the standard normal N(0, I)."
            )
        if isinstance(self.prior, VampPrior):
            means, log_vars = self.encode_tensors(self.prior.pseudo_inputs())
            k = self.prior.num_components
            scales = ops.convert_to_numpy(ops.exp(0.5 * log_vars))
            weights = np.full((k,), 1.0 / k, dtype="float32")
        elif isinstance(self.prior, MixturePrior) and self.prior.covariance == "full":
            means, _, weights = self.prior.component_parameters()
            return means, self.prior.scale_tril(), weights
        else:
            means, scales, weights = self.prior.component_parameters()
        eye = np.eye(self.latent_dim, dtype="float32")
        return ops.convert_to_numpy(means), scales[:, :, None] * eye, weights

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
        from sklearn.mixture import GaussianMixture

        owner = f"{type(self).__name__}.refit_prior()"
        if not isinstance(self.prior, MixturePrior):
            raise ValueError(
                f"{owner} refits a MixturePrior; the model's prior is"
                f" {'N(0, I)' if self.prior is None else type(self.prior).__name__}."
            )
        for name, value in (("draws_per_image", draws_per_image), ("max_iter", max_iter)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{owner} expects `{name}` as an int >= 1; got {value!r}.")
        draws = self.posterior_draws(x, draws_per_image, seed=seed, batch_size=batch_size)
        prior = self.prior
        if len(draws) < prior.num_components:
            raise ValueError(
                f"{owner} needs at least num_components={prior.num_components} posterior"
                f" draws; got {len(draws)} ({len(draws) // draws_per_image} images x"
                f" {draws_per_image})."
            )
        before = float(ops.convert_to_numpy(prior.log_prob(draws)).mean())
        means, _, logits = (ops.convert_to_numpy(t) for t in prior.parameters())
        precision_tril = ops.convert_to_numpy(prior.precision_tril()).astype("float64")
        precisions = np.einsum("kij,klj->kil", precision_tril, precision_tril)
        full = prior.covariance == "full"
        weights = np.exp(logits - logits.max())
        mixture = GaussianMixture(
            prior.num_components,
            covariance_type="full" if full else "diag",
            weights_init=weights / weights.sum(),
            means_init=means,
            precisions_init=precisions if full else np.diagonal(precisions, axis1=1, axis2=2),
            max_iter=max_iter,
            random_state=seed,
        ).fit(draws)
        if full:
            factor = np.linalg.cholesky(np.linalg.inv(mixture.covariances_))
            log_vars = -2.0 * np.log(np.diagonal(factor, axis1=1, axis2=2))
            prior.precision_offdiagonal.assign(np.tril(factor, k=-1).astype("float32"))
        else:
            log_vars = np.log(mixture.covariances_)
        prior.set_parameters(mixture.means_, log_vars, np.log(mixture.weights_))
        after = float(ops.convert_to_numpy(prior.log_prob(draws)).mean())
        return {"before": before, "after": after}

    def prior_sampler(self, temperature=1.0):
        """The model's prior as a sampler: a `PriorSampler` for N(0, I), or, for a learned
        prior, a `GaussianMixtureSampler` with its components (standard deviations scaled
        by `temperature`); exportable as a `generate` signature like any mixture."""
        from keras_vae.samplers import GaussianMixtureSampler, PriorSampler
        from keras_vae.samplers.base import check_temperature

        if self.prior is None:
            return PriorSampler(self.latent_dim, temperature=temperature)
        temperature = check_temperature(temperature, f"{type(self).__name__}.prior_sampler()")
        means, scale_tril, weights = self.prior_components()
        return GaussianMixtureSampler(means, temperature * scale_tril, weights / weights.sum())

    def prior_latents(self, n, seed=None):
        """Draws `n` latent vectors from the model's prior; `seed` makes the draw repeatable."""
        if self.prior is None:
            return super().prior_latents(n, seed=seed)
        return self.sample_latents(n, seed=seed, sampler=self.prior_sampler())

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta": self.beta,
                "free_bits": self.free_bits,
                "prior": None
                if self.prior is None
                else keras.saving.serialize_keras_object(self.prior),
            }
        )
        return config
