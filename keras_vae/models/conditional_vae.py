"""The conditional VAE: a VAE whose encoder and decoder also see the class label."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import validation
from keras_vae.layers.class_prior import ClassConditionalPrior
from keras_vae.models import network_checks
from keras_vae.models.base import as_float32
from keras_vae.models.conditional_networks import (
    DEFAULT_LABEL_INJECTION,
    check_label_injection,
    conditional_decoder,
    conditional_encoder,
)
from keras_vae.models.vae import VAE

# The default prior's Gaussians per class (`ClassConditionalPrior`): a mixture for codes of
# more than SMALL_CODE dimensions, which carry the digit as well as the style (with one
# Gaussian per class a latent-16 model followed its label only 90.5% of the time); one
# Gaussian for smaller codes, which leave the digit to the label: there the KL term is in
# closed form, and over four seeds at latent 2 the test NLL was 0.58 nats better than with
# ten and 0.43 better than with N(0, I) (`benchmarks/conditional.py`, in the README).
CLASS_PRIOR_COMPONENTS = 10
SMALL_CODE = 2


def default_class_prior_components(latent_dim):
    """Gaussians per class of `ConditionalVAE`'s default prior for a code of `latent_dim`."""
    return 1 if latent_dim <= SMALL_CODE else CLASS_PRIOR_COMPONENTS


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalVAE(VAE):
    """A VAE conditioned on a class label: q(z | x, y) and p(x | z, y) (Sohn et al., 2015).

    Both networks take the label as a one-hot vector next to their usual input, and the
    prior is learned per class, p(z | y) (`ClassConditionalPrior`): `sample(n, labels=7)`
    draws z from p(z | y = 7) and decodes a 7. A code of more than a few dimensions carries
    the digit as well as the style (slant, thickness), so with the prior N(0, I) a draw
    lands where another digit's codes are and the label is partly ignored; with a prior per
    class the draw lands where the requested digit's codes are, so code and label agree
    (`benchmarks/conditional.py`, in the README). Training takes `(images, labels)` pairs:
    `fit(x, y)` with arrays, or a `tf.data` dataset of pairs; labels are ints in
    `[0, num_classes)` or one-hot rows. The objective, `beta` and `kl_weight` are those of
    `VAE`.

    For export, `decoder` is a functional model with inputs `[z (None, latent_dim),
    labels (None, num_classes)]` and logits (Bernoulli) as output; apply a sigmoid for
    pixel probabilities. Latents for it come from `prior_latents(n, labels=...)`.

    Args:
        encoder: keras Layer or Model, or None. Maps `[images, one_hot]` to
            `(z_mean, z_log_var)`. Defaults to `conditional_encoder(...)`.
        decoder: keras Layer or Model, or None. Maps `[z, one_hot]` to logits or means.
            Defaults to `conditional_decoder(...)`.
        num_classes: int >= 2. Number of labels. Defaults to `10`.
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"` for the default networks. Defaults to
            `"conv"`.
        label_injection: str. How deep the label reaches the default networks: `"input"`
            (the decoder gets it beside z, the encoder as an extra input channel) or
            `"every_block"` (the decoder gets it at the input of every dense layer and, as a
            label map, of every convolution; the encoder's code is shifted and scaled per
            class). With the prior per class `"input"` follows the label as often and gives
            the better likelihood. Defaults to `"input"`.
        prior: `"class_conditional"`, None or a prior layer. `"class_conditional"` is a
            `ClassConditionalPrior` seeded with `seed`, of one Gaussian per class for a code
            of up to 2 dimensions and `CLASS_PRIOR_COMPONENTS` (10) for a larger one; None
            (or `"standard_normal"`) the prior N(0, I); or a `ClassConditionalPrior` or
            `MixturePrior` of your own. Files saved before this
            argument existed load with N(0, I). Defaults to `"class_conditional"`.
        **kwargs: the other arguments of `VAE` (`beta`, `likelihood`, `gaussian_variance`,
            `free_bits`, `seed`).

    Example:
    <!-- skip: trains for minutes -->
    ```python
    cvae = keras_vae.ConditionalVAE(num_classes=10, latent_dim=2, seed=1)
    cvae.compile()
    cvae.fit(x_train, y_train, epochs=10)
    sevens = cvae.sample(16, labels=7, seed=0)
    ```
    """

    def __init__(
        self,
        encoder=None,
        decoder=None,
        num_classes=10,
        latent_dim=2,
        input_shape=(28, 28, 1),
        architecture="conv",
        label_injection=DEFAULT_LABEL_INJECTION,
        prior="class_conditional",
        **kwargs,
    ):
        check_label_injection(label_injection, "ConditionalVAE")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                f"ConditionalVAE expects `num_classes` as an int >= 2; got {num_classes!r}."
            )
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(
                f"ConditionalVAE expects `latent_dim` as an int >= 1; got {latent_dim!r}."
            )
        if isinstance(prior, str) and prior == "class_conditional":
            prior = ClassConditionalPrior(
                latent_dim,
                num_classes,
                num_components=default_class_prior_components(latent_dim),
                seed=kwargs.get("seed"),
            )
        input_shape = tuple(int(d) for d in input_shape)
        # The policy the base constructor will take from `dtype` (or the global one).
        policy = keras.dtype_policies.get(kwargs.get("dtype"))
        if encoder is None:
            encoder = conditional_encoder(
                latent_dim,
                input_shape,
                num_classes,
                architecture,
                dtype=policy,
                label_injection=label_injection,
            )
        if decoder is None:
            decoder = conditional_decoder(
                latent_dim,
                input_shape,
                num_classes,
                architecture,
                dtype=policy,
                label_injection=label_injection,
            )
        # Set before the base constructor, which probes the networks through `network_probes`.
        self.num_classes = num_classes
        self.label_injection = label_injection
        super().__init__(
            encoder=encoder,
            decoder=decoder,
            latent_dim=latent_dim,
            input_shape=input_shape,
            architecture=architecture,
            prior=prior,
            **kwargs,
        )
        if isinstance(self.prior, ClassConditionalPrior) and self.prior.num_classes != num_classes:
            raise ValueError(
                f"ConditionalVAE expects a `prior` of num_classes {num_classes} (the model's);"
                f" got a ClassConditionalPrior of num_classes {self.prior.num_classes}."
            )

    # Construction -------------------------------------------------------------------------

    def network_probes(self):
        one_hot = ops.zeros((1, self.num_classes))
        return (
            [ops.zeros((1, *self.image_shape)), one_hot],
            [ops.zeros((1, self.latent_dim)), one_hot],
            "[images, one_hot]",
            "[z, one_hot]",
        )

    # The model contract (see BaseAutoEncoder) -------------------------------------------

    @property
    def is_conditional(self) -> bool:
        return True

    def condition_from_labels(self, labels, n=None, method="condition_from_labels"):
        """One-hot float32 rows `(n, num_classes)` for `labels`: ints in `[0, num_classes)`,
        one-hot rows, or one int for all `n` examples. `n`, when given, is the number of
        examples the labels must match."""
        if labels is None:
            raise ValueError(
                f"{type(self).__name__}.{method}() needs `labels` (one per example); got None."
            )
        if isinstance(labels, int | np.integer) and not isinstance(labels, bool):
            if n is None:
                raise ValueError(
                    f"{type(self).__name__}.{method}() needs the number of examples `n` to"
                    f" repeat the single label {labels}; got n=None."
                )
            labels = np.full(n, int(labels))
        return self.one_hot_labels(labels, "labels", method, expected_count=n)

    def _check_condition(self, condition, method):
        if condition is None:
            raise ValueError(
                f"{type(self).__name__}.{method}() needs `condition`, one-hot rows (n,"
                f" {self.num_classes}) (see `condition_from_labels`); got None."
            )

    def encode_tensors(self, x, condition=None, training=False):
        """`(z_mean, z_log_var)` of images `x` given one-hot `condition`, as float32 tensors."""
        self._check_condition(condition, "encode_tensors")
        encoded = self.encoder([x, condition], training=training)
        return as_float32(network_checks.posterior_outputs(self, encoded))

    def decode_tensors(self, z, condition=None, training=False):
        """The decoder's logits (or means) for `z` given one-hot `condition`, float32."""
        self._check_condition(condition, "decode_tensors")
        return as_float32(self.decoder([z, condition], training=training))

    # Labels -------------------------------------------------------------------------------

    def one_hot_labels(self, labels, name="labels", method="fit", expected_count=None):
        """Checks labels (ints in `[0, num_classes)` or one-hot rows) and returns one-hot
        float32 rows `(n, num_classes)`."""
        owner = f"{type(self).__name__}.{method}()"
        array = np.asarray(labels)
        if array.ndim == 1 and (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
            if (
                array.dtype == bool
                or array.min(initial=0) < 0
                or array.max(initial=0) >= self.num_classes
            ):
                raise ValueError(
                    f"{owner} expects `{name}` as ints in [0, {self.num_classes}); got values in"
                    f" [{array.min()}, {array.max()}]."
                )
            one_hot = np.eye(self.num_classes, dtype="float32")[array]
        elif (
            array.ndim == 2
            and array.shape[1] == self.num_classes
            and np.issubdtype(array.dtype, np.number)
        ):
            one_hot = array.astype("float32")
        else:
            raise ValueError(
                f"{owner} expects `{name}` as ints (n,) in [0, {self.num_classes}) or one-hot"
                f" rows (n, {self.num_classes}); got shape {array.shape} and dtype {array.dtype}."
            )
        if expected_count is not None and len(one_hot) != expected_count:
            raise ValueError(
                f"{owner} expects one label per example in `{name}`; got {len(one_hot)} labels"
                f" for {expected_count} examples."
            )
        return one_hot

    def _symbolic_one_hot(self, y):
        y = tf.convert_to_tensor(y)
        if y.shape.rank == 1 or (y.shape.rank == 2 and y.shape[-1] == 1 and self.num_classes != 1):
            return tf.one_hot(tf.cast(tf.reshape(y, (-1,)), "int32"), self.num_classes)
        if y.shape.rank == 2 and y.shape[-1] == self.num_classes:
            return tf.cast(y, "float32")
        raise ValueError(
            f"{type(self).__name__}.fit() expects labels as ints (None,) or one-hot rows (None,"
            f" {self.num_classes}); got shape {tuple(y.shape)}."
        )

    # Training -----------------------------------------------------------------------------

    def _images_from_batch(self, data):
        # The base train_step hands this pair straight to `compute_losses`.
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.check_symbolic_images(x, "fit")
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.fit() needs labels: pass `fit(x, y)` or a dataset of"
                " (images, labels) pairs."
            )
        return x, self._symbolic_one_hot(y)

    def compute_losses(self, x, training=False):
        """The VAE objective on `x = (images, one_hot)`; see `VAE.elbo_terms`."""
        images, one_hot = x
        z_mean, z_log_var = self.encode_tensors(images, one_hot, training=training)
        z = self.sampling([z_mean, z_log_var])
        decoded = self.decode_tensors(z, one_hot, training=training)
        return self.elbo_terms(images, decoded, z_mean, z_log_var, z=z, condition=one_hot)

    def _with_labels(self, x, y, name):
        if x is None or isinstance(x, tf.data.Dataset | keras.utils.PyDataset):
            return x, y
        x = self.check_images(x, name, "fit")
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.fit() needs labels `y` for `{name}` (one per image)."
            )
        return x, self.one_hot_labels(y, "y", "fit", expected_count=len(x))

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        """Like `VAE.fit`, with labels: `fit(x, y)` for arrays, or a dataset of pairs."""
        x, y = self._with_labels(x, y, "x")
        if isinstance(validation_data, list | tuple):
            if len(validation_data) < 2:
                raise ValueError(
                    f"{type(self).__name__}.fit() expects `validation_data` as (images, labels)."
                )
            validation_data = self._with_labels(*validation_data[:2], "validation_data")
        return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        x, y = self._with_labels(x, y, "x")
        return keras.Model.evaluate(self, x, y, **kwargs)

    def call(self, inputs, training=False):
        images, one_hot = inputs
        z_mean, z_log_var = self.encode_tensors(images, one_hot, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.output_mean(self.decode_tensors(z, one_hot, training=training))

    # Numpy-facing methods -------------------------------------------------------------------

    def encode(self, x, labels=None, batch_size=256):
        """Encodes images with their labels to `(z_mean, z_log_var)`, each `(n, d)`."""
        x = self.check_images(x)
        one_hot = self.condition_from_labels(labels, len(x), "encode")
        return self._batched(
            lambda idx: tuple(
                ops.convert_to_numpy(t) for t in self.encode_tensors(x[idx], one_hot[idx])
            ),
            np.arange(len(x)),
            batch_size,
            "encode",
        )

    def decode(self, z, labels=None, batch_size=256):
        """Decodes latent vectors with labels (an int for all, or one per row) to images."""
        z = self.check_latents(z)
        one_hot = self.condition_from_labels(labels, len(z), "decode")
        return self._batched(
            lambda idx: ops.convert_to_numpy(
                self.output_mean(self.decode_tensors(z[idx], one_hot[idx]))
            ),
            np.arange(len(z)),
            batch_size,
            "decode",
        )

    def reconstruct(self, x, labels=None, batch_size=256):
        """Decodes the posterior mean of each image given its label."""
        z_mean, _ = self.encode(x, labels, batch_size)
        return self.decode(z_mean, labels, batch_size)

    def sample(self, n, labels=None, seed=None, sampler=None, temperature=1.0):
        """Decodes `n` latent draws as the requested digits.

        `labels` is an int (all `n` of that class), a sequence of `n` labels, or None
        (classes in turn: 0, 1, ..., num_classes - 1, 0, ...). The latent vectors come from
        `sampler` when given (a `keras_vae.samplers` sampler), else from the prior N(0, I).
        """
        n = validation.check_positive_int(n, "n", f"{type(self).__name__}.sample()")
        if labels is None:
            labels = np.arange(n) % self.num_classes
        if sampler is None:
            latents = self.prior_latents(n, seed=seed, labels=labels, temperature=temperature)
            return self.decode(latents, labels)
        if temperature != 1.0:
            raise ValueError(
                f"{type(self).__name__}.sample() scales the prior by `temperature`; with a"
                f" `sampler` set its own temperature instead (got temperature={temperature!r})."
            )
        return self.decode(self.sample_latents(n, seed=seed, sampler=sampler), labels)

    # The prior ----------------------------------------------------------------------------

    def prior_latents(self, n, seed=None, labels=None, temperature=1.0):
        """Draws `n` latent vectors from the model's prior; with a `ClassConditionalPrior`,
        from p(z | y) for `labels` (an int for all, one per row, or None for the classes in
        turn). `temperature` scales the prior's standard deviations; `seed` makes the draw
        repeatable."""
        from keras_vae.samplers.base import check_temperature

        owner = f"{type(self).__name__}.sample()"
        temperature = check_temperature(temperature, owner)
        if not isinstance(self.prior, ClassConditionalPrior):
            if temperature == 1.0:
                return super().prior_latents(n, seed=seed)
            return self.sample_latents(n, seed=seed, sampler=self.prior_sampler(temperature))
        n = validation.check_positive_int(n, "n", owner)
        if labels is None:
            labels = np.arange(n) % self.num_classes
        one_hot = self.condition_from_labels(labels, n, "sample")
        generator = keras.random.SeedGenerator(seed) if seed is not None else None
        generator = generator or self.sampling.seed_generator
        means, log_vars, log_weights = self.prior.class_parameters(ops.convert_to_tensor(one_hot))
        component = keras.random.categorical(log_weights, 1, seed=generator)
        index = ops.reshape(component, (n, 1, 1))
        mean = ops.take_along_axis(means, index, axis=1)[:, 0]
        log_var = ops.take_along_axis(log_vars, index, axis=1)[:, 0]
        noise = keras.random.normal((n, self.latent_dim), dtype="float32", seed=generator)
        return ops.convert_to_numpy(mean + temperature * ops.exp(0.5 * log_var) * noise)

    def prior_sampler(self, temperature=1.0, label=None):
        """The model's prior as a sampler (see `VAE.prior_sampler`); with a
        `ClassConditionalPrior`, the prior of class `label` (an int), a
        `GaussianMixtureSampler` whose draws are decoded with that label."""
        if not isinstance(self.prior, ClassConditionalPrior):
            return super().prior_sampler(temperature)
        from keras_vae.samplers import GaussianMixtureSampler
        from keras_vae.samplers.base import check_temperature

        owner = f"{type(self).__name__}.prior_sampler()"
        temperature = check_temperature(temperature, owner)
        if isinstance(label, np.integer):
            label = int(label)
        if isinstance(label, bool) or not isinstance(label, int):
            raise ValueError(
                f"{owner} needs `label`, the class whose prior p(z | y) to draw from (an int in"
                f" [0, {self.num_classes})), with a ClassConditionalPrior; got {label!r}."
            )
        means, scales, weights = self.prior.component_parameters(label)
        scale_tril = temperature * scales[:, :, None] * np.eye(self.latent_dim, dtype="float32")
        return GaussianMixtureSampler(means, scale_tril, weights / weights.sum())

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        config["label_injection"] = self.label_injection
        return config

    @classmethod
    def from_config(cls, config):
        # Files saved before `label_injection` existed hold decoders that see the label at
        # their input only; the key then describes those stored networks (which load as
        # saved either way: the networks come from the file, not from this key).
        # Likewise files saved before `prior` existed hold a model of the prior N(0, I).
        return super().from_config({"label_injection": "input", "prior": None, **config})
