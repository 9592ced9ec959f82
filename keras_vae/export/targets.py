"""What is exported: the signatures of the decoder or encoder, with their data and reference.

A decoder target has the signature `decode(z)` (or `decode(z, labels)` for a conditional
model) and, with a sampler, `generate(noise, component)` (`generate(noise, component,
choice)` for a conditional model), built in one place (`generate_signature`) from what
`generate_source` converts the sampler to once: a `GaussianMixture`, or a conditional
model's class prior as `ClassMixtures`, one mixture per class. An encoder target has
`encode(images)`. Each `Signature` carries its calibration and verification inputs and the
Keras function every exported file is compared with.
"""

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from keras_vae.export import inputs as export_inputs

# The resolution of `choice` in a conditional `generate`: an int in [0, CHOICE_LEVELS), defined
# by the device's own runner, which reads it without keras_vae.
from keras_vae.export.run_tflite import CHOICE_LEVELS
from keras_vae.latent.mixture import GaussianMixture, as_mixture
from keras_vae.priors import ClassConditionalPrior


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


# ---------------------------------------------------------------------------------------------
# `generate`: what it draws from, fixed once at the entry, and the one function that builds it.


@dataclasses.dataclass(frozen=True)
class ClassMixtures:
    """A class-conditional prior as a conditional `generate` draws from it: one
    `GaussianMixture` per class (diagonal Gaussians), each class's weights on the grid of
    `choice` (multiples of 1 / `CHOICE_LEVELS`, so the exported thresholds hold them exactly).

    `names` are the classes' names (the web page's pools); `mixtures[y]` is p(z | y).
    """

    names: tuple
    mixtures: tuple

    @property
    def latent_dim(self) -> int:
        return self.mixtures[0].latent_dim


def class_mixtures(prior, names=None) -> ClassMixtures:
    """A `ClassConditionalPrior` as `ClassMixtures`: the one place that reads the prior's
    tables (`component_parameters` of each class). A class's weights are rounded to the
    grid of `choice` as the exported thresholds round them, the last threshold closing the
    range, so the mixture is what the exported `generate` draws."""
    mixtures = []
    for label in range(prior.num_classes):
        means, scales, weights = prior.component_parameters(label)
        thresholds = np.round(np.cumsum(weights) * CHOICE_LEVELS).astype("int64")
        thresholds[-1] = CHOICE_LEVELS
        on_grid = np.diff(thresholds, prepend=0) / CHOICE_LEVELS
        component_names = [f"{label}/{k}" for k in range(len(weights))]
        mixtures.append(GaussianMixture.from_diagonal(means, scales, on_grid, component_names))
    names = names or [str(label) for label in range(prior.num_classes)]
    return ClassMixtures(tuple(str(name) for name in names), tuple(mixtures))


def generate_source(model, sampler, method):
    """What `generate` draws from, converted once from `export_decoder`'s `sampler`: a
    `GaussianMixture` (from a mixture or anything with `as_mixture()`: samplers,
    `LatentPools`, priors), checked against the model's latent size; for a conditional model
    its class prior as `ClassMixtures`."""
    if export_inputs.is_conditional(model):
        prior = getattr(model, "prior", None)
        if isinstance(sampler, ClassMixtures):
            source = sampler
        elif sampler is prior and isinstance(prior, ClassConditionalPrior):
            source = class_mixtures(prior, getattr(model, "class_names", None))
        else:
            raise ValueError(
                f"{method} adds `generate` to a conditional model from its own class prior:"
                " pass `sampler=model.prior` (a ClassConditionalPrior); got"
                f" {type(sampler).__name__} for a {type(model).__name__} whose prior is"
                f" {type(prior).__name__}."
            )
        _check_class_mixtures(source, model, method)
        return source
    return as_mixture(sampler, model.latent_dim, method)


def _check_class_mixtures(source, model, method) -> None:
    """Refuses `ClassMixtures` that a conditional `generate` cannot hold for `model`."""
    c = int(model.num_classes)
    if len(source.mixtures) != c or len(source.names) != c:
        raise ValueError(
            f"{method} expects `sampler` with one mixture and one name per class ({c}); got"
            f" {len(source.mixtures)} mixtures and {len(source.names)} names."
        )
    for mixture in source.mixtures:
        mixture.check_latent_dim(model.latent_dim, method)
    sizes = sorted({mixture.n_components for mixture in source.mixtures})
    if len(sizes) != 1:
        raise ValueError(
            f"{method} expects `sampler` with the same number of components in every class;"
            f" got {sizes}."
        )
    for mixture in source.mixtures:
        tril = mixture.scale_tril
        if np.any(tril != tril * np.eye(mixture.latent_dim)):
            raise ValueError(
                f"{method} expects `sampler` of diagonal Gaussians per class (the conditional"
                " `generate` scales the noise elementwise); got a full scale_tril."
            )


def generate_tables(source) -> dict:
    """The constants an exported `generate` holds, float32 and int32.

    For a `GaussianMixture`: `means` (k, d) and `scale_tril` (k, d, d). For `ClassMixtures`
    (c classes of k components each): `means` and `scales` (c * k, d) in class-major order,
    `thresholds` (c, k) int32 (each class's cumulative weights times `CHOICE_LEVELS`, the last
    one `CHOICE_LEVELS`) and the one-hot `labels` (c, c).
    """
    if isinstance(source, GaussianMixture):
        return {"means": source.means, "scale_tril": source.scale_tril}
    means = np.concatenate([mixture.means for mixture in source.mixtures])
    scales = np.concatenate(
        [np.diagonal(mixture.scale_tril, axis1=1, axis2=2) for mixture in source.mixtures]
    )
    weights = np.stack([mixture.weights for mixture in source.mixtures])
    thresholds = np.round(np.cumsum(weights, axis=-1) * CHOICE_LEVELS).astype("int32")
    thresholds[:, -1] = CHOICE_LEVELS
    c = len(source.mixtures)
    return {
        "means": means.astype("float32"),
        "scales": np.ascontiguousarray(scales, "float32"),
        "thresholds": thresholds,
        "labels": np.eye(c, dtype="float32"),
    }


def class_prior_tables(prior) -> dict:
    """A `ClassConditionalPrior` as the tables of a conditional `generate` (see
    `generate_tables`)."""
    return generate_tables(class_mixtures(prior))


def class_prior_latents(tables, noise, component, choice):
    """Numpy reference of the conditional `generate`'s latents: component `k` of class
    `component` is the first whose threshold exceeds `choice`."""
    k = tables["thresholds"].shape[1]
    within = (choice[:, None] >= tables["thresholds"][component]).sum(axis=1)
    flat = component * k + within
    return (tables["means"][flat] + tables["scales"][flat] * noise).astype("float32")


def pool_table(source) -> tuple:
    """The pools of `source` by name, `(names, means (k, d) float64)`, in the order
    `generate`'s `component` indexes them: a mixture's components, or the classes of
    `ClassMixtures` (each class's mean, its components weighted)."""
    if isinstance(source, GaussianMixture):
        return list(source.component_names), np.asarray(source.means, "float64")
    means = np.stack(
        [(np.asarray(m.weights, "float64")[:, None] * m.means).sum(axis=0) for m in source.mixtures]
    )
    return list(source.names), means


def describe_source(model, source) -> str:
    """What `generate` draws from, in words (the title of `sample_grids.png`)."""
    if isinstance(source, ClassMixtures):
        return "the model's class prior p(z | y), one row per class"
    k = source.n_components
    if _is_model_prior(model, source):
        return f"the model's learned prior ({k} Gaussians)"
    if source.component_names == ["prior"] and not source.means.any():
        scale = float(source.scale_tril[0, 0, 0])
        identity = np.array_equal(source.scale_tril[0], scale * np.eye(source.latent_dim))
        if identity:
            return "the prior N(0, I)" if scale == 1.0 else f"the prior N(0, {scale:g}^2 I)"
    defaults = [f"component {i}" for i in range(k)]
    if source.component_names != defaults:
        shown = ", ".join(source.component_names[:10]) + (", ..." if k > 10 else "")
        return f"the pool {shown}" if k == 1 else f"{k} pools ({shown})"
    return f"a mixture of {k} Gaussians"


def _is_model_prior(model, mixture) -> bool:
    """Whether `mixture` holds the components of the model's own learned prior."""
    prior = getattr(model, "prior", None)
    if not getattr(prior, "is_learned", False) or not hasattr(model, "prior_sampler"):
        return False
    own = model.prior_sampler().as_mixture()
    return own.means.shape == mixture.means.shape and np.allclose(own.means, mixture.means)


def _generate_inputs(n, latent_dim, components, rng) -> dict:
    return {
        "noise": rng.standard_normal((n, latent_dim)).astype("float32"),
        "component": (np.arange(n) % components).astype("int32"),
    }


def with_generate(target, model, source, options) -> ExportTarget:
    """`target` plus the `generate` signature of `source` (see `generate_signature`)."""
    signature = generate_signature(model, source, options)
    return dataclasses.replace(target, signatures=(*target.signatures, signature))


def generate_signature(model, source, options) -> Signature:
    """The signature that draws from `source` (what `generate_source` gives), with builtin
    ops only before the decoder: the one place where `generate` is built.

    A `GaussianMixture` gives `generate(noise, component)`: the decoder mean of
    z = means[component] + scale_tril[component] @ noise (GATHER, MUL, SUM, ADD).
    `ClassMixtures` give `generate(noise, component, choice)`: `component` is the class,
    `choice` (uniform in [0, CHOICE_LEVELS)) picks the Gaussian of that class's mixture by its
    weight, and z = mean + scale * noise is decoded with the class's one-hot label. The
    choice runs on integers (GATHER, GREATER_EQUAL, CAST, SUM), so quantization cannot move it.
    """
    tables = generate_tables(source)
    conditional = isinstance(source, ClassMixtures)
    rng = np.random.default_rng(options.seed + 1)
    d = int(model.latent_dim)
    draw = _class_draw(tables, d, rng) if conditional else _mixture_draw(tables, d, rng)

    def generate(*tensors, as_uint8):
        z, labels = draw.latents(*tensors)
        mean = export_inputs.decode_mean(model, z, labels)
        return {"image": to_uint8(mean) if as_uint8 else mean}

    def reference(data):
        z, labels = draw.reference(data)
        return np.asarray(model.decode(z) if labels is None else model.decode(z, labels))

    # Each kind draws its two sets in the order earlier versions did, so that a seed gives
    # the files it gave.
    if conditional:
        verification = draw.inputs(options.num_verification_samples)
        calibration = draw.inputs(options.num_calibration_samples)
    else:
        calibration = draw.inputs(options.num_calibration_samples)
        verification = draw.inputs(options.num_verification_samples)
    one_hot = tables["labels"][verification["component"]] if conditional else None
    # The class prior's words end in "one row per class", set off by a comma.
    comma, arguments = ("," if conditional else ""), ", ".join(draw.names)
    return Signature(
        "generate",
        draw.names,
        "image",
        generate,
        reference,
        calibration,
        verification,
        {name: "int32" for name in draw.names if name != "noise"},
        draws=f"Draws from {describe_source(model, source)}{comma} through generate({arguments})",
        grid=export_inputs.grid_layout(one_hot, options.num_verification_samples),
    )


class _Draw(NamedTuple):
    """How one kind of `generate` turns its inputs into latents: `latents(*tensors)` in the
    graph and `reference(data)` in numpy, each `(z, labels or None)`; `inputs(n)` draws
    example inputs; `names` maps input names to the shape of one example."""

    latents: Callable
    reference: Callable
    inputs: Callable
    names: dict


def _mixture_draw(tables, d, rng) -> _Draw:
    means, scale_tril = tables["means"], tables["scale_tril"]
    k = len(means)

    def latents(noise, component):
        chosen = tf.gather(scale_tril, component)  # (batch, d, d)
        offset = tf.reduce_sum(chosen * noise[:, tf.newaxis, :], axis=-1)
        return tf.gather(means, component) + offset, None

    def reference(data):
        chosen = scale_tril[data["component"]]
        z = means[data["component"]] + np.einsum("bij,bj->bi", chosen, data["noise"])
        return z.astype("float32"), None

    def inputs(n):
        return _generate_inputs(n, d, k, rng)

    return _Draw(latents, reference, inputs, {"noise": (d,), "component": ()})


def _class_draw(tables, d, rng) -> _Draw:
    constants = {name: tf.constant(value) for name, value in tables.items()}
    c, k = tables["thresholds"].shape

    def latents(noise, component, choice):
        chosen = tf.gather(constants["thresholds"], component)  # (batch, k)
        above = tf.cast(choice[:, tf.newaxis] >= chosen, tf.int32)
        flat = component * k + tf.reduce_sum(above, axis=-1)
        z = tf.gather(constants["means"], flat) + tf.gather(constants["scales"], flat) * noise
        return z, tf.gather(constants["labels"], component)

    def reference(data):
        z = class_prior_latents(tables, data["noise"], data["component"], data["choice"])
        return z, data["component"]

    def inputs(n):
        choice = {"choice": rng.integers(0, CHOICE_LEVELS, n).astype("int32")}
        return _generate_inputs(n, d, c, rng) | choice

    return _Draw(latents, reference, inputs, {"noise": (d,), "component": (), "choice": ()})
