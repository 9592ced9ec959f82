"""Nearest-neighbour upsampling that keeps static shapes, for decoders that export cleanly."""

import keras
from keras import ops


def _nearest_upsample(inputs, factor):
    """Nearest-neighbour resize whose gradient is a reshape and a sum, so XLA can compile it.

    The forward pass stays the resize op (TFLite's builtin `RESIZE_NEAREST_NEIGHBOR`, an int8
    op); its own gradient, `ResizeNearestNeighborGrad`, has no XLA kernel on CPU, so training
    under `jit_compile=True` failed. With an integer factor each input pixel feeds a
    `factor x factor` block of the output, and its gradient is the sum over that block.
    """
    height, width = inputs.shape[1], inputs.shape[2]

    @ops.custom_gradient
    def upsample(x):
        def gradient(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            channels = ops.shape(upstream)[-1]
            blocks = ops.reshape(upstream, (-1, height, factor, width, factor, channels))
            return ops.sum(blocks, axis=(2, 4))

        size = (height * factor, width * factor)
        return ops.image.resize(x, size, interpolation="nearest"), gradient

    return upsample(inputs)


@keras.saving.register_keras_serializable(package="keras_vae")
class NearestUpsampling(keras.layers.Layer):
    """Repeats each pixel `factor` times along height and width (nearest-neighbour).

    The same result as `keras.layers.UpSampling2D(factor)`, but the output size is computed
    from the static input shape, so a graph traced with a dynamic batch size keeps its image
    sizes and converts to TFLite's builtin `RESIZE_NEAREST_NEIGHBOR` (which `UpSampling2D`
    does not: its traced output has unknown height and width, and the next convolution
    cannot be converted). Its gradient is written as a reshape and a sum, so a decoder using it
    trains under `jit_compile=True` (XLA has no CPU kernel for the resize's own gradient).

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
        return _nearest_upsample(inputs, self.factor)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, height * self.factor, width * self.factor, channels)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config
