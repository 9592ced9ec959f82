"""Conversion: the SavedModel written by Keras's `ExportArchive`, and one TFLite file per variant.

The path is the framework's own: `keras.export.ExportArchive` writes the SavedModel (the
same step `Model.export(format="litert")` takes internally), then one
`tf.lite.TFLiteConverter.from_saved_model` run per variant, restricted to builtin ops so a
graph that would need the Flex delegate fails at conversion instead of on the device.
`Model.export(format="litert")` itself writes one float file of one signature; we need
named multi-input signatures, a second `generate` signature, a fixed batch, and the int8
and float16 settings, so we take its two steps ourselves.
"""

import warnings

import keras
import tensorflow as tf

from keras_vae.export import inputs as export_inputs

# The converter attribute that stops a Dense layer getting one scale per output unit. It is
# private (TensorFlow has no public switch); `tests/export/test_export.py` checks that it still
# exists and still gives the int8 projection a single scale, so an upstream rename fails
# there instead of silently growing the file.
PER_CHANNEL_DENSE_SWITCH = "_experimental_disable_per_channel_quantization_for_dense_layers"


def write_saved_model(target, path, batch_size, as_uint8) -> None:
    """Writes every signature of `target` with inputs `(batch_size, *shape)` to `path`."""
    archive = keras.export.ExportArchive()
    archive.track(target.layer)
    for signature in target.signatures:
        # The spec names become the signature's input names, in the SavedModel and in TFLite.
        specs = [
            tf.TensorSpec((batch_size, *shape), signature.dtypes.get(name, tf.float32), name=name)
            for name, shape in signature.inputs.items()
        ]
        archive.add_endpoint(
            signature.name,
            _bind(signature.function, as_uint8),
            input_signature=specs,
        )
    archive.write_out(str(path), verbose=False)


def _bind(function, as_uint8):
    return lambda *tensors: function(*tensors, as_uint8=as_uint8)


def convert(saved_model, target, variant, uint8_output) -> bytes:
    """One TFLite flatbuffer of `variant` holding every signature of `target`."""
    keys = [signature.name for signature in target.signatures]
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=keys)
    # Builtins only: a graph that would need the Flex delegate fails here, not on a device.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic_range":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "int8":
        _full_integer(converter, target, uint8_output)
    try:
        with warnings.catch_warnings():
            # The converter calibrates with the deprecated tf.lite.Interpreter internally.
            warnings.simplefilter("ignore", UserWarning)
            return converter.convert()
    except Exception as error:  # the converter raises several types, all with MLIR dumps
        first_lines = "\n".join(str(error).strip().splitlines()[:6])
        raise RuntimeError(
            f"TFLite conversion of the {variant} variant with builtin ops only failed:"
            f" {first_lines}"
        ) from None


def _full_integer(converter, target, uint8_output) -> None:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    several = len(target.signatures) > 1

    def representative_dataset():
        for signature in target.signatures:
            data = signature.calibration
            for i in range(export_inputs.count(data)):
                row = export_inputs.rows(data, i, i + 1)
                # With several signatures the converter wants to know which one a row feeds.
                yield (signature.name, row) if several else row

    converter.representative_dataset = representative_dataset
    converter.inference_input_type = tf.float32
    converter.inference_output_type = tf.uint8 if uint8_output else tf.float32
    # One scale per output unit of a wide Dense layer (e.g. the projection of the default
    # decoder) grows the int8 file for no measurable PSNR gain (see docs/guides/export.md);
    # convolutions keep per-channel scales, where they matter.
    if hasattr(converter, PER_CHANNEL_DENSE_SWITCH):
        setattr(converter, PER_CHANNEL_DENSE_SWITCH, True)
