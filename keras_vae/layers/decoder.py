"""The generative network: latent vectors -> the parameters of p(x | z)."""

import math

import keras

from keras_vae.layers.encoder import checked_network_shape, dense_layers, padding_for
from keras_vae.layers.residual import ResidualBlock
from keras_vae.layers.upsampling import NearestUpsampling

UPSAMPLING = ("transpose", "resize")


def _dense_output_layers(image_shape, dtype) -> list:
    """The dense architecture's output: one `Dense` to every pixel, reshaped to the image."""
    return [
        keras.layers.Dense(math.prod(image_shape), name="logits_flat", dtype=dtype),
        keras.layers.Reshape(image_shape, name="logits", dtype=dtype),
    ]


def _upsampling_layers(
    image_shape, conv_filters, kernel_size, activation, upsampling, residual, dtype
) -> list:
    """The convolutional decoder after the dense layers: a projection to the smallest feature
    map, one stride-2 upsampling block per entry of `conv_filters` (and a `ResidualBlock`),
    the output convolution, and a crop where the image was generated at a larger size."""
    height, width, channels = image_shape
    factor = 2 ** len(conv_filters)
    rows, columns = padding_for(image_shape, len(conv_filters))
    base = ((height + rows) // factor, (width + columns) // factor, conv_filters[0])
    layers = [
        keras.layers.Dense(math.prod(base), activation=activation, name="project", dtype=dtype),
        keras.layers.Reshape(base, name="feature_map", dtype=dtype),
    ]
    for i, filters in enumerate(conv_filters):
        layers += _upsampling_block(i, filters, kernel_size, activation, upsampling, dtype)
        if residual:
            layers.append(
                ResidualBlock(filters, kernel_size, activation, name=f"residual_{i}", dtype=dtype)
            )
    layers.append(
        keras.layers.Conv2D(channels, kernel_size, padding="same", name="logits", dtype=dtype)
    )
    if rows or columns:
        layers.append(keras.layers.Cropping2D(((0, rows), (0, columns)), name="crop", dtype=dtype))
    return layers


def _upsampling_block(index, filters, kernel_size, activation, upsampling, dtype) -> list:
    """One doubling of the feature map: `Conv2DTranspose` (`deconv_<i>`) or nearest
    upsampling and `Conv2D` (`upsample_<i>`, `conv_<i>`); the names are the weight paths."""
    if upsampling == "transpose":
        return [
            keras.layers.Conv2DTranspose(
                filters,
                kernel_size,
                strides=2,
                padding="same",
                activation=activation,
                name=f"deconv_{index}",
                dtype=dtype,
            )
        ]
    return [
        NearestUpsampling(2, name=f"upsample_{index}", dtype=dtype),
        keras.layers.Conv2D(
            filters,
            kernel_size,
            padding="same",
            activation=activation,
            name=f"conv_{index}",
            dtype=dtype,
        ),
    ]


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
        image_shape, conv_filters = checked_network_shape(
            "Decoder",
            latent_dim,
            output_shape,
            architecture,
            conv_filters,
            dense_units,
            argument="output_shape",
            reverse=True,
        )
        if upsampling not in UPSAMPLING:
            raise ValueError(f"Decoder expects `upsampling` in {UPSAMPLING}; got {upsampling!r}.")

        # === Layers === (the wiring is `call`: the hidden layers in order)
        dtype = self.dtype_policy
        self.hidden_layers = dense_layers(dense_units, activation, dtype)
        if architecture == "dense":
            self.hidden_layers += _dense_output_layers(image_shape, dtype)
        else:
            self.hidden_layers += _upsampling_layers(
                image_shape,
                conv_filters,
                int(kernel_size),
                activation,
                upsampling,
                bool(residual),
                dtype,
            )

        # === Config ===
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.architecture = architecture
        self.conv_filters = conv_filters
        self.dense_units = tuple(int(u) for u in dense_units)
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.upsampling = upsampling
        self.residual = bool(residual)

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
