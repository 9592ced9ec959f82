"""The inference network: images -> the parameters of q(z | x)."""

import keras

from keras_vae.layers.residual import ResidualBlock

ARCHITECTURES = ("conv", "dense")
# Default networks: halve the image until its shorter side is at most this, widths doubling
# from FIRST_FILTERS up to MAX_FILTERS. At 28x28 this gives today's (32, 64) and a 7x7 map.
SMALLEST_FEATURE_MAP = 7
FIRST_FILTERS = 32
MAX_FILTERS = 128


def default_conv_filters(image_shape) -> tuple[int, ...]:
    """The encoder's `conv_filters` for an image: one stride-2 convolution per halving until
    the shorter side is at most `SMALLEST_FEATURE_MAP` (7), widths 32, 64, 128, 128, ...

    28x28 -> (32, 64), a 7x7 map; 64x64 -> (32, 64, 128, 128), a 4x4 map; 16x16 -> (32, 64).
    The decoder uses the same widths in reverse."""
    side = min(int(image_shape[0]), int(image_shape[1]))
    filters = []
    while side > SMALLEST_FEATURE_MAP or not filters:
        filters.append(min(FIRST_FILTERS * 2 ** len(filters), MAX_FILTERS))
        side = -(-side // 2)
    return tuple(filters)


def padding_for(image_shape, depth: int) -> tuple[int, int]:
    """Rows and columns to add so that height and width divide by 2 ** depth (the networks pad
    the encoder's input with zeros and crop the decoder's output by the same amounts)."""
    factor = 2**depth
    return tuple(-int(d) % factor for d in image_shape[:2])


def resolve_conv_filters(owner, conv_filters, shape, architecture, reverse=False):
    """`conv_filters` as a tuple of ints; `"auto"` (the default) chooses from the image size."""
    if isinstance(conv_filters, str):
        if conv_filters != "auto":
            raise ValueError(
                f"{owner} expects `conv_filters` as 'auto' or a tuple of ints; got"
                f" {conv_filters!r}."
            )
        if architecture != "conv" or len(shape) != 3:
            return ()
        filters = default_conv_filters(shape)
        return tuple(reversed(filters)) if reverse else filters
    return tuple(int(f) for f in conv_filters)


def check_depth(owner, conv_filters, shape, argument):
    """Refuses a size too small for the depth: the networks pad height and width to a multiple
    of `2 ** depth`, and with more padding than image the deepest convolutions would see
    nothing but padding. Height and width must exceed `2 ** (depth - 1)`."""
    depth = len(conv_filters)
    if depth == 0:
        return
    smallest = 2 ** (depth - 1) + 1
    if min(shape[:2]) < smallest:
        raise ValueError(
            f"{owner} expects `{argument}` height and width >= {smallest} with {depth} strided"
            f" convolutions (`conv_filters`={tuple(conv_filters)}): they are padded to a"
            f" multiple of {2**depth}, and more padding than image would leave the deepest"
            f" convolutions only padding to see; got {tuple(shape)}. Use fewer"
            " `conv_filters`, a larger image, or architecture='dense'."
        )


def check_architecture_args(owner, latent_dim, architecture, conv_filters, dense_units, shape):
    if any(isinstance(d, bool) or int(d) < 1 for d in shape):
        raise ValueError(
            f"{owner} expects every dimension of the image shape >= 1; got {tuple(shape)}."
        )
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"{owner} expects `latent_dim` as an int >= 1; got {latent_dim!r}.")
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"{owner} expects `architecture` in {ARCHITECTURES}; got {architecture!r}."
        )
    if isinstance(conv_filters, str):
        conv_filters = ()  # "auto", checked by resolve_conv_filters
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


def checked_network_shape(
    owner, latent_dim, shape, architecture, conv_filters, dense_units, *, argument, reverse=False
):
    """Checks a network's arguments and returns `(image_shape, conv_filters)` resolved: the
    shape (the argument named `argument`) as a tuple of ints and `"auto"` replaced by the
    widths for that shape (in reverse for the decoder)."""
    check_architecture_args(owner, latent_dim, architecture, conv_filters, dense_units, shape)
    image_shape = tuple(int(d) for d in shape)
    filters = resolve_conv_filters(owner, conv_filters, image_shape, architecture, reverse)
    if architecture == "conv":
        check_depth(owner, filters, image_shape, argument)
    return image_shape, filters


def dense_layers(dense_units, activation, dtype) -> list:
    """The hidden `Dense` layers, named `dense_0`, `dense_1`, ... (their saved weight paths)."""
    return [
        keras.layers.Dense(int(units), activation=activation, name=f"dense_{i}", dtype=dtype)
        for i, units in enumerate(dense_units)
    ]


def _downsampling_layers(image_shape, conv_filters, kernel_size, activation, residual, dtype):
    """The encoder's convolutional stack: zero padding to a multiple of `2 ** depth` where
    needed, then per entry of `conv_filters` a stride-2 `Conv2D` (and a `ResidualBlock`).
    None for `image_shape` (the dense architecture) gives no layers."""
    if image_shape is None:
        return []
    layers = []
    rows, columns = padding_for(image_shape, len(conv_filters))
    if rows or columns:
        layers.append(
            keras.layers.ZeroPadding2D(((0, rows), (0, columns)), name="pad", dtype=dtype)
        )
    for i, filters in enumerate(conv_filters):
        layers.append(
            keras.layers.Conv2D(
                filters,
                kernel_size,
                strides=2,
                padding="same",
                activation=activation,
                name=f"conv_{i}",
                dtype=dtype,
            )
        )
        if residual:
            layers.append(
                ResidualBlock(filters, kernel_size, activation, name=f"residual_{i}", dtype=dtype)
            )
    return layers


@keras.saving.register_keras_serializable(package="keras_vae")
class Encoder(keras.layers.Layer):
    """Maps images to `(z_mean, z_log_var)`, the Gaussian posterior q(z | x).

    The convolutional default halves the resolution with each strided `Conv2D` in
    `conv_filters`, flattens, and runs the `dense_units` layers before two linear heads. The
    dense variant flattens the input and uses only `dense_units` (for flat feature vectors).
    With `conv_filters="auto"` the depth follows the image (`default_conv_filters`: halve
    until the shorter side is at most 7, widths 32, 64, 128, 128, ...), so larger images keep
    a small feature map and a small dense layer; 28x28 gets (32, 64). A height or width that
    does not divide by `2 ** len(conv_filters)` is padded with zeros first (the `Decoder`
    crops its output by the same amount).

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one input, without the batch axis. Defaults to
            `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"`. Defaults to `"conv"`.
        conv_filters: `"auto"` or tuple of int. Filters of each strided convolution.
            Defaults to `"auto"` (`(32, 64)` at 28x28).
        dense_units: tuple of int. Units of the hidden dense layers. Defaults to `(256,)`.
        kernel_size: int. Convolution kernel size. Defaults to `3`.
        activation: str. Hidden activation. Defaults to `"relu"`.
        probabilistic: bool. With `False` the layer returns only `z_mean` (the baseline
            autoencoder's deterministic code). Defaults to `True`.
        residual: bool. A `ResidualBlock` after every strided convolution. Defaults to
            `False`.

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
        conv_filters="auto",
        dense_units=(256,),
        kernel_size=3,
        activation="relu",
        probabilistic=True,
        residual=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        image_shape, conv_filters = checked_network_shape(
            "Encoder",
            latent_dim,
            input_shape,
            architecture,
            conv_filters,
            dense_units,
            argument="input_shape",
        )

        # === Layers === (the wiring is `call`: the hidden layers in order, then both heads)
        dtype = self.dtype_policy
        self.hidden_layers = [
            *_downsampling_layers(
                image_shape if architecture == "conv" else None,
                conv_filters,
                int(kernel_size),
                activation,
                bool(residual),
                dtype,
            ),
            keras.layers.Flatten(name="flatten", dtype=dtype),
            *dense_layers(dense_units, activation, dtype),
        ]
        self.z_mean_layer = keras.layers.Dense(latent_dim, name="z_mean", dtype=dtype)
        self.z_log_var_layer = (
            keras.layers.Dense(latent_dim, name="z_log_var", dtype=dtype) if probabilistic else None
        )

        # === Config ===
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.architecture = architecture
        self.conv_filters = conv_filters
        self.dense_units = tuple(int(u) for u in dense_units)
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.probabilistic = bool(probabilistic)
        self.residual = bool(residual)

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
                "residual": self.residual,
            }
        )
        return config
