"""Nearest-neighbour upsampling that keeps static shapes, for decoders that export cleanly."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_vae")
class NearestUpsampling(keras.layers.Layer):
    """Repeats each pixel `factor` times along height and width (nearest-neighbour).

    The same result as `keras.layers.UpSampling2D(factor)`, but the output size is computed
    from the static input shape, so a graph traced with a dynamic batch size keeps its image
    sizes and converts to TFLite's builtin `RESIZE_NEAREST_NEIGHBOR` (which `UpSampling2D`
    does not: its traced output has unknown height and width, and the next convolution
    cannot be converted).

    Args:
        factor: int. Upsampling factor for height and width. Defaults to `2`.
    """

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"NearestUpsampling expects `factor` as an int >= 1; got {factor!r}.")
        self.factor = factor

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        if height is None or width is None:
            raise ValueError(
                "NearestUpsampling expects inputs with a static height and width; got shape"
                f" {tuple(inputs.shape)}."
            )
        size = (height * self.factor, width * self.factor)
        return ops.image.resize(inputs, size, interpolation="nearest")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, height * self.factor, width * self.factor, channels)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config
