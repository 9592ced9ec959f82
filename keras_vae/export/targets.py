"""What is exported: the signatures of the decoder or encoder, with their data and reference.

A decoder target has the signature `decode(z)` (or `decode(z, labels)` for a conditional
model) and, with a sampler, `generate(noise, component)`; an encoder target has
`encode(images)`. Each `Signature` carries its calibration and verification inputs and the
Keras function every exported file is compared with.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_vae.export import inputs as export_inputs

# The resolution of `choice` in a conditional `generate`: an int in [0, CHOICE_LEVELS), defined
# by the device's own runner, which reads it without keras_vae.
from keras_vae.export.run_tflite import CHOICE_LEVELS
from keras_vae.layers.class_prior import ClassConditionalPrior


@dataclasses.dataclass(frozen=True)
class Signature:
    """One exported function.

    `inputs` maps each input name to the shape of one example, in the order the traced
    `function(*tensors, as_uint8=...)` takes them; `calibration` and `verification` are dicts
    with the same keys; `reference(data)` is the Keras network's output as a numpy array.
    `dtypes` names the inputs that are not float32 (e.g. `{"component": "int32"}`).
    `draws` says where the verification inputs come from, for the title of
    `sample_grids.png`; `grid` is `(rows, columns)`: which verification outputs the figure
    shows, and in how many columns (`None`: none).
    """

    name: str
    inputs: dict
    output_name: str
    function: Callable
    reference: Callable
    calibration: dict
    verification: dict
    dtypes: dict = dataclasses.field(default_factory=dict)
    draws: str = ""
    grid: tuple | None = None


@dataclasses.dataclass(frozen=True)
class ExportTarget:
    """The network being exported: its signatures (the first is the primary one, that the
    report's sizes, errors and latencies describe), the layer whose variables the SavedModel
    tracks and the PSNR peak (`None`: the reference's range)."""

    name: str
    layer: keras.layers.Layer
    signatures: tuple
    peak: float | None = None

    @property
    def primary(self) -> Signature:
        return self.signatures[0]

    @property
    def grid_signature(self) -> Signature | None:
        """The signature whose draws `sample_grids.png` shows: `generate` where the files have
        it (the model's own draws, as a device makes them), else the primary one."""
        with_grid = [s for s in self.signatures if s.grid is not None]
        return with_grid[-1] if with_grid else None


def to_uint8(mean):
    return tf.cast(tf.round(tf.clip_by_value(mean, 0.0, 1.0) * 255.0), tf.uint8)


def decoder_target(model, options, representative_samples, method) -> ExportTarget:
    rng = np.random.default_rng(options.seed)
    calibration = export_inputs.prior_inputs(model, options.num_calibration_samples, rng)
    verification = export_inputs.prior_inputs(model, options.num_verification_samples, rng)
    if representative_samples is not None:
        extra = export_inputs.representative_inputs(model, representative_samples, rng, method)
        calibration = export_inputs.concatenate(calibration, extra)
    inputs = {"z": (int(model.latent_dim),)}
    if export_inputs.is_conditional(model):
        inputs["labels"] = (int(model.num_classes),)

    def decode(z, labels=None, *, as_uint8):
        mean = export_inputs.decode_mean(model, z, labels)
        return {"image": to_uint8(mean) if as_uint8 else mean}

    def reference(data):
        step = 256
        return np.concatenate(
            [
                keras.ops.convert_to_numpy(
                    export_inputs.decode_mean(
                        model, data["z"][i : i + step], _slice(data.get("labels"), i, step)
                    )
                )
                for i in range(0, export_inputs.count(data), step)
            ]
        )

    grid = export_inputs.grid_layout(verification.get("labels"), options.num_verification_samples)
    signature = Signature(
        "decode",
        inputs,
        "image",
        decode,
        reference,
        calibration,
        verification,
        draws=export_inputs.describe_prior_inputs(model) + ", decoded by decode(z)",
        grid=grid,
    )
    peak = 1.0 if getattr(model, "likelihood", "bernoulli") == "bernoulli" else None
    return ExportTarget("decoder", model.decoder, (signature,), peak)


def _slice(values, start, step):
    return None if values is None else values[start : start + step]


def encoder_target(model, options, representative_samples, method) -> ExportTarget:
    if export_inputs.is_conditional(model):
        raise ValueError(
            f"{method} expects a `model` whose encoder takes images only (VAE or AutoEncoder);"
            f" got a {type(model).__name__}, whose encoder also takes labels. Export its decoder"
            " with export_decoder()."
        )
    if options.uint8_output or options.c_array:
        raise ValueError(
            f"{method} writes float latent means; `uint8_output` and `c_array` are decoder"
            " options. Got uint8_output={options.uint8_output}, c_array={options.c_array}."
        )
    rng = np.random.default_rng(options.seed)
    n_calibration = options.num_calibration_samples
    prior = rng.standard_normal(
        (n_calibration + options.num_verification_samples, model.latent_dim)
    )
    # Without data, the encoder sees images the model itself generates from prior latents.
    generated = np.asarray(model.decode(prior.astype("float32")))
    calibration = generated[:n_calibration]
    if representative_samples is not None:
        images = model.check_images(representative_samples, "representative_samples", "export")
        calibration = np.concatenate([calibration, images[:n_calibration]])
    encoder = model.encoder

    def encode(images, *, as_uint8):
        return {"z_mean": _first_output(encoder(images, training=False))}

    def reference(data):
        images = data["images"]
        return np.concatenate(
            [
                keras.ops.convert_to_numpy(_first_output(encoder(images[i : i + 256])))
                for i in range(0, len(images), 256)
            ]
        )

    signature = Signature(
        "encode",
        {"images": tuple(int(d) for d in model.image_shape)},
        "z_mean",
        encode,
        reference,
        {"images": calibration},
        {"images": generated[n_calibration:]},
    )
    return ExportTarget("encoder", encoder, (signature,))


def _first_output(outputs):
    return outputs[0] if isinstance(outputs, list | tuple) else outputs


def _mixture_tables(model, sampler, method) -> tuple:
    """The sampler's `means` (K, d) and `scale_tril` (K, d, d) as float32, checked."""
    if not hasattr(sampler, "means") or not hasattr(sampler, "scale_tril"):
        raise TypeError(
            f"{method} expects `sampler` with `means` and `scale_tril` (a GaussianMixtureSampler,"
            f" PoolSampler, PriorSampler or LatentPools); got {type(sampler).__name__}."
        )
    means = np.asarray(sampler.means, np.float32)
    scale_tril = np.asarray(sampler.scale_tril, np.float32)
    d = int(model.latent_dim)
    if means.ndim != 2 or means.shape[1] != d or scale_tril.shape != (len(means), d, d):
        raise ValueError(
            f"{method} expects `sampler` fitted on codes of latent size {d}: means (K, {d}) and"
            f" scale_tril (K, {d}, {d}); got {means.shape} and {scale_tril.shape}."
        )
    return means, scale_tril


def _generate_inputs(n, latent_dim, components, rng) -> dict:
    return {
        "noise": rng.standard_normal((n, latent_dim)).astype("float32"),
        "component": (np.arange(n) % components).astype("int32"),
    }


def with_generate(target, model, sampler, options, method) -> ExportTarget:
    """`target` plus the signature `generate(noise, component)`: the decoder mean of
    z = means[component] + scale_tril[component] @ noise, with builtin ops only (GATHER,
    MUL, SUM, ADD before the decoder). A conditional model takes its class prior instead
    (see `_with_class_generate`)."""
    if export_inputs.is_conditional(model):
        return _with_class_generate(target, model, sampler, options, method)
    means, scale_tril = _mixture_tables(model, sampler, method)
    rng = np.random.default_rng(options.seed + 1)
    d, k = int(model.latent_dim), len(means)

    def latents(noise, component):
        chosen = tf.gather(scale_tril, component)  # (batch, d, d)
        offset = tf.reduce_sum(chosen * noise[:, tf.newaxis, :], axis=-1)
        return tf.gather(means, component) + offset

    def generate(noise, component, *, as_uint8):
        mean = export_inputs.decode_mean(model, latents(noise, component))
        return {"image": to_uint8(mean) if as_uint8 else mean}

    def reference(data):
        z = means[data["component"]] + np.einsum(
            "bij,bj->bi", scale_tril[data["component"]], data["noise"]
        )
        return np.asarray(model.decode(z.astype("float32")))

    signature = Signature(
        "generate",
        {"noise": (d,), "component": ()},
        "image",
        generate,
        reference,
        _generate_inputs(options.num_calibration_samples, d, k, rng),
        _generate_inputs(options.num_verification_samples, d, k, rng),
        {"component": "int32"},
        draws=f"Draws from {_sampler_name(model, sampler, means)} through"
        " generate(noise, component)",
        grid=export_inputs.grid_layout(None, options.num_verification_samples),
    )
    return dataclasses.replace(target, signatures=(*target.signatures, signature))


def _sampler_name(model, sampler, means) -> str:
    """What `generate` draws from, in words: the model's own prior when the sampler holds its
    components (what `VAE.prior_sampler()` gives), else the sampler's kind."""
    prior_sampler = getattr(model, "prior_sampler", None)
    if prior_sampler is not None and getattr(model, "prior", None) is not None:
        own = np.asarray(prior_sampler().means, np.float32)
        if own.shape == means.shape and np.allclose(own, means):
            return f"the model's learned prior ({len(means)} Gaussians)"
    if type(sampler).__name__ == "PriorSampler":
        return "the prior N(0, I)"
    return f"a {type(sampler).__name__} ({len(means)} components)"


def class_prior_tables(prior) -> dict:
    """A `ClassConditionalPrior` as the tables of a conditional `generate`: `means` and
    `scales` (c * k, d) in class-major order, `thresholds` (c, k) int32 (the cumulative
    weights of each class's components times `CHOICE_LEVELS`, the last one `CHOICE_LEVELS`)
    and the one-hot `labels` (c, c)."""
    means, scales, weights = (
        np.stack(parts)
        for parts in zip(*(prior.component_parameters(y) for y in range(prior.num_classes)))
    )
    thresholds = np.round(np.cumsum(weights, axis=-1) * CHOICE_LEVELS).astype("int32")
    thresholds[:, -1] = CHOICE_LEVELS
    c, k, d = means.shape
    return {
        "means": means.reshape(c * k, d).astype("float32"),
        "scales": scales.reshape(c * k, d).astype("float32"),
        "thresholds": thresholds,
        "labels": np.eye(c, dtype="float32"),
    }


def class_prior_latents(tables, noise, component, choice):
    """Numpy reference of the conditional `generate`'s latents: component `k` of class
    `component` is the first whose threshold exceeds `choice`."""
    k = tables["thresholds"].shape[1]
    within = (choice[:, None] >= tables["thresholds"][component]).sum(axis=1)
    flat = component * k + within
    return (tables["means"][flat] + tables["scales"][flat] * noise).astype("float32")


def _with_class_generate(target, model, sampler, options, method) -> ExportTarget:
    """`target` plus `generate(noise, component, choice)` for a conditional model with a
    `ClassConditionalPrior`: `component` is the class, `choice` (uniform in
    [0, CHOICE_LEVELS)) picks the Gaussian of that class's mixture by its weight, and
    z = mean + scale * noise is decoded with the class's one-hot label. The choice runs on
    integers (GATHER, GREATER_EQUAL, CAST, SUM), so quantization cannot move it."""
    prior = getattr(model, "prior", None)
    if sampler is not prior or not isinstance(prior, ClassConditionalPrior):
        raise ValueError(
            f"{method} adds `generate` to a conditional model from its own class prior: pass"
            " `sampler=model.prior` (a ClassConditionalPrior); got"
            f" {type(sampler).__name__} for a {type(model).__name__} whose prior is"
            f" {type(prior).__name__}."
        )
    tables = class_prior_tables(prior)
    c, k = tables["thresholds"].shape
    constants = {name: tf.constant(value) for name, value in tables.items()}
    rng = np.random.default_rng(options.seed + 1)
    d = int(model.latent_dim)

    def generate(noise, component, choice, *, as_uint8):
        chosen = tf.gather(constants["thresholds"], component)  # (batch, k)
        above = tf.cast(choice[:, tf.newaxis] >= chosen, tf.int32)
        flat = component * k + tf.reduce_sum(above, axis=-1)
        z = tf.gather(constants["means"], flat) + tf.gather(constants["scales"], flat) * noise
        labels = tf.gather(constants["labels"], component)
        mean = export_inputs.decode_mean(model, z, labels)
        return {"image": to_uint8(mean) if as_uint8 else mean}

    def reference(data):
        z = class_prior_latents(tables, data["noise"], data["component"], data["choice"])
        return np.asarray(model.decode(z, data["component"]))

    def inputs(n):
        choice = {"choice": rng.integers(0, CHOICE_LEVELS, n).astype("int32")}
        return _generate_inputs(n, d, c, rng) | choice

    verification = inputs(options.num_verification_samples)
    one_hot = np.eye(c, dtype="float32")[verification["component"]]
    signature = Signature(
        "generate",
        {"noise": (d,), "component": (), "choice": ()},
        "image",
        generate,
        reference,
        inputs(options.num_calibration_samples),
        verification,
        {"component": "int32", "choice": "int32"},
        draws="Draws from the model's class prior p(z | y), one row per class, through"
        " generate(noise, component, choice)",
        grid=export_inputs.grid_layout(one_hot, options.num_verification_samples),
    )
    return dataclasses.replace(target, signatures=(*target.signatures, signature))
