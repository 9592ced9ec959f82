"""The inference network: images -> the parameters of q(z | x)."""

import keras

ARCHITECTURES = ("conv", "dense")


def check_architecture_args(owner, latent_dim, architecture, conv_filters, dense_units, shape):
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"{owner} expects `latent_dim` as an int >= 1; got {latent_dim!r}.")
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"{owner} expects `architecture` in {ARCHITECTURES}; got {architecture!r}."
        )
    if any(int(f) < 1 for f in conv_filters) or any(int(u) < 1 for u in dense_units):
        raise ValueError(
            f"{owner} expects positive `conv_filters` and `dense_units`; got"
            f" {tuple(conv_filters)} and {tuple(dense_units)}."
        )
    if architecture == "conv" and len(shape) != 3:
        raise ValueError(
            f"{owner} with architecture='conv' expects an image shape (height, width, channels);"
            f" got {tuple(shape)}. Use architecture='dense' for flat inputs."
        )


@keras.saving.register_keras_serializable(package="keras_vae")
class Encoder(keras.layers.Layer):
    """Maps images to `(z_mean, z_log_var)`, the Gaussian posterior q(z | x).

    The convolutional default halves the resolution with each strided `Conv2D` in
    `conv_filters`, flattens, and runs the `dense_units` layers before two linear heads. The
    dense variant flattens the input and uses only `dense_units` (for flat feature vectors).

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one input, without the batch axis. Defaults to
            `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"`. Defaults to `"conv"`.
        conv_filters: tuple of int. Filters of each strided convolution. Defaults to `(32, 64)`.
        dense_units: tuple of int. Units of the hidden dense layers. Defaults to `(256,)`.
        kernel_size: int. Convolution kernel size. Defaults to `3`.
        activation: str. Hidden activation. Defaults to `"relu"`.
        probabilistic: bool. With `False` the layer returns only `z_mean` (the baseline
            autoencoder's deterministic code). Defaults to `True`.

    Example:
    ```python
    encoder = keras_vae.Encoder(latent_dim=16, conv_filters=(32, 64, 128))
    z_mean, z_log_var = encoder(images)
    ```
    """

    def __init__(
        self,
        latent_dim=2,
        input_shape=(28, 28, 1),
        architecture="conv",
        conv_filters=(32, 64),
        dense_units=(256,),
        kernel_size=3,
        activation="relu",
        probabilistic=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_architecture_args(
            "Encoder", latent_dim, architecture, conv_filters, dense_units, input_shape
        )
        self.latent_dim = latent_dim
        self.image_shape = tuple(int(d) for d in input_shape)
        self.architecture = architecture
        self.conv_filters = tuple(int(f) for f in conv_filters)
        self.dense_units = tuple(int(u) for u in dense_units)
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.probabilistic = bool(probabilistic)

        self.hidden_layers = []
        if architecture == "conv":
            for i, filters in enumerate(self.conv_filters):
                self.hidden_layers.append(
                    keras.layers.Conv2D(
                        filters,
                        self.kernel_size,
                        strides=2,
                        padding="same",
                        activation=activation,
                        name=f"conv_{i}",
                        dtype=self.dtype_policy,
                    )
                )
        self.hidden_layers.append(keras.layers.Flatten(name="flatten", dtype=self.dtype_policy))
        for i, units in enumerate(self.dense_units):
            self.hidden_layers.append(
                keras.layers.Dense(
                    units, activation=activation, name=f"dense_{i}", dtype=self.dtype_policy
                )
            )
        self.z_mean_layer = keras.layers.Dense(latent_dim, name="z_mean", dtype=self.dtype_policy)
        self.z_log_var_layer = (
            keras.layers.Dense(latent_dim, name="z_log_var", dtype=self.dtype_policy)
            if self.probabilistic
            else None
        )

    def build(self, input_shape=None):
        shape = (None, *self.image_shape)
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.z_mean_layer.build(shape)
        if self.z_log_var_layer is not None:
            self.z_log_var_layer.build(shape)
        self.built = True

    def call(self, inputs):
        x = inputs
        for layer in self.hidden_layers:
            x = layer(x)
        z_mean = self.z_mean_layer(x)
        if self.z_log_var_layer is None:
            return z_mean
        return z_mean, self.z_log_var_layer(x)

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], self.latent_dim)
        return (shape, shape) if self.probabilistic else shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "input_shape": self.image_shape,
                "architecture": self.architecture,
                "conv_filters": self.conv_filters,
                "dense_units": self.dense_units,
                "kernel_size": self.kernel_size,
                "activation": self.activation,
                "probabilistic": self.probabilistic,
            }
        )
        return config
