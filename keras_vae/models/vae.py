"""The variational autoencoder."""

import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import priors
from keras_vae.models import distribution
from keras_vae.models.base import BaseAutoEncoder


class _DefaultPrior(str):
    """`VAE`'s `prior` default: equal to `"mixture"`, and told apart from a caller's own
    `"mixture"` by identity, so that only a model built without `prior=` warns that the
    default changed."""


DEFAULT_PRIOR = _DefaultPrior(priors.MIXTURE)
DEFAULT_CHANGED = (
    "VAE's default prior is now a learned mixture (prior='mixture': a MixturePrior of"
    f" {priors.DEFAULT_MIXTURE_COMPONENTS} Gaussians with {priors.DEFAULT_MIXTURE_COVARIANCE}"
    " covariances, refit by EM at the end of fit); it was the standard normal N(0, I)."
    " Pass prior='standard_normal' for the textbook model, or prior='mixture'"
    " to keep the new default and silence this warning. Saved models load with the prior they"
    " were saved with."
)


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(BaseAutoEncoder):
    """A variational autoencoder trained with `fit()` on the negative ELBO.

    The encoder gives a Gaussian q(z | x) = N(z_mean, exp(z_log_var)); `Sampling` draws z with
    the reparameterization trick; the decoder gives p(x | z). The training objective per
    example is `reconstruction_loss + beta * kl_weight * kl_loss`, where the KL divergence to
    the prior is what lets a random draw from the prior decode to a valid image. The model
    asks its `prior` (a `keras_vae.priors.Prior`) for the KL term, the density, the mixture
    and the draws, and never which prior it has. By default the prior is learned, a mixture
    of Gaussians that moves to where the codes are, and `fit` ends by refitting it to them
    by EM, so that `sample()` gives recognisable images without further steps;
    `prior="standard_normal"` is the textbook VAE with N(0, I).
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
        prior: `"mixture"`, `"standard_normal"`, None or a `keras_vae.priors.Prior`. The
            prior p(z): `"mixture"` for a learned `MixturePrior` of
            `priors.DEFAULT_MIXTURE_COMPONENTS` (20) Gaussians with full covariances,
            seeded with `seed`, whose draws are recognisable digits far more often than
            N(0, I)'s (docs/guides/performance.md); `"standard_normal"` or None for the
            textbook N(0, I) (`StandardNormalPrior`, the KL term in closed form); or a
            prior of your own: a mixture of free Gaussians (`MixturePrior`), or the
            encoder's posteriors at learned pseudo-inputs (`VampPrior`). A learned prior's
            KL term is estimated from the posterior sample. `sample()` draws from it;
            `vae.prior` is the `Prior` object. Files saved with `"prior": None`, or
            before the argument existed, load with N(0, I). Defaults to `"mixture"`
            (earlier versions: N(0, I); a model built without `prior=` says so in a
            `FutureWarning`).
        refit_prior_after_fit: bool. Whether `fit` ends by refitting a prior that can be
            refit (`prior.can_refit`: a `MixturePrior`) by EM to posterior draws of the
            training images (`refit_prior`, 3 draws per image, seeded with `seed`), when
            they are an in-memory array (less a `validation_split`) or a `tf.data` dataset
            of known, finite length; for a generator, an infinite dataset or training on
            several workers (each sees only its shard) `fit` warns and skips it. Every
            call of `fit` refits again (seconds, for the encoding and EM);
            `last_prior_refit` holds the result. Not for a conditional model, whose refit
            would need the labels. Files saved before the argument existed load with
            False. Defaults to `True`.
        seed: int or None. Seed of the sampling layer. Defaults to `None`.

    Example:
    <!-- skip: trains for minutes -->
    ```python
    vae = keras_vae.VAE(latent_dim=8, seed=1)  # a learned mixture prior, refit after fit
    vae.compile()
    vae.fit(x_train, epochs=15, validation_data=x_test)
    images = vae.sample(16, seed=0)
    textbook = keras_vae.VAE(latent_dim=8, prior="standard_normal", seed=1)  # N(0, I)
    ```
    """

    probabilistic = True
    loss_names = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(
        self,
        *args,
        beta=1.0,
        free_bits=0.0,
        prior=DEFAULT_PRIOR,
        refit_prior_after_fit=True,
        **kwargs,
    ):
        if not isinstance(beta, int | float) or isinstance(beta, bool) or beta < 0:
            raise ValueError(f"VAE expects `beta` as a float >= 0; got {beta!r}.")
        if not isinstance(free_bits, int | float) or isinstance(free_bits, bool) or free_bits < 0:
            raise ValueError(f"VAE expects `free_bits` as a float >= 0; got {free_bits!r}.")
        if not isinstance(refit_prior_after_fit, bool):
            raise ValueError(
                f"{type(self).__name__} expects `refit_prior_after_fit` as a bool; got"
                f" {refit_prior_after_fit!r}."
            )
        if prior is DEFAULT_PRIOR:
            _warn_default_changed()
        latent_dim = kwargs.get("latent_dim", args[2] if len(args) > 2 else 2)
        seed = kwargs.get("seed", args[7] if len(args) > 7 else None)
        prior = priors.get(prior, latent_dim, type(self).__name__, seed=seed)
        # Kept outside Keras's tracking until `build`, which runs inside the base constructor
        # and is the last moment a sub-layer may be added.
        object.__setattr__(self, "_prior_argument", prior)
        super().__init__(*args, **kwargs)
        self.beta = float(beta)
        self.free_bits = float(free_bits)
        self.refit_prior_after_fit = refit_prior_after_fit
        # What the refit at the end of the last `fit` gave (`refit_prior`'s dict), or None.
        self.last_prior_refit = None

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
        return _draws(z_mean, z_log_var, draws_per_image, seed)

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

    # The refit at the end of `fit` ------------------------------------------------------------

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        """Like `BaseAutoEncoder.fit`; then, with `refit_prior_after_fit` and a prior that can
        be refit, refits it to posterior draws of the training images (see the class docs)
        and keeps what `refit_prior` returned, with the images used, in `last_prior_refit`.
        """
        history = super().fit(x, y, validation_data=validation_data, **kwargs)
        self.last_prior_refit = None
        if self.refit_prior_after_fit and self.prior.can_refit and not self.is_conditional:
            split = kwargs.get("validation_split")
            self.last_prior_refit = self._refit_after_fit(x, split, history)
        return history

    def _refit_after_fit(self, x, validation_split, history):
        """`refit_prior` on the images `fit` trained on, or a warning saying why not."""
        owner = f"{type(self).__name__}.fit()"
        losses_seen = (history.history if history is not None else {}).get("loss") or [np.nan]
        if not np.isfinite(losses_seen[-1]):
            return _skip_refit(f"{owner} ended on a non-finite loss, so it kept the prior as it is")
        if distribution.is_multi_worker(self.distribute_strategy):
            # Each worker holds its own shard: refits there would leave the workers with
            # different priors. One worker's refit, saved and loaded by all, keeps them equal.
            return _skip_refit(
                f"{owner} trained on several workers, each of which sees only its shard"
            )
        if isinstance(x, tf.data.Dataset):
            length = int(x.cardinality())
            if length < 0:
                kind = "infinite" if length == tf.data.INFINITE_CARDINALITY else "of unknown length"
                return _skip_refit(f"{owner} trained on a dataset {kind}")
            codes = [self.encode(np.asarray(_batch_images(batch))) for batch in x]
            z_mean = np.concatenate([code[0] for code in codes])
            z_log_var = np.concatenate([code[1] for code in codes])
        elif isinstance(x, np.ndarray) or tf.is_tensor(x):
            images = np.asarray(x)
            if validation_split:
                # Keras holds out the last `validation_split` of the arrays.
                images = images[: int(len(images) * (1.0 - validation_split))]
            z_mean, z_log_var = self.encode(images)
        else:
            return _skip_refit(f"{owner} trained on a {type(x).__name__}, not an array or dataset")
        draws = _draws(z_mean, z_log_var, REFIT_DRAWS_PER_IMAGE, self.seed)
        if len(draws) < self.prior.num_components:
            return _skip_refit(
                f"{owner} saw {len(z_mean)} images, fewer than"
                f" num_components={self.prior.num_components} posterior draws"
            )
        start = time.perf_counter()
        result = self.prior.refit(draws, seed=self.seed)
        return {**result, "images": len(z_mean), "seconds": time.perf_counter() - start}

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
                "refit_prior_after_fit": self.refit_prior_after_fit,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # A saved `"prior": None`, or no key (files written before the argument existed), is
        # N(0, I), and files written before the refit at the end of `fit` existed fit without
        # it: a saved model loads as it was saved, whatever the constructor's defaults.
        return super().from_config({"prior": None, "refit_prior_after_fit": False, **config})


REFIT_DRAWS_PER_IMAGE = 3
# Whether this process was told of the new default prior (once: every model built without
# `prior=` would repeat it).
_default_change_told = False


def _warn_default_changed():
    global _default_change_told
    if not _default_change_told:
        _default_change_told = True
        warnings.warn(DEFAULT_CHANGED, FutureWarning, stacklevel=3)


def _draws(z_mean, z_log_var, draws_per_image, seed):
    """`draws_per_image` draws z ~ N(z_mean, exp(z_log_var)) of every code, float32: the
    first draw of every code, then the second, ..."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
            for _ in range(draws_per_image)
        ]
    ).astype("float32")


def _batch_images(batch):
    """The images of a dataset batch: the batch itself, or the first of `(images, ...)`."""
    return batch[0] if isinstance(batch, tuple | list) else batch


def _skip_refit(reason):
    warnings.warn(
        f"{reason}: the prior was not refit after training. Call"
        " `refit_prior(training_images)`, or pass `refit_prior_after_fit=False` to the model.",
        UserWarning,
        stacklevel=4,
    )
    return None
