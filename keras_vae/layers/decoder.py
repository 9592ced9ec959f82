"""The generative network: latent vectors -> the parameters of p(x | z)."""

import math

import keras

from keras_vae.layers.encoder import (
    check_architecture_args,
    check_depth,
    padding_for,
    resolve_conv_filters,
)
from keras_vae.layers.residual import ResidualBlock
from keras_vae.layers.upsampling import NearestUpsampling

UPSAMPLING = ("transpose", "resize")


@keras.saving.register_keras_serializable(package="keras_vae")
class Decoder(keras.layers.Layer):
    """Maps latent vectors `z` to the logits (or means) of the output distribution.

    The convolutional default mirrors `Encoder`: the `dense_units` layers, a dense projection
    to a small feature map, then one stride-2 upsampling block per entry of `conv_filters`
    and a final stride-1 convolution to the output channels. The output is unactivated: the
    model applies the sigmoid (Bernoulli) or uses it as the mean (Gaussian).

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        output_shape: tuple. Shape of one output image, without the batch axis. Defaults to
            `(28, 28, 1)`. With `"conv"`, a height or width that does not divide by
            `2 ** len(conv_filters)` is generated at the next multiple and cropped.
        architecture: str. `"conv"` or `"dense"`. Defaults to `"conv"`.
        conv_filters: `"auto"` or tuple of int. Filters of each upsampling block, from the
            smallest feature map up. Defaults to `"auto"`: the encoder's default widths in
            reverse (`(64, 32)` at 28x28, `(128, 128, 64, 32)` at 64x64).
        dense_units: tuple of int. Units of the hidden dense layers. Defaults to `(256,)`.
        kernel_size: int. Convolution kernel size. Defaults to `3`.
        activation: str. Hidden activation. Defaults to `"relu"`.
        upsampling: str. `"resize"` for nearest-neighbour upsampling (`NearestUpsampling`)
            followed by `Conv2D`, `"transpose"` for stride-2 `Conv2DTranspose`. Defaults to
            `"resize"`: in `benchmarks/likelihood.py` it reaches a lower test NLL, without the
            checkerboard artefacts of strided transposed convolutions, and avoids the known
            int8 accuracy problems of quantized `Conv2DTranspose` in TFLite (and the slow
            dynamic-range kernels of transposed convolutions); it costs about 1.5x the
            decoder's compute.
        residual: bool. A `ResidualBlock` after every upsampling block. Defaults to `False`.

    Example:
    ```python
    decoder = keras_vae.Decoder(latent_dim=16, output_shape=(32, 32, 3))
    logits = decoder(keras.random.normal((4, 16)))  # (4, 32, 32, 3)
    ```
    """

    # Longer than our 60-line habit on purpose: a Keras constructor reads as three blocks
    # (check and keep the arguments, create the layers per architecture, keep the config),
    # and splitting it would scatter the layers away from the arguments that shape them.
    def __init__(
        self,
        latent_dim=2,
        output_shape=(28, 28, 1),
        architecture="conv",
        conv_filters="auto",
        dense_units=(256,),
        kernel_size=3,
        activation="relu",
        upsampling="resize",
        residual=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_architecture_args(
            "Decoder", latent_dim, architecture, conv_filters, dense_units, output_shape
        )
        if upsampling not in UPSAMPLING:
            raise ValueError(f"Decoder expects `upsampling` in {UPSAMPLING}; got {upsampling!r}.")
        self.latent_dim = latent_dim
        self.image_shape = tuple(int(d) for d in output_shape)
        self.architecture = architecture
        self.conv_filters = resolve_conv_filters(
            "Decoder", conv_filters, self.image_shape, architecture, reverse=True
        )
        if architecture == "conv":
            check_depth("Decoder", self.conv_filters, self.image_shape, "output_shape")
        self.dense_units = tuple(int(u) for u in dense_units)
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.upsampling = upsampling
        self.residual = bool(residual)

        self.hidden_layers = [
            keras.layers.Dense(
                units, activation=activation, name=f"dense_{i}", dtype=self.dtype_policy
            )
            for i, units in enumerate(self.dense_units)
        ]
        if architecture == "dense":
            self.hidden_layers += [
                keras.layers.Dense(
                    math.prod(self.image_shape), name="logits_flat", dtype=self.dtype_policy
                ),
                keras.layers.Reshape(self.image_shape, name="logits", dtype=self.dtype_policy),
            ]
            return
        height, width, channels = self.image_shape
        factor = 2 ** len(self.conv_filters)
        rows, columns = padding_for(self.image_shape, len(self.conv_filters))
        height, width = height + rows, width + columns
        base = (height // factor, width // factor, self.conv_filters[0])
        self.hidden_layers += [
            keras.layers.Dense(
                math.prod(base), activation=activation, name="project", dtype=self.dtype_policy
            ),
            keras.layers.Reshape(base, name="feature_map", dtype=self.dtype_policy),
        ]
        for i, filters in enumerate(self.conv_filters):
            if upsampling == "transpose":
                self.hidden_layers.append(
                    keras.layers.Conv2DTranspose(
                        filters,
                        self.kernel_size,
                        strides=2,
                        padding="same",
                        activation=activation,
                        name=f"deconv_{i}",
                        dtype=self.dtype_policy,
                    )
                )
            else:
                self.hidden_layers += [
                    NearestUpsampling(2, name=f"upsample_{i}", dtype=self.dtype_policy),
                    keras.layers.Conv2D(
                        filters,
                        self.kernel_size,
                        padding="same",
                        activation=activation,
                        name=f"conv_{i}",
                        dtype=self.dtype_policy,
                    ),
                ]
            if self.residual:
                self.hidden_layers.append(
                    ResidualBlock(
                        filters,
                        self.kernel_size,
                        activation,
                        name=f"residual_{i}",
                        dtype=self.dtype_policy,
                    )
                )
        self.hidden_layers.append(
            keras.layers.Conv2D(
                channels, self.kernel_size, padding="same", name="logits", dtype=self.dtype_policy
            )
        )
        if rows or columns:
            self.hidden_layers.append(
                keras.layers.Cropping2D(
                    ((0, rows), (0, columns)), name="crop", dtype=self.dtype_policy
                )
            )

    def build(self, input_shape=None):
        shape = (None, self.latent_dim)
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, inputs):
        x = inputs
        for layer in self.hidden_layers:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "output_shape": self.image_shape,
                "architecture": self.architecture,
                "conv_filters": self.conv_filters,
                "dense_units": self.dense_units,
                "kernel_size": self.kernel_size,
                "activation": self.activation,
                "upsampling": self.upsampling,
                "residual": self.residual,
            }
        )
        return config
