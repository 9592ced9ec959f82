"""Edge export: a SavedModel and verified TFLite files of the decoder (or encoder) mean.

The exported graph is the deterministic part of the model: `decode(z)` computes the mean of
p(x | z) (the sigmoid of the logits for a Bernoulli likelihood) and `encode(images)` the
posterior mean; neither holds a random op, so every file runs with TFLite builtin ops only.
A `ConditionalVAE` decoder is exported as `decode(z, labels)` with a float one-hot `labels`
input; everything below handles a network as a dict of named inputs.

The path is the framework's own: `keras.export.ExportArchive` writes the SavedModel (the
same step `Model.export(format="litert")` takes internally), then one
`tf.lite.TFLiteConverter.from_saved_model` run per variant, restricted to builtin ops so a
graph that would need the Flex delegate fails at conversion instead of on the device. Each
file is then run with the LiteRT interpreter and compared with the Keras network; see
export/README.md for why this path and not `Model.export(format="litert")` directly.
"""

import dataclasses
import gc
import importlib.metadata
import pathlib
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_vae import validation
from keras_vae.export_report import (
    GRID_PNG,
    REPORT_JSON,
    REPORT_MD,
    ExportReport,
    VariantReport,
    markdown_table,
    psnr,
    save_sample_grids,
)
from keras_vae.models.conditional_vae import ConditionalVAE

FORMATS = ("saved_model", "float32", "float16", "dynamic_range", "int8")
TFLITE_FORMATS = FORMATS[1:]
DEFAULT_PSNR_THRESHOLDS = {"int8": 30.0, "float16": 40.0}
SAVED_MODEL_DIR = "saved_model"
# Ops that only move data between float and integer: they add no approximation of their
# own, so the per-op error attribution skips them.
_CONVERSION_OPS = ("QUANTIZE", "DEQUANTIZE")
_LAYER_OF_OP = {
    "TRANSPOSE_CONV": "Conv2DTranspose",
    "CONV_2D": "Conv2D",
    "FULLY_CONNECTED": "Dense",
    "LOGISTIC": "sigmoid",
    "RESHAPE": "Reshape",
}
_ATTRIBUTION_SAMPLES = 32
_GRID_COLUMNS = 8
_LATENCY_BUDGET_S = 2.0


class FidelityError(ValueError):
    """Raised when a variant's PSNR against the Keras network is below its threshold.

    The files and the report are written before it is raised; `report` holds the
    `ExportReport` (see `report.failures()` and each variant's `error_by_op_type`).
    """

    def __init__(self, message: str, report: ExportReport):
        super().__init__(message)
        self.report = report


@dataclasses.dataclass(frozen=True)
class _Network:
    """What differs between exporting the decoder and the encoder.

    `inputs` maps each signature input name to the shape of one example, in the order the
    traced `function(*tensors, as_uint8=...)` takes them; the data that flows through the
    export (calibration, verification) is a dict with the same keys.
    """

    name: str
    signature: str
    inputs: dict
    output_name: str
    layer: keras.layers.Layer
    function: Callable


def export_decoder(
    model,
    directory,
    formats=FORMATS,
    representative_samples=None,
    num_verification_samples: int = 1000,
    num_calibration_samples: int = 500,
    psnr_thresholds: dict | None = None,
    uint8_output: bool = False,
    batch1_variant: bool = False,
    overwrite: bool = False,
    seed: int = 0,
    latency_repeats: int = 50,
    verbose: int = 1,
) -> ExportReport:
    """Exports the decoder mean `decode(z)` as a SavedModel and verified TFLite files.

    Writes into `directory`: `saved_model/` (serving signature `decode`, input `z`, output
    `image`), one `decoder_<format>.tflite` per TFLite format, `report.json`, `report.md`
    and `sample_grids.png`. Every TFLite file is run with the LiteRT interpreter on
    `num_verification_samples` prior latents and compared with the Keras decoder.

    A `ConditionalVAE` is exported as `decode(z, labels)`: a second float32 input `labels`
    `(batch, num_classes)` takes one-hot rows. Its int8 variant is calibrated, and every
    variant verified, on prior latents paired with balanced labels (each class in turn, in
    shuffled order); `sample_grids.png` then shows one row per class.

    Args:
        model: a built `VAE`, `AutoEncoder` or `ConditionalVAE` (anything with `decoder`,
            `latent_dim` and `output_mean`).
        directory: str or path. Created if missing; must be empty unless `overwrite`.
        formats: tuple of str from `FORMATS`. `"int8"` is full-integer quantization (int8
            weights and activations, float input and output); `"dynamic_range"` int8
            weights with float activations; `"float16"` float16 weights.
            Defaults to all of them.
        representative_samples: None, latents `(n, latent_dim)` or training images
            `(n, *image_shape)`, which are encoded. Added to the prior latents that
            calibrate the int8 variant. For a `ConditionalVAE`, latents get balanced labels
            and images come as an `(images, labels)` pair (labels as ints or one-hot
            rows). Defaults to `None` (prior latents only).
        num_verification_samples: int. Prior latents each variant is checked on.
            Defaults to `1000`.
        num_calibration_samples: int. Prior latents that calibrate int8. Defaults to `500`.
        psnr_thresholds: dict of format -> minimum PSNR in dB against the Keras decoder.
            Merged over `DEFAULT_PSNR_THRESHOLDS` (`{"int8": 30, "float16": 40}`); a value
            of `None` switches the gate off for that format.
        uint8_output: bool. Emit uint8 pixels instead of floats in [0, 1]: the float
            variants round `255 * mean`; the int8 variant emits its quantized output (scale
            and zero point in the report). Defaults to `False`.
        batch1_variant: bool. Also write `decoder_<format>_batch1.tflite` files with a fixed
            batch of 1 (for runtimes without dynamic shapes). Defaults to `False`.
        overwrite: bool. Replace earlier export files in a non-empty `directory` (other files
            there are left alone). Defaults to `False`.
        seed: int. Seed of the calibration and verification latents. Defaults to `0`.
        latency_repeats: int. Timed runs per latency median. Defaults to `50`.
        verbose: int. 0 for silence, 1 for a progress bar. Defaults to `1`.

    Returns:
        The `ExportReport`. Raises `FidelityError` (after writing everything) when a variant
        falls below its PSNR threshold.

    Example:
    ```python
    report = keras_vae.export.export_decoder(vae, "export", formats=("saved_model", "int8"))
    print(report.variants["int8"].psnr_db)
    ```
    """
    method = "export_decoder()"
    _check_model(model, "decoder", method)
    _check_common(num_verification_samples, num_calibration_samples, latency_repeats, method)
    rng = np.random.default_rng(seed)
    calibration = _prior_inputs(model, num_calibration_samples, rng)
    verification = _prior_inputs(model, num_verification_samples, rng)
    if representative_samples is not None:
        extra = _representative_inputs(model, representative_samples, rng, method)
        calibration = {k: np.concatenate([v, extra[k]]) for k, v in calibration.items()}

    decoder = model.decoder
    conditional = isinstance(model, ConditionalVAE)
    inputs = {"z": (int(model.latent_dim),)}
    if conditional:
        inputs["labels"] = (int(model.num_classes),)

    def decode(*tensors, as_uint8):
        # A conditional decoder is a functional model called on the list [z, labels].
        mean = model.output_mean(
            decoder(list(tensors) if conditional else tensors[0], training=False)
        )
        if as_uint8:
            mean = tf.cast(tf.round(tf.clip_by_value(mean, 0.0, 1.0) * 255.0), tf.uint8)
        return {"image": mean}

    network = _Network("decoder", "decode", inputs, "image", decoder, decode)

    def reference(data):
        if conditional:
            return np.asarray(model.decode(data["z"], data["labels"]))
        return np.asarray(model.decode(data["z"]))

    peak = 1.0 if getattr(model, "likelihood", "bernoulli") == "bernoulli" else None
    return _export(
        network,
        directory,
        formats,
        reference,
        calibration,
        verification,
        psnr_thresholds,
        uint8_output=bool(uint8_output),
        batch1_variant=batch1_variant,
        overwrite=overwrite,
        latency_repeats=latency_repeats,
        peak=peak,
        grid=_grid_layout(verification.get("labels"), num_verification_samples),
        verbose=verbose,
        method=method,
    )


def export_encoder(
    model,
    directory,
    formats=FORMATS,
    representative_samples=None,
    num_verification_samples: int = 1000,
    num_calibration_samples: int = 500,
    psnr_thresholds: dict | None = None,
    batch1_variant: bool = False,
    overwrite: bool = False,
    seed: int = 0,
    latency_repeats: int = 50,
    verbose: int = 1,
) -> ExportReport:
    """Exports the encoder mean `encode(images)` (output `z_mean`) like `export_decoder`.

    For on-device embedding or anomaly scoring. Without data, the encoder is calibrated and
    verified on images the model itself generates from prior latents; `representative_samples`
    (training images) are added to the calibration set. PSNR uses the range of the reference
    latent means as its peak. Writes `encoder_<format>.tflite` files; the other arguments are
    those of `export_decoder`.
    """
    method = "export_encoder()"
    _check_model(model, "encoder", method)
    if isinstance(model, ConditionalVAE):
        raise ValueError(
            f"{method} expects a `model` whose encoder takes images only (VAE or AutoEncoder);"
            " got a ConditionalVAE, whose encoder also takes labels. Export its decoder with"
            " export_decoder()."
        )
    _check_common(num_verification_samples, num_calibration_samples, latency_repeats, method)
    latent_dim = int(model.latent_dim)
    rng = np.random.default_rng(seed)
    prior = rng.standard_normal((num_calibration_samples + num_verification_samples, latent_dim))
    generated = np.asarray(model.decode(prior.astype("float32")))
    calibration = generated[:num_calibration_samples]
    verification = generated[num_calibration_samples:]
    if representative_samples is not None:
        images = model.check_images(representative_samples, "representative_samples", "export")
        calibration = np.concatenate([calibration, images[:num_calibration_samples]])

    calibration, verification = {"images": calibration}, {"images": verification}
    encoder = model.encoder

    def encode(images, as_uint8):
        return {"z_mean": _first_output(encoder(images, training=False))}

    inputs = {"images": tuple(int(d) for d in model.image_shape)}
    network = _Network("encoder", "encode", inputs, "z_mean", encoder, encode)

    def reference(data):
        images = data["images"]
        return np.concatenate(
            [
                keras.ops.convert_to_numpy(_first_output(encoder(images[i : i + 256])))
                for i in range(0, len(images), 256)
            ]
        )

    return _export(
        network,
        directory,
        formats,
        reference,
        calibration,
        verification,
        psnr_thresholds,
        uint8_output=False,
        batch1_variant=batch1_variant,
        overwrite=overwrite,
        latency_repeats=latency_repeats,
        peak=None,
        grid=None,
        verbose=verbose,
        method=method,
    )


# Argument checks --------------------------------------------------------------------------


def _check_model(model, part, method):
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{method} expects `model` as a keras_vae VAE, AutoEncoder or ConditionalVAE"
            f" (a keras.Model); got {type(model).__name__}."
        )
    network = getattr(model, part, None)
    if network is None or not isinstance(network, keras.layers.Layer):
        raise ValueError(
            f"{method} expects `model` with a `{part}` network (a keras_vae VAE or"
            f" AutoEncoder); got {type(model).__name__} without one."
        )
    if not model.built or not network.built:
        raise ValueError(
            f"{method} expects a built `model` (its weights created); got an unbuilt"
            f" {type(model).__name__}. Call the model on a batch or load a trained .keras file."
        )
    if not hasattr(model, "latent_dim") or not hasattr(model, "output_mean"):
        raise ValueError(
            f"{method} expects `model` with `latent_dim` and `output_mean` (a keras_vae"
            f" model); got {type(model).__name__}."
        )


def _check_common(num_verification, num_calibration, latency_repeats, method):
    validation.check_positive_int(num_verification, "num_verification_samples", method)
    validation.check_positive_int(num_calibration, "num_calibration_samples", method)
    validation.check_positive_int(latency_repeats, "latency_repeats", method)


def _check_formats(formats, method) -> tuple:
    if isinstance(formats, str):
        formats = (formats,)
    if not isinstance(formats, list | tuple) or not formats:
        raise TypeError(f"{method} expects `formats` as a non-empty tuple of str; got {formats!r}.")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"{method} expects `formats` from {FORMATS}; got unknown {unknown}.")
    return tuple(dict.fromkeys(formats))


def _check_thresholds(thresholds, method) -> dict:
    merged = dict(DEFAULT_PSNR_THRESHOLDS)
    if thresholds is None:
        return merged
    if not isinstance(thresholds, dict):
        raise TypeError(
            f"{method} expects `psnr_thresholds` as a dict of format -> dB; got"
            f" {type(thresholds).__name__}."
        )
    for name, value in thresholds.items():
        if name not in TFLITE_FORMATS:
            raise ValueError(
                f"{method} expects `psnr_thresholds` keys from {TFLITE_FORMATS}; got {name!r}."
            )
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TypeError(
                f"{method} expects `psnr_thresholds[{name!r}]` as a number of dB or None;"
                f" got {value!r}."
            )
        merged[name] = None if value is None else float(value)
    return merged


def _balanced_one_hot(num_classes, n, rng) -> np.ndarray:
    """`n` one-hot rows with the classes in turn (counts differ by at most one), shuffled."""
    return np.eye(num_classes, dtype="float32")[rng.permutation(np.arange(n) % num_classes)]


def _prior_inputs(model, n, rng) -> dict:
    """Decoder inputs for calibration or verification: prior latents (and balanced labels)."""
    inputs = {"z": rng.standard_normal((n, int(model.latent_dim))).astype("float32")}
    if isinstance(model, ConditionalVAE):
        inputs["labels"] = _balanced_one_hot(model.num_classes, n, rng)
    return inputs


def _representative_inputs(model, samples, rng, method) -> dict:
    """Extra calibration inputs: latents as given, or the posterior of encoded images.

    A conditional model takes `(latents or images, labels)`; latents alone get balanced
    labels, images alone are refused (the encoder needs their labels).
    """
    conditional = isinstance(model, ConditionalVAE)
    labels = None
    if conditional and isinstance(samples, tuple | list) and len(samples) == 2:
        samples, labels = samples
    array = np.asarray(samples)
    one_hot = None
    if labels is not None:
        one_hot = model.one_hot_labels(
            labels, "representative_samples", "export", expected_count=len(array)
        )
    if array.ndim == 2 and array.shape[1] == model.latent_dim:
        inputs = {"z": model.check_latents(array, "representative_samples", "export")}
        if conditional:
            balanced = _balanced_one_hot(model.num_classes, len(array), rng)
            inputs["labels"] = balanced if one_hot is None else one_hot
        return inputs
    if tuple(array.shape[1:]) == tuple(model.image_shape):
        images = model.check_images(array, "representative_samples", "export")
        if not conditional:
            encoded = model.encode(images)
        elif one_hot is None:
            raise ValueError(
                f"{method} expects `representative_samples` of a ConditionalVAE as latents or"
                f" an (images, labels) pair; got images {array.shape} without labels."
            )
        else:
            encoded = model.encode(images, one_hot)
        if not isinstance(encoded, tuple):  # an AutoEncoder's codes
            return {"z": encoded.astype("float32")}
        # Posterior draws as well as means: the decoder sees both during training.
        z_mean, z_log_var = encoded
        draws = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
        inputs = {"z": np.concatenate([z_mean, draws]).astype("float32")}
        if conditional:
            inputs["labels"] = np.concatenate([one_hot, one_hot])
        return inputs
    raise ValueError(
        f"{method} expects `representative_samples` as latents (None, {model.latent_dim}) or"
        f" images (None, {', '.join(map(str, model.image_shape))}); got {array.shape}."
    )


def _grid_layout(one_hot, n) -> tuple:
    """Which verification outputs `sample_grids.png` shows, and in how many columns.

    Without labels, the first 64 in rows of 8; with labels, one row per class (up to 8 of
    each), so a wrong class or a collapsed digit shows as a bad row.
    """
    if one_hot is None:
        return np.arange(min(n, _GRID_COLUMNS**2)), _GRID_COLUMNS
    classes = one_hot.argmax(axis=1)
    per_class = max(1, min(_GRID_COLUMNS, n // one_hot.shape[1]))
    rows = [np.flatnonzero(classes == k)[:per_class] for k in range(one_hot.shape[1])]
    return np.concatenate(rows), per_class


def _rows(inputs: dict, start: int, stop: int) -> dict:
    """Rows `start:stop` of every input."""
    return {name: values[start:stop] for name, values in inputs.items()}


def _count(inputs: dict) -> int:
    return len(next(iter(inputs.values())))


def _first_output(outputs):
    return outputs[0] if isinstance(outputs, list | tuple) else outputs


def _prepare_directory(directory, overwrite, method) -> tuple:
    """Creates `directory` (or checks it may be written) and a staging folder inside it.

    Files are written to the staging folder and moved in only at the end, so an export
    that fails halfway leaves what was there untouched.
    """
    if not isinstance(directory, str | pathlib.Path):
        raise TypeError(f"{method} expects `directory` as a str or path; got {directory!r}.")
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{method} expects `directory` as a folder; got the file {directory}.")
    created = not directory.exists()
    if not created and any(directory.iterdir()) and not overwrite:
        raise ValueError(
            f"{method} expects an empty or new `directory`; {directory} already holds files."
            " Pass overwrite=True to replace an earlier export there."
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = pathlib.Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
    except OSError as error:
        raise ValueError(
            f"{method} cannot write to `directory` {directory}: {error.strerror or error}."
        ) from None
    return directory, staging, created


def _publish(staging: pathlib.Path, directory: pathlib.Path) -> None:
    for item in sorted(staging.iterdir()):
        target = directory / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        item.rename(target)


# Conversion -------------------------------------------------------------------------------


def _write_saved_model(network, path, batch_size, as_uint8):
    archive = keras.export.ExportArchive()
    archive.track(network.layer)
    # The spec names become the signature's input names, in the SavedModel and in TFLite.
    specs = [
        tf.TensorSpec((batch_size, *shape), tf.float32, name=name)
        for name, shape in network.inputs.items()
    ]
    archive.add_endpoint(
        network.signature,
        lambda *tensors: network.function(*tensors, as_uint8=as_uint8),
        input_signature=specs,
    )
    archive.write_out(str(path), verbose=False)


def _convert(saved_model, signature, variant, calibration, uint8_output) -> bytes:
    converter = tf.lite.TFLiteConverter.from_saved_model(
        str(saved_model), signature_keys=[signature]
    )
    # Builtins only: a graph that would need the Flex delegate fails here, not on a device.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic_range":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

        def representative_dataset():
            for i in range(_count(calibration)):
                yield _rows(calibration, i, i + 1)

        converter.representative_dataset = representative_dataset
        converter.inference_input_type = tf.float32
        converter.inference_output_type = tf.uint8 if uint8_output else tf.float32
        # One scale per output unit of a wide Dense layer (e.g. the 3,136-unit projection
        # of the default decoder) costs ~9% of the int8 file for no measurable PSNR gain;
        # convolutions keep per-channel scales, where they matter.
        if hasattr(converter, "_experimental_disable_per_channel_quantization_for_dense_layers"):
            converter._experimental_disable_per_channel_quantization_for_dense_layers = True
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


# Verification -----------------------------------------------------------------------------


def _interpreter(path, delegates=True, **kwargs):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if not delegates:
        # Without the XNNPACK delegate every op stays visible (the delegate fuses them into
        # one DELEGATE node), which the per-op comparison needs.
        kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # preserve_all_tensors is for debugging
        return Interpreter(model_path=str(path), num_threads=1, **kwargs)


def _tensor_summary(name, details) -> dict:
    params = details["quantization_parameters"]
    scales, zero_points = params["scales"], params["zero_points"]
    return {
        "name": name,
        "tensor": details["name"],
        "shape": [int(d) for d in details["shape_signature"]],
        "dtype": np.dtype(details["dtype"]).name,
        "scale": float(scales[0]) if len(scales) == 1 else None,
        "zero_point": int(zero_points[0]) if len(zero_points) == 1 else None,
    }


def _dequantize(values, details) -> np.ndarray:
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float32)
    scale, zero_point = details["quantization"]
    if scale:
        return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)
    # uint8 pixels written by the float graphs: round(255 * mean).
    return values.astype(np.float32) / 255.0


def _run_variant(path, network, inputs, dynamic_batch) -> np.ndarray:
    interpreter = _interpreter(path)
    runner = interpreter.get_signature_runner(network.signature)
    details = runner.get_output_details()[network.output_name]
    step = 256 if dynamic_batch else 1
    outputs = [
        runner(**_rows(inputs, i, i + step))[network.output_name]
        for i in range(0, _count(inputs), step)
    ]
    return _dequantize(np.concatenate(outputs), details)


def _set_inputs(interpreter, network, batch: dict) -> dict:
    """Resizes, allocates and fills the signature inputs through the raw interpreter API
    (no signature-runner overhead in the timings); returns the tensor index of each name."""
    # A signature runner would pin the interpreter's buffers (no resizing after it); the
    # signature list maps names to tensor indices without one.
    indices = interpreter._get_full_signature_list()[network.signature]["inputs"]
    try:
        _resize_inputs(interpreter, indices, batch)
    except RuntimeError:
        # LiteRT refuses to resize while anything else refers to the interpreter's wrapper
        # (its check counts references); such a reference was seen, rarely, held by garbage
        # not yet collected. Collect it and try once more; a second failure is real.
        gc.collect()
        _resize_inputs(interpreter, indices, batch)
    for name, values in batch.items():
        interpreter.set_tensor(indices[name], values)
    return indices


def _resize_inputs(interpreter, indices: dict, batch: dict) -> None:
    for name, values in batch.items():
        interpreter.resize_tensor_input(indices[name], values.shape)
    interpreter.allocate_tensors()


def _latency_ms(path, network, inputs, batch_size, repeats) -> float:
    """Median wall time of one invoke, per example, with a single thread."""
    interpreter = _interpreter(path)
    batch = {
        name: np.resize(values, (batch_size, *values.shape[1:])).astype(np.float32)
        for name, values in inputs.items()
    }
    indices = _set_inputs(interpreter, network, batch)
    interpreter.invoke()  # warm-up: first-call allocations and delegate preparation
    times = []
    # A time budget as well as a count: a slow variant (e.g. a dynamic-range transposed
    # convolution) should not hold the export for minutes to refine a median.
    deadline = time.perf_counter() + _LATENCY_BUDGET_S
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() < deadline):
        start = time.perf_counter()
        for name, values in batch.items():
            interpreter.set_tensor(indices[name], values)
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000.0 / batch_size


def _all_tensors(path, network, inputs, dynamic_batch):
    """Runs once with every intermediate tensor kept; returns ops, tensor details, values."""
    interpreter = _interpreter(path, delegates=False, experimental_preserve_all_tensors=True)
    _set_inputs(interpreter, network, inputs if dynamic_batch else _rows(inputs, 0, 1))
    interpreter.invoke()
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] not in _CONVERSION_OPS]
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    values = {}
    for op in ops:
        for tensor in op["outputs"]:
            raw = interpreter.get_tensor(tensor)
            if np.issubdtype(raw.dtype, np.floating) or details[tensor]["quantization"][0]:
                values[tensor] = _dequantize(raw, details[tensor])
    return ops, details, values


def _error_by_op_type(reference_path, variant_path, network, inputs, dynamic_batch) -> tuple:
    """Which TFLite op types add the error of a variant, as shares of the added error.

    Both files run on the same inputs with all intermediate tensors kept. Their compute ops
    pair up in execution order (quantized files only add QUANTIZE/DEQUANTIZE); for each pair
    the normalised squared error of the output is compared with that of the op's inputs, and
    the increase is what the op added.
    """
    ref_ops, _, ref_values = _all_tensors(reference_path, network, inputs, dynamic_batch)
    var_ops, var_details, var_values = _all_tensors(variant_path, network, inputs, dynamic_batch)
    if [op["op_name"] for op in ref_ops] != [op["op_name"] for op in var_ops]:
        return {}, ["the op sequences differ from float32; no per-op error attribution"]
    producer_error, added = {}, []
    for ref_op, var_op in zip(ref_ops, var_ops):
        inherited = max((producer_error.get(t, 0.0) for t in ref_op["inputs"]), default=0.0)
        out_ref, out_var = ref_op["outputs"][0], var_op["outputs"][0]
        if out_ref not in ref_values or out_var not in var_values:
            continue
        expected, got = ref_values[out_ref], var_values[out_var]
        if expected.shape != got.shape:
            continue
        error = float(np.mean((expected - got) ** 2) / (np.mean(expected**2) + 1e-12))
        producer_error[out_ref] = error
        added.append((ref_op["op_name"], max(error - inherited, 0.0), var_details[out_var]["name"]))
    total = sum(a for _, a, _ in added)
    if total <= 0:
        return {}, []
    shares = {}
    for op_name, amount, _ in added:
        shares[op_name] = shares.get(op_name, 0.0) + amount / total
    shares = dict(sorted(shares.items(), key=lambda item: -item[1]))
    top_op, _, top_tensor = max(added, key=lambda item: item[1])
    layer = _LAYER_OF_OP.get(top_op, top_op)
    notes = [f"largest single error increase: {top_op} ({layer}) producing `{top_tensor}`"]
    return {k: round(v, 4) for k, v in shares.items()}, notes


# The export itself ------------------------------------------------------------------------


def _variant_names(formats, batch1_variant) -> list:
    tflite = [f for f in formats if f != "saved_model"]
    names = [(f, f, False) for f in tflite]
    if batch1_variant:
        names += [(f"{f}_batch1", f, True) for f in tflite]
    return names


def _export(
    network,
    directory,
    formats,
    reference,
    calibration,
    verification,
    psnr_thresholds,
    *,
    uint8_output,
    batch1_variant,
    overwrite,
    latency_repeats,
    peak,
    grid,
    verbose,
    method,
):
    formats = _check_formats(formats, method)
    thresholds = _check_thresholds(psnr_thresholds, method)
    variants = _variant_names(formats, batch1_variant)
    directory, staging, created = _prepare_directory(directory, overwrite, method)
    try:
        report = _export_into(
            network,
            directory,
            staging,
            formats,
            variants,
            reference,
            calibration,
            verification,
            thresholds,
            uint8_output=uint8_output,
            latency_repeats=latency_repeats,
            peak=peak,
            grid=grid,
            verbose=verbose,
        )
        _publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(directory.iterdir()):
            directory.rmdir()
    if not report.passed:
        lines = [
            f"{method}: {v.name} has a PSNR of {v.psnr_db:.1f} dB against the Keras {network.name}"
            f" (threshold {v.psnr_threshold_db:g} dB); error added by op type:"
            f" {v.error_by_op_type or 'unknown'}. {' '.join(v.notes)}"
            for v in report.failures()
        ]
        raise FidelityError(
            "\n".join(lines)
            + f"\nThe files and report are in {directory}. Lower `psnr_thresholds` to accept"
            " them, or see export/README.md (e.g. Decoder(upsampling='resize')).",
            report,
        )
    return report


def _export_into(
    network,
    directory,
    staging,
    formats,
    variants,
    reference,
    calibration,
    verification,
    thresholds,
    *,
    uint8_output,
    latency_repeats,
    peak,
    grid,
    verbose,
):
    expected = reference(verification)
    if peak is None:
        peak = float(expected.max() - expected.min()) or 1.0
    progress = keras.utils.Progbar(len(variants) + 2, verbose=verbose, unit_name="step")
    work = staging / ".work"
    work.mkdir()

    saved_models = {}

    def saved_model(batch_size, as_uint8):
        key = (batch_size, as_uint8)
        if key not in saved_models:
            path = work / f"saved_model_{batch_size or 'any'}_{int(as_uint8)}"
            _write_saved_model(network, path, batch_size, as_uint8)
            saved_models[key] = path
        return saved_models[key]

    def convert(variant, batch_size, as_uint8, quantized_uint8):
        graph = saved_model(batch_size, as_uint8)
        return _convert(graph, network.signature, variant, calibration, quantized_uint8)

    if "saved_model" in formats:
        _write_saved_model(network, staging / SAVED_MODEL_DIR, None, uint8_output)
    progress.add(1)

    dynamic_note = None
    float32_paths = {}
    files = {}
    for name, variant, fixed in variants:
        batch_size = 1 if fixed or dynamic_note else None
        # int8 is quantized from the float graph and emits its quantized output as uint8.
        as_uint8 = uint8_output and variant != "int8"
        try:
            content = convert(variant, batch_size, as_uint8, uint8_output)
        except RuntimeError as error:
            if batch_size is not None:
                raise
            # Some graphs (e.g. UpSampling2D of a dynamic batch) lose static shapes that the
            # builtin kernels need; a fixed batch of 1 restores them.
            dynamic_note = f"dynamic batch not convertible with builtin ops ({error}); batch 1"
            batch_size = 1
            content = convert(variant, 1, as_uint8, uint8_output)
        path = staging / f"{network.name}_{name}.tflite"
        path.write_bytes(content)
        files[name] = (path, variant, batch_size is None)
        if variant == "float32" and not as_uint8:
            float32_paths[batch_size is None] = path
        progress.add(1)

    grids = {"keras": expected[grid[0]]} if grid is not None else {}
    reports = {}
    for name, (path, variant, dynamic_batch) in files.items():
        output = _run_variant(path, network, verification, dynamic_batch)
        error = np.abs(output - expected)
        value = psnr(expected, output, peak)
        threshold = thresholds.get(variant)
        passed = threshold is None or value is None or value >= threshold
        interpreter = _interpreter(path, delegates=False)
        runner = interpreter.get_signature_runner(network.signature)
        notes = []
        if not dynamic_batch and not name.endswith("_batch1") and dynamic_note:
            notes.append(dynamic_note)
        shares = {}
        if variant != "float32" or uint8_output:
            reference_path = float32_paths.get(dynamic_batch)
            if reference_path is None:
                reference_path = work / f"reference_{int(dynamic_batch)}.tflite"
                reference_path.write_bytes(
                    convert("float32", None if dynamic_batch else 1, False, False)
                )
                float32_paths[dynamic_batch] = reference_path
            shares, attribution_notes = _error_by_op_type(
                reference_path,
                path,
                network,
                _rows(verification, 0, _ATTRIBUTION_SAMPLES),
                dynamic_batch,
            )
            notes += attribution_notes
        reports[name] = VariantReport(
            name=name,
            path=str(directory / path.name),
            size_bytes=path.stat().st_size,
            dynamic_batch=dynamic_batch,
            ops=sorted({op["op_name"] for op in interpreter._get_ops_details()}),
            inputs=[_tensor_summary(k, d) for k, d in runner.get_input_details().items()],
            outputs=[_tensor_summary(k, d) for k, d in runner.get_output_details().items()],
            max_abs_error=float(error.max()),
            mean_abs_error=float(error.mean()),
            psnr_db=value,
            psnr_peak=peak,
            psnr_threshold_db=threshold,
            passed=passed,
            latency_ms_batch1=_latency_ms(path, network, verification, 1, latency_repeats),
            latency_ms_batch32=(
                _latency_ms(path, network, verification, 32, max(latency_repeats // 4, 1))
                if dynamic_batch
                else None
            ),
            error_by_op_type=shares,
            notes=notes,
        )
        if grid is not None:
            grids[name] = output[grid[0]]
    shutil.rmtree(work)

    if len(grids) > 1:
        save_sample_grids(staging / GRID_PNG, grids, columns=grid[1])
    shapes = {name: [None, *shape] for name, shape in network.inputs.items()}
    report = ExportReport(
        network=network.name,
        directory=str(directory),
        signature=network.signature,
        input_shape=next(iter(shapes.values())),
        output_shape=[None, *expected.shape[1:]],
        num_verification_samples=_count(verification),
        num_calibration_samples=_count(calibration),
        saved_model=str(directory / SAVED_MODEL_DIR) if "saved_model" in formats else None,
        grid=str(directory / GRID_PNG) if len(grids) > 1 else None,
        variants=reports,
        versions={
            name: importlib.metadata.version(name)
            for name in ("tensorflow", "keras", "ai-edge-litert")
        },
        passed=all(v.passed for v in reports.values()),
        input_shapes=shapes,
    )
    report.write(staging)
    progress.add(1)
    return report


def load_model_for_export(path) -> keras.Model:
    """Loads a `.keras` model file, or `vae.keras` from a run directory, for export.

    Raises `ValueError` naming the path when it is missing, not a `.keras` archive, or
    cannot be loaded (e.g. a corrupt file).
    """
    path = pathlib.Path(path)
    if path.is_dir():
        candidates = [path / "vae.keras", *sorted(path.glob("*.keras"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ValueError(
                f"load_model_for_export() expects a .keras file or a run directory holding"
                f" vae.keras; {path} holds no .keras file."
            )
        path = found
    if not path.is_file():
        raise ValueError(f"load_model_for_export() expects an existing .keras file; got {path}.")
    if path.suffix != ".keras":
        raise ValueError(f"load_model_for_export() expects a Keras `.keras` file; got {path.name}.")
    try:
        model = keras.saving.load_model(path)
    except Exception as error:  # zipfile, JSON and deserialisation errors alike
        raise ValueError(
            f"load_model_for_export() could not load {path} as a Keras model"
            f" ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})."
        ) from None
    return model


__all__ = [
    "DEFAULT_PSNR_THRESHOLDS",
    "FORMATS",
    "ExportReport",
    "FidelityError",
    "VariantReport",
    "export_decoder",
    "export_encoder",
    "load_model_for_export",
    "markdown_table",
    "REPORT_JSON",
    "REPORT_MD",
]
