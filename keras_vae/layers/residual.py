"""A residual block for the convolutional networks: two convolutions and a skip connection."""

import keras


@keras.saving.register_keras_serializable(package="keras_vae")
class ResidualBlock(keras.layers.Layer):
    """`activation(x + conv_b(activation(conv_a(x))))`, at the input's resolution and width.

    Deeper networks for larger images train more easily when each block only has to learn a
    correction to its input (He et al., 2016). `Encoder(residual=True)` puts one after every
    strided convolution, `Decoder(residual=True)` one after every upsampling convolution.
    Only builtin ops (convolutions, an add), so decoders that use it still export to TFLite.

    Args:
        filters: int. Channels of the input and of the output.
        kernel_size: int. Size of both convolutions. Defaults to `3`.
        activation: str. Defaults to `"relu"`.
    """

    def __init__(self, filters, kernel_size=3, activation="relu", **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError(f"ResidualBlock expects `filters` as an int >= 1; got {filters!r}.")
        self.filters = filters
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.activation_fn = keras.activations.get(activation)
        self.conv_a, self.conv_b = (
            keras.layers.Conv2D(
                filters, self.kernel_size, padding="same", name=name, dtype=self.dtype_policy
            )
            for name in ("conv_a", "conv_b")
        )

    def build(self, input_shape):
        if input_shape[-1] != self.filters:
            raise ValueError(
                f"ResidualBlock expects inputs with {self.filters} channels (its `filters`);"
                f" got shape {tuple(input_shape)}."
            )
        self.conv_a.build(input_shape)
        self.conv_b.build(input_shape)
        self.built = True

    def call(self, inputs):
        correction = self.conv_b(self.activation_fn(self.conv_a(inputs)))
        return self.activation_fn(inputs + correction)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "activation": self.activation,
            }
        )
        return config
