"""The default networks of `ConditionalVAE`: an encoder and a decoder that see the label."""

import math

import keras

from keras_vae.layers.decoder import Decoder
from keras_vae.layers.encoder import Encoder, check_depth, default_conv_filters, padding_for
from keras_vae.layers.upsampling import NearestUpsampling


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
    check_label_injection(label_injection, "conditional_encoder()")
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
DEFAULT_LABEL_INJECTION = "input"
# The default networks' shape: those of `Decoder`'s defaults (the widths follow the image
# size, `default_conv_filters`, reversed: (64, 32) at 28x28).
DECODER_DENSE_UNITS = (256,)
DECODER_KERNEL_SIZE = 3


def check_label_injection(label_injection, owner):
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
    check_label_injection(label_injection, "conditional_decoder()")
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
