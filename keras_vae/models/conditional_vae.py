"""The conditional VAE: a VAE whose encoder and decoder also see the class label."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import validation
from keras_vae.layers.decoder import Decoder
from keras_vae.layers.encoder import Encoder, check_depth, default_conv_filters, padding_for
from keras_vae.layers.upsampling import NearestUpsampling
from keras_vae.models import network_checks
from keras_vae.models.base import as_float32
from keras_vae.models.vae import VAE


def conditional_encoder(
    latent_dim,
    input_shape,
    num_classes,
    architecture="conv",
    dtype=None,
    label_injection="every_block",
):
    """The default encoder of `ConditionalVAE`: `[images, one_hot] -> (z_mean, z_log_var)`.

    For `"conv"` a dense layer maps the label to an extra image channel (a learned label map)
    before the convolutional `Encoder`; for `"dense"` the flattened image and the one-hot
    label are concatenated. With `label_injection="every_block"` the code is then shifted and
    scaled per class (`z_mean * exp(s_y) + b_y`, `z_log_var + 2 s_y`, starting as the
    identity), so each digit's codes can be centred on the prior on their own. `dtype` is the
    layers' dtype policy (e.g. `"mixed_bfloat16"`).
    """
    _check_label_injection(label_injection, "conditional_encoder()")
    images = keras.Input(input_shape, name="images")
    labels = keras.Input((num_classes,), name="labels")
    if architecture == "conv":
        height, width, channels = input_shape
        label_map = keras.layers.Dense(height * width, name="label_map", dtype=dtype)(labels)
        label_map = keras.layers.Reshape((height, width, 1), name="label_channel", dtype=dtype)(
            label_map
        )
        joined = keras.layers.Concatenate(axis=-1, name="join", dtype=dtype)([images, label_map])
        body_shape = (height, width, channels + 1)
    else:
        flat = keras.layers.Flatten(name="flatten", dtype=dtype)(images)
        joined = keras.layers.Concatenate(name="join", dtype=dtype)([flat, labels])
        body_shape = (math.prod(input_shape) + num_classes,)
    z_mean, z_log_var = Encoder(
        latent_dim=latent_dim,
        input_shape=body_shape,
        architecture=architecture,
        name="body",
        dtype=dtype,
    )(joined)
    if label_injection == "every_block":
        z_mean, z_log_var = _per_class_affine(z_mean, z_log_var, labels, latent_dim, dtype)
    return keras.Model([images, labels], [z_mean, z_log_var], name="encoder")


def _per_class_affine(z_mean, z_log_var, labels, latent_dim, dtype):
    """`z_mean * exp(s_y) + b_y` and `z_log_var + 2 s_y`: a dense layer without bias on the
    one-hot label is a lookup of the class's `s_y` and `b_y`; both start at zero."""

    def lookup(name):
        return keras.layers.Dense(
            latent_dim, use_bias=False, kernel_initializer="zeros", name=name, dtype=dtype
        )(labels)

    log_scale, shift = lookup("label_log_scale"), lookup("label_shift")
    scale = keras.layers.Activation("exponential", name="label_scale", dtype=dtype)(log_scale)
    scaled = keras.layers.Multiply(name="scaled_mean", dtype=dtype)([z_mean, scale])
    z_mean = keras.layers.Add(name="z_mean", dtype=dtype)([scaled, shift])
    double = keras.layers.Rescaling(2.0, name="label_log_variance", dtype=dtype)(log_scale)
    z_log_var = keras.layers.Add(name="z_log_var", dtype=dtype)([z_log_var, double])
    return z_mean, z_log_var


LABEL_INJECTIONS = ("every_block", "input")
# The default networks' shape: those of `Decoder`'s defaults (the widths follow the image
# size, `default_conv_filters`, reversed: (64, 32) at 28x28).
DECODER_DENSE_UNITS = (256,)
DECODER_KERNEL_SIZE = 3


def _check_label_injection(label_injection, owner):
    if label_injection not in LABEL_INJECTIONS:
        raise ValueError(
            f"{owner} expects `label_injection` in {LABEL_INJECTIONS}; got {label_injection!r}."
        )


def _label_map(labels, height, width, name, dtype):
    """The one-hot label repeated at every pixel: `(None, height, width, num_classes)`."""
    num_classes = labels.shape[-1]
    tiled = keras.layers.RepeatVector(height * width, name=f"{name}_repeat", dtype=dtype)(labels)
    return keras.layers.Reshape((height, width, num_classes), name=f"{name}_map", dtype=dtype)(
        tiled
    )


def _decoder_with_label_in_every_block(z, labels, output_shape, architecture, dtype):
    """The layers of `Decoder`'s default shape, with the one-hot label concatenated to the input
    of every block (each dense layer, the projection and each convolution), so no block can
    lose the label on the way to the pixels."""
    x = keras.layers.Concatenate(name="join", dtype=dtype)([z, labels])
    for i, units in enumerate(DECODER_DENSE_UNITS):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}", dtype=dtype)(x)
        x = keras.layers.Concatenate(name=f"join_dense_{i}", dtype=dtype)([x, labels])
    if architecture == "dense":
        flat = keras.layers.Dense(math.prod(output_shape), name="logits_flat", dtype=dtype)(x)
        return keras.layers.Reshape(output_shape, name="logits", dtype=dtype)(flat)
    height, width, channels = output_shape
    conv_filters = tuple(reversed(default_conv_filters(output_shape)))
    check_depth("conditional_decoder()", conv_filters, output_shape, "output_shape")
    rows, columns = padding_for(output_shape, len(conv_filters))
    factor = 2 ** len(conv_filters)
    height, width = (height + rows) // factor, (width + columns) // factor
    base = (height, width, conv_filters[0])
    x = keras.layers.Dense(math.prod(base), activation="relu", name="project", dtype=dtype)(x)
    x = keras.layers.Reshape(base, name="feature_map", dtype=dtype)(x)
    for i, filters in enumerate(conv_filters):
        height, width = 2 * height, 2 * width
        x = NearestUpsampling(2, name=f"upsample_{i}", dtype=dtype)(x)
        x = keras.layers.Concatenate(name=f"join_conv_{i}", dtype=dtype)(
            [x, _label_map(labels, height, width, f"label_{i}", dtype)]
        )
        x = keras.layers.Conv2D(
            filters,
            DECODER_KERNEL_SIZE,
            padding="same",
            activation="relu",
            name=f"conv_{i}",
            dtype=dtype,
        )(x)
    x = keras.layers.Concatenate(name="join_logits", dtype=dtype)(
        [x, _label_map(labels, height, width, "label_logits", dtype)]
    )
    logits = keras.layers.Conv2D(
        channels, DECODER_KERNEL_SIZE, padding="same", name="logits", dtype=dtype
    )(x)
    if rows or columns:
        logits = keras.layers.Cropping2D(((0, rows), (0, columns)), name="crop", dtype=dtype)(
            logits
        )
    return logits


def conditional_decoder(
    latent_dim,
    output_shape,
    num_classes,
    architecture="conv",
    dtype=None,
    label_injection="every_block",
):
    """The default decoder of `ConditionalVAE`: `[z, one_hot] -> logits`. A functional model
    with two named inputs (`z`, `labels`), so it can be exported on its own.

    `label_injection="every_block"` concatenates the label to the input of every block (a
    label map at every convolution); `"input"` concatenates it to z only, before a `Decoder`.
    `dtype` is the layers' dtype policy.
    """
    _check_label_injection(label_injection, "conditional_decoder()")
    output_shape = tuple(int(d) for d in output_shape)
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((num_classes,), name="labels")
    if label_injection == "every_block":
        logits = _decoder_with_label_in_every_block(z, labels, output_shape, architecture, dtype)
    else:
        joined = keras.layers.Concatenate(name="join", dtype=dtype)([z, labels])
        logits = Decoder(
            latent_dim=latent_dim + num_classes,
            output_shape=output_shape,
            architecture=architecture,
            name="body",
            dtype=dtype,
        )(joined)
    return keras.Model([z, labels], logits, name="decoder")


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalVAE(VAE):
    """A VAE conditioned on a class label: q(z | x, y) and p(x | z, y) (Sohn et al., 2015).

    Both networks take the label as a one-hot vector next to their usual input, so the
    latent code is free to describe style (slant, thickness) while the label says which
    digit: `sample(n, labels=7)` draws z from the prior and decodes a 7. Training takes
    `(images, labels)` pairs: `fit(x, y)` with arrays, or a `tf.data` dataset of pairs;
    labels are ints in `[0, num_classes)` or one-hot rows. The objective, `beta`,
    `kl_weight` and `free_bits` are those of `VAE`.

    For export, `decoder` is a functional model with inputs `[z (None, latent_dim),
    labels (None, num_classes)]` and logits (Bernoulli) as output; apply a sigmoid for
    pixel probabilities.

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
        label_injection: str. How deep the label reaches the default networks:
            `"every_block"` (the decoder gets it at the input of every dense layer and, as a
            label map, of every convolution; the encoder's code is shifted and scaled per
            class) or `"input"` (the decoder gets it beside z only, the encoder as an extra
            input channel: the networks of files saved before this argument existed). With
            `"input"` a code of more than a few dimensions carries the digit too and the
            label is partly ignored; `"every_block"` makes the requested digit come out more
            often (`benchmarks/conditional.py`, in the README). Defaults to `"every_block"`.
        **kwargs: the other arguments of `VAE` (`beta`, `likelihood`, `gaussian_variance`,
            `free_bits`, `seed`).

    Example:
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
        label_injection="every_block",
        **kwargs,
    ):
        _check_label_injection(label_injection, "ConditionalVAE")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                f"ConditionalVAE expects `num_classes` as an int >= 2; got {num_classes!r}."
            )
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(
                f"ConditionalVAE expects `latent_dim` as an int >= 1; got {latent_dim!r}."
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
            **kwargs,
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
        return self.elbo_terms(images, decoded, z_mean, z_log_var, z=z)

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

    def sample(self, n, labels=None, seed=None, sampler=None):
        """Decodes `n` latent draws as the requested digits.

        `labels` is an int (all `n` of that class), a sequence of `n` labels, or None
        (classes in turn: 0, 1, ..., num_classes - 1, 0, ...). The latent vectors come from
        `sampler` when given (a `keras_vae.samplers` sampler), else from the prior N(0, I).
        """
        n = validation.check_positive_int(n, "n", f"{type(self).__name__}.sample()")
        if labels is None:
            labels = np.arange(n) % self.num_classes
        return self.decode(self.sample_latents(n, seed=seed, sampler=sampler), labels)

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
        return super().from_config({"label_injection": "input", **config})
