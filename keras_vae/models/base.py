"""What the autoencoder and the VAE share: networks, input checks, the training loop, and
the numpy-facing methods (`encode`, `decode`, `sample`, `reconstruct`)."""

import copy

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae import losses, validation
from keras_vae.layers.decoder import Decoder
from keras_vae.layers.encoder import Encoder
from keras_vae.layers.sampling import Sampling
from keras_vae.models import network_checks, standalone
from keras_vae.models.distribution import is_multi_worker, replica_count
from keras_vae.models.optimizer import recommended_optimizer
from keras_vae.models.preset_methods import PresetMixin

LIKELIHOODS = ("bernoulli", "gaussian")
# `gaussian_variance` values that learn the variance: one scalar, or one per image channel.
LEARNED_VARIANCES = ("learned", "learned_per_channel")

# Keras starts dynamic loss scaling at 2 ** 15, sized for a loss near 1. Our objective sums
# log-likelihoods over pixels (hundreds of nats per image), so float16 gradients overflow at
# that scale and the first steps are skipped while it halves; starting lower skips none.
FLOAT16_INITIAL_LOSS_SCALE = 2.0**6


def as_float32(outputs):
    """Network outputs as float32 tensors, whatever the compute dtype (mixed precision)."""
    if isinstance(outputs, list | tuple):
        return tuple(ops.cast(t, "float32") for t in outputs)
    return ops.cast(outputs, "float32")


def _to_numpy(outputs):
    """A tensor, or a tuple of them, as numpy."""
    if isinstance(outputs, list | tuple):
        return tuple(ops.convert_to_numpy(t) for t in outputs)
    return ops.convert_to_numpy(outputs)


def _is_dataset(value) -> bool:
    return isinstance(value, tf.data.Dataset)


@keras.saving.register_keras_serializable(package="keras_vae")
class BaseAutoEncoder(PresetMixin, keras.Model):
    """Base class of `AutoEncoder` and `VAE`; subclass it to add a model with a new loss.

    A subclass sets `probabilistic` (whether the encoder returns `(z_mean, z_log_var)`),
    `loss_names` (the metrics that `fit` reports, `"loss"` first) and implements
    `compute_losses(x, training)`, returning the scalar objective to minimise and a dict of
    per-example values, one per entry of `loss_names`. Everything else, the custom
    `train_step`/`test_step`, distribution, input checks and the numpy methods, is here.

    Networks: `encoder` is any Keras layer or model mapping images of `input_shape` to
    `(z_mean, z_log_var)` (or to `z` for a deterministic model), `decoder` any layer or model
    mapping `(batch, latent_dim)` to unactivated outputs of `input_shape` (logits for
    Bernoulli, means for Gaussian). Both are checked once at construction: the output count
    and shapes, and for Bernoulli that the decoder gives logits (a final sigmoid or softmax is
    refused, outputs all in [0, 1] warned). An encoder returning `[z_mean, z_log_var, z]`, as
    in the keras-io VAE example, is accepted and its first two outputs used.

    Conditioning lives here too: `encode`, `decode`, `reconstruct`, `sample`, `fit` and
    `evaluate` take a conditional model's labels (`labels=`, `y` in `fit`) in one place, and
    a subclass with a condition only says how labels become it (`is_conditional`,
    `condition_from_labels`, `symbolic_condition`, `default_labels`, and its networks'
    `network_probes`). Labels given to a model without a condition, or missing for one with
    it, raise a `ValueError` naming the argument. Every model samples with one signature,
    `sample(n, *, seed=None, sampler=None, labels=None, temperature=1.0)`.

    Code that works with any model calls the contract instead of asking for the class:
    `is_conditional`, `condition_from_labels`, `encode_tensors`, `decode_tensors` and
    `sample(..., sampler=)`; `decoder_model()`/`encoder_model()` give the networks as
    functional models for Keras's own export.

    Args:
        encoder: keras.Layer or None. Images -> the code (or `(z_mean, z_log_var)`); None builds
            the default `Encoder`.
        decoder: keras.Layer or None. Code -> unactivated outputs of `input_shape`; None builds the
            default `Decoder`.
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Image shape `(height, width, channels)`. Defaults to `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"` for the default networks. Defaults to `"conv"`.
        likelihood: str. `"bernoulli"` or `"gaussian"`. Defaults to `"bernoulli"`.
        gaussian_variance: str or float. `"learned"`, `"learned_per_channel"` or a fixed variance
            (Gaussian likelihood only). Defaults to `"learned"`.
        seed: int or None. Seed of the model's random draws. Defaults to `None`.
    """

    probabilistic = True
    loss_names = ("loss", "reconstruction_loss")

    def __init__(
        self,
        encoder=None,
        decoder=None,
        latent_dim=2,
        input_shape=(28, 28, 1),
        architecture="conv",
        likelihood="bernoulli",
        gaussian_variance="learned",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        image_shape = tuple(int(d) for d in input_shape)
        self._check_arguments(latent_dim, image_shape, likelihood, gaussian_variance)

        # === Layers ===
        self.encoder = encoder or Encoder(
            latent_dim=latent_dim,
            input_shape=image_shape,
            architecture=architecture,
            probabilistic=self.probabilistic,
            name="encoder",
            dtype=self.dtype_policy,
        )
        self.decoder = decoder or Decoder(
            latent_dim=latent_dim,
            output_shape=image_shape,
            architecture=architecture,
            name="decoder",
            dtype=self.dtype_policy,
        )
        self.sampling = Sampling(seed=seed, name="sampling", dtype=self.dtype_policy)
        self.output_log_var = self._learned_log_variance(likelihood, gaussian_variance, image_shape)
        self.trackers = [keras.metrics.Mean(name=name) for name in self.loss_names]

        # === Config ===
        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.architecture = architecture
        self.likelihood = likelihood
        self.gaussian_variance = gaussian_variance
        self.seed = seed

        # === Functional/wiring ===
        # Built through Keras's `build()`, which records the input shapes, then called once on
        # the zero probe batch: `Model.export()` needs both, and the networks are checked here,
        # where a user who passed the wrong network learns it.
        probe = self.network_probes()[0]
        self.build(keras.tree.map_structure(lambda t: (None, *t.shape[1:]), probe))
        self(probe)

    def _check_arguments(self, latent_dim, image_shape, likelihood, gaussian_variance):
        owner = type(self).__name__
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"{owner} expects `latent_dim` as an int >= 1; got {latent_dim!r}.")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"{owner} expects `likelihood` in {LIKELIHOODS}; got {likelihood!r}.")
        if gaussian_variance not in LEARNED_VARIANCES and not (
            isinstance(gaussian_variance, int | float) and gaussian_variance > 0
        ):
            raise ValueError(
                f"{owner} expects `gaussian_variance` as one of {LEARNED_VARIANCES} or a"
                f" positive number; got {gaussian_variance!r}."
            )
        per_channel = likelihood == "gaussian" and gaussian_variance == "learned_per_channel"
        if per_channel and len(image_shape) != 3:
            raise ValueError(
                f"{owner} with gaussian_variance='learned_per_channel' expects an image"
                f" `input_shape` (height, width, channels); got {image_shape}. Use 'learned'"
                " for other inputs."
            )

    def _learned_log_variance(self, likelihood, gaussian_variance, image_shape):
        """The Gaussian likelihood's learned log-variance (one for every pixel, or one per
        channel, the last axis), or None where the variance is fixed or the likelihood is
        Bernoulli."""
        if likelihood != "gaussian" or gaussian_variance not in LEARNED_VARIANCES:
            return None
        per_channel = gaussian_variance == "learned_per_channel"
        return self.add_weight(
            shape=(image_shape[-1],) if per_channel else (),
            initializer="zeros",
            trainable=True,
            name="output_log_var",
        )

    def build(self, input_shape=None):
        """Builds the networks by running them on zero probe batches and checks them.

        Subclasses that add variables create them here (before calling this), as Keras
        locks a model's state once it is built.
        """
        self._check_networks()

    # Construction -------------------------------------------------------------------------

    def network_probes(self):
        """Zero batches the networks are checked on at construction, and how to name them.

        Returns `(encoder_input, decoder_input, encoder_inputs_name, decoder_inputs_name)`;
        a subclass whose networks take more inputs (a label) overrides it.
        """
        return ops.zeros((1, *self.image_shape)), ops.zeros((1, self.latent_dim)), "images", "z"

    def _check_networks(self):
        network_checks.check_networks(self)

    # The model contract: what evaluation, latent tools, callbacks and export call -----------

    @property
    def is_conditional(self) -> bool:
        """Whether the networks also take a condition (a one-hot label); see `ConditionalVAE`."""
        return False

    def condition_from_labels(self, labels, n=None, method="condition_from_labels"):
        """The condition the networks take for `labels`: None here, as this model takes none.

        A conditional model overrides it to return float32 one-hot rows `(n, num_classes)`.
        Raises `ValueError` naming `method` when labels are given to a model without a
        condition, rather than ignoring them.
        """
        if labels is None:
            return None
        hint = ""
        if isinstance(labels, int | np.integer) and not isinstance(labels, bool):
            hint = " (an int here was the `batch_size` of earlier versions: pass batch_size=)"
        raise ValueError(
            f"{type(self).__name__}.{method}() takes no `labels`: the model is not conditional;"
            f" got {type(labels).__name__}{hint}."
        )

    def default_labels(self, n):
        """The labels `sample(n)` draws when none are given: None for a model without a
        condition (a conditional model gives its classes in turn)."""
        return None

    def symbolic_condition(self, labels):
        """The condition for a dataset batch's `labels` tensor (inside `fit`): None here."""
        return None

    def network_inputs(self, tensor, condition, method):
        """What a network takes: `tensor` alone, or `[tensor, condition]` for a conditional
        model. The one place that checks a condition is given exactly when the model takes
        one, and says so naming `method`."""
        owner = f"{type(self).__name__}.{method}()"
        if not self.is_conditional:
            if condition is not None:
                raise ValueError(
                    f"{owner} takes no `condition`: the model is not conditional; got"
                    f" {type(condition).__name__}."
                )
            return tensor
        if condition is None:
            raise ValueError(
                f"{owner} needs `condition`, one-hot rows (n, num_classes) (see"
                " `condition_from_labels`); got None."
            )
        return [tensor, condition]

    def split_inputs(self, inputs):
        """`(images, condition)` of the model's call inputs: `images`, or `[images, one_hot]`
        for a conditional model."""
        if self.is_conditional:
            images, condition = inputs
            return images, condition
        return inputs, None

    def encode_tensors(self, x, condition=None, training=False):
        """The encoder's outputs for images `x` (with the one-hot `condition` of a conditional
        model) as float32 tensors: `(z_mean, z_log_var)` for a VAE, `z` for an autoencoder.
        No input checks: for graphs and batched loops."""
        inputs = self.network_inputs(x, condition, "encode_tensors")
        encoded = self.encoder(inputs, training=training)
        return as_float32(network_checks.posterior_outputs(self, encoded))

    def decode_tensors(self, z, condition=None, training=False):
        """The decoder's raw output for latent vectors `z` (and the one-hot `condition` of a
        conditional model: logits for Bernoulli, means for Gaussian) as float32 tensors;
        `output_mean` turns it into images."""
        inputs = self.network_inputs(z, condition, "decode_tensors")
        return as_float32(self.decoder(inputs, training=training))

    def latent_code(self, encoded):
        """The code `z` the decoder gets for the encoder's output: the posterior mean of a
        VAE, the code itself for an autoencoder."""
        return encoded[0] if self.probabilistic else encoded

    def decoder_model(self, output="mean"):
        """The decoder as a plain functional `keras.Model` sharing this model's weights, for
        Keras's own tools: `vae.decoder_model().export("decoder.tflite", format="litert")`.

        Inputs `z` (and one-hot `labels` for a conditional model); output the images (the
        mean of p(x | z)), or the raw logits with `output="raw"`; float32.
        """
        return standalone.decoder_model(self, output)

    def encoder_model(self):
        """The encoder as a plain functional `keras.Model` sharing this model's weights:
        images (and one-hot `labels`) -> `[z_mean, z_log_var]` (VAE) or `z`, float32."""
        return standalone.encoder_model(self)

    # Distribution of the outputs ------------------------------------------------------------

    def _output_log_var(self):
        if self.output_log_var is not None:
            return self.output_log_var
        return float(np.log(self.gaussian_variance))

    def reconstruction_log_likelihood(self, x, decoder_output):
        """log p(x | z) per example, given the decoder's unactivated output for z."""
        if self.likelihood == "bernoulli":
            return losses.bernoulli_log_likelihood(x, decoder_output)
        return losses.gaussian_log_likelihood(x, decoder_output, self._output_log_var())

    def output_mean(self, decoder_output):
        """The mean of p(x | z): the sigmoid of the logits (Bernoulli) or the output itself."""
        if self.likelihood == "bernoulli":
            return ops.sigmoid(decoder_output)
        return decoder_output

    # Training -------------------------------------------------------------------------------

    def compute_losses(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} must implement compute_losses().")

    @property
    def metrics(self):
        return list(self.trackers)

    def compile(self, optimizer=None, auto_scale_loss=True, **kwargs):
        """Like `keras.Model.compile`; with no optimizer, uses `recommended_optimizer()`.

        Under the `"mixed_float16"` policy the optimizer is wrapped in a
        `keras.optimizers.LossScaleOptimizer` starting at a loss scale of
        `FLOAT16_INITIAL_LOSS_SCALE` (unless it is one already or `auto_scale_loss=False`).
        """
        optimizer = keras.optimizers.get(optimizer or recommended_optimizer())
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        ):
            optimizer = keras.optimizers.LossScaleOptimizer(
                optimizer, initial_scale=FLOAT16_INITIAL_LOSS_SCALE
            )
        super().compile(optimizer=optimizer, auto_scale_loss=auto_scale_loss, **kwargs)

    def compile_from_config(self, config):
        # Restores the compiled state on load, so a reloaded model resumes training with its
        # optimizer (and its state, which Keras loads after this call).
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        self.optimizer.build(self.trainable_variables)

    def _batch_inputs(self, data):
        """`(images, condition)` of a dataset batch; a conditional model needs its labels."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.check_symbolic_images(x, "fit")
        if not self.is_conditional:
            return x, None
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.fit() needs labels: pass `fit(x, y)` or a dataset of"
                " (images, labels) pairs."
            )
        return x, self.symbolic_condition(y)

    def _batch_objective(self, data, training):
        x, condition = self._batch_inputs(data)
        if condition is None:
            # The signature subclasses of earlier versions implement.
            return self.compute_losses(x, training=training)
        return self.compute_losses(x, training=training, condition=condition)

    def check_symbolic_images(self, x, method):
        """Checks the dtype and static shape of an image tensor (a dataset batch)."""
        owner = type(self).__name__
        if not x.dtype.is_floating:
            raise TypeError(
                f"{owner}.{method}() expects images as floats scaled to [0, 1]; got dtype"
                f" {x.dtype.name}. Map the dataset with `tf.cast(x, 'float32') / 255`."
            )
        if x.shape.rank != len(self.image_shape) + 1 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"{owner}.{method}() expects images of shape (None, "
                f"{', '.join(map(str, self.image_shape))}); got {tuple(x.shape)}."
            )

    def _update_trackers(self, per_example):
        for tracker in self.trackers:
            tracker.update_state(per_example[tracker.name])
        results = {tracker.name: tracker.result() for tracker in self.trackers}
        if is_multi_worker():
            # Keras reduces step outputs across workers with `reduce(MEAN, axis=0)`, which
            # fails on scalars (tensorflow/tensorflow#72388); shape (1,) reduces to a scalar.
            results = {name: ops.reshape(value, (1,)) for name, value in results.items()}
        return results

    def train_step(self, data):
        with tf.GradientTape() as tape:
            objective, per_example = self._batch_objective(data, training=True)
            if self.losses:
                objective = objective + ops.sum(self.losses)
            # Each replica sees its share of the global batch and the optimizer sums the
            # gradients over replicas, so the per-replica mean is divided by their count.
            scaled = self.optimizer.scale_loss(objective / replica_count())
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self._update_trackers(per_example)

    def test_step(self, data):
        _, per_example = self._batch_objective(data, training=False)
        return self._update_trackers(per_example)

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        """Like `keras.Model.fit`, with the inputs checked before training starts.

        `x` is a float array of images in [0, 1] (any range for Gaussian), or a `tf.data`
        dataset of images or `(images, labels)` pairs. A conditional model trains on the
        labels (`fit(x, y)` with arrays, `validation_data=(images, labels)`); the others
        ignore them.
        """
        x, y = self._training_pair(x, y, "x", "fit")
        if kwargs.get("batch_size") is not None:
            # Keras would fail deep inside TensorFlow on e.g. a float batch size.
            validation.check_positive_int(
                kwargs["batch_size"], "batch_size", f"{type(self).__name__}.fit()"
            )
        if validation_data is not None and not _is_dataset(validation_data):
            validation_data = self._checked_validation_data(validation_data)
        return super().fit(x, y, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        """Like `keras.Model.evaluate`, with the inputs (and a conditional model's labels
        `y`) checked as in `fit`."""
        return super().evaluate(*self._training_pair(x, y, "x", "evaluate"), **kwargs)

    def _checked_validation_data(self, validation_data):
        owner = f"{type(self).__name__}.fit()"
        is_pair = isinstance(validation_data, list | tuple)
        if self.is_conditional and (not is_pair or len(validation_data) < 2):
            raise ValueError(f"{owner} expects `validation_data` as (images, labels).")
        if not is_pair:
            return (self._training_pair(validation_data, None, "validation_data", "fit")[0],)
        labels = validation_data[1] if len(validation_data) > 1 else None
        images, labels = self._training_pair(validation_data[0], labels, "validation_data", "fit")
        if self.is_conditional:
            return (images, labels, *validation_data[2:])
        return (images, *validation_data[1:])

    def _training_pair(self, x, y, name, method):
        """`(x, y)` for Keras: images checked, and a conditional model's labels as one-hot
        rows, one per image. Datasets pass as they are (their batches are checked in
        `train_step`)."""
        owner = type(self).__name__
        if x is None:
            # Keras itself fails on a missing `x` with an unrelated KeyError.
            raise ValueError(
                f"{owner}.{method}() expects `{name}` as images or a tf.data dataset; got None."
            )
        if _is_dataset(x) or isinstance(x, keras.utils.PyDataset):
            return x, y
        x = self.check_images(x, name, method)
        if not self.is_conditional:
            return x, y
        if y is None:
            raise ValueError(f"{owner}.{method}() needs labels `y` for `{name}` (one per image).")
        return x, self.condition_from_labels(y, len(x), method)

    # Numpy-facing methods -------------------------------------------------------------------

    def check_images(self, x, name="x", method="encode"):
        """Validates images and returns them as float32; raises with a message naming `name`."""
        owner = f"{type(self).__name__}.{method}()"
        array = validation.as_float_array(x, name, self.image_shape, owner)
        if self.likelihood == "bernoulli":
            validation.check_unit_range(array, name, owner)
        return array

    def check_latents(self, z, name="z", method="decode"):
        owner = f"{type(self).__name__}.{method}()"
        return validation.as_float_array(z, name, (self.latent_dim,), owner)

    def _batched(self, function, array, batch_size, method=None):
        """Applies `function` to `array` in batches and concatenates the (tuples of) results."""
        owner = type(self).__name__ + (f".{method}()" if method else "")
        batch_size = validation.check_positive_int(batch_size, "batch_size", owner)
        outputs = [function(array[i : i + batch_size]) for i in range(0, len(array), batch_size)]
        if isinstance(outputs[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*outputs))
        return np.concatenate(outputs)

    def _batched_with_condition(self, function, array, condition, batch_size, method):
        """`function(batch, condition_batch)` over `array` in batches (the condition None, or
        rows matching `array`'s), the results concatenated."""
        if condition is None:
            return self._batched(lambda batch: function(batch, None), array, batch_size, method)
        return self._batched(
            lambda index: function(array[index], condition[index]),
            np.arange(len(array)),
            batch_size,
            method,
        )

    def encode(self, x, labels=None, batch_size=256):
        """Encodes images `(n, *input_shape)` (with their `labels` for a conditional model):
        `(z_mean, z_log_var)`, each `(n, latent_dim)`, for a VAE; the codes for an
        autoencoder."""
        x = self.check_images(x)
        condition = self.condition_from_labels(labels, len(x), "encode")
        return self._batched_with_condition(
            lambda batch, rows: _to_numpy(self.encode_tensors(batch, rows)),
            x,
            condition,
            batch_size,
            "encode",
        )

    def decode(self, z, labels=None, batch_size=256):
        """Decodes latent vectors `(n, latent_dim)` (with labels for a conditional model: an
        int for all, or one per row) to images: the mean of p(x | z)."""
        z = self.check_latents(z)
        condition = self.condition_from_labels(labels, len(z), "decode")
        return self._batched_with_condition(
            lambda batch, rows: _to_numpy(self.output_mean(self.decode_tensors(batch, rows))),
            z,
            condition,
            batch_size,
            "decode",
        )

    def reconstruct(self, x, labels=None, batch_size=256):
        """Encodes and decodes images (given their labels for a conditional model): the
        decoding of the posterior mean for a VAE, `decode(encode(x))` for an autoencoder."""
        x = self.check_images(x, method="reconstruct")
        condition = self.condition_from_labels(labels, len(x), "reconstruct")

        def reconstruct_batch(batch, rows):
            # The networks take tensors or arrays, not a list mixing the two.
            if rows is not None:
                batch, rows = ops.convert_to_tensor(batch), ops.convert_to_tensor(rows)
            z = self.latent_code(self.encode_tensors(batch, rows))
            return _to_numpy(self.output_mean(self.decode_tensors(z, rows)))

        return self._batched_with_condition(
            reconstruct_batch, x, condition, batch_size, "reconstruct"
        )

    def sampling_prior(self):
        """The prior `sample` draws from without a sampler: N(0, I) here (an autoencoder has
        none of its own); a VAE gives its `prior`."""
        from keras_vae.priors.standard_normal import StandardNormalPrior

        if getattr(self, "_standard_normal", None) is None:
            # Weightless and kept out of Keras's tracking: not part of the saved model.
            object.__setattr__(self, "_standard_normal", StandardNormalPrior(self.latent_dim))
        return self._standard_normal

    def prior_latents(self, n, seed=None, labels=None, temperature=1.0):
        """Draws `n` latent vectors from the model's prior (for a conditional model, from
        p(z | y) for `labels`: an int for all, one per row, or None for the classes in
        turn). `temperature` scales the prior's standard deviations; `seed` makes the draw
        repeatable."""
        from keras_vae.latent.mixture import check_temperature

        owner = f"{type(self).__name__}.sample()"
        n = validation.check_positive_int(n, "n", owner)
        temperature = check_temperature(temperature, owner)
        if isinstance(seed, int | np.integer) and not -(2**63) <= seed < 2**63:
            # Keras would fail converting it to a tensor, without naming the argument.
            raise ValueError(f"{owner} expects `seed` as an int64; got {seed}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            # A learned prior draws with numpy, which would fail without naming it either.
            raise ValueError(f"{owner} expects `seed` as an int or None; got {seed!r}.")
        if labels is None:
            labels = self.default_labels(n)
        condition = self.condition_from_labels(labels, n, "sample")
        generator = self.sampling.seed_generator if seed is None else seed
        latents = self.sampling_prior().sample(
            n, seed=generator, condition=condition, temperature=temperature
        )
        return self.check_latents(latents, "prior", "sample")

    def sample_latents(self, n, seed=None, sampler=None):
        """`n` latent vectors from `sampler` (anything with `latent_dim` and
        `sample(n, seed=None)`, see `keras_vae.samplers`), or from the model's prior."""
        if sampler is None:
            return self.prior_latents(n, seed=seed)
        owner = f"{type(self).__name__}.sample()"
        n = validation.check_positive_int(n, "n", owner)
        latent_dim = getattr(sampler, "latent_dim", None)
        if latent_dim != self.latent_dim or not callable(getattr(sampler, "sample", None)):
            raise ValueError(
                f"{owner} expects `sampler` with latent_dim={self.latent_dim} and a"
                f" sample(n, seed) method; got {type(sampler).__name__} with latent_dim"
                f" {latent_dim!r}."
            )
        return self.check_latents(sampler.sample(n, seed=seed), "sampler", "sample")

    def sample(self, n, *positional, seed=None, sampler=None, labels=None, temperature=1.0):
        """Decodes `n` latent draws to images, the same call for every model.

        Everything after `n` goes by keyword. The latent vectors come from `sampler` when
        given (a `keras_vae.samplers` sampler or anything with `latent_dim` and
        `sample(n, seed)`), else from the model's prior, its standard deviations scaled by
        `temperature`. A conditional model decodes them with `labels` (an int for all `n`,
        one per draw, or None for the classes in turn) and, with its class prior, draws them
        from p(z | y); other models take no labels.

        Args:
            n: int >= 1. Number of images.
            seed: int or None. Makes the draw repeatable. Defaults to `None`.
            sampler: a sampler, or None for the model's prior. Defaults to `None`.
            labels: int, sequence of ints or one-hot rows, or None (conditional models
                only). Defaults to `None`.
            temperature: float > 0. Scales the prior's spread (set a sampler's own
                temperature instead). Defaults to `1.0`.
        """
        owner = f"{type(self).__name__}.sample()"
        if positional:
            meaning = "`labels`" if self.is_conditional else "`seed`"
            raise TypeError(
                f"{owner} takes only `n` by position; pass the rest by keyword:"
                f" sample(n, seed=..., sampler=..., labels=..., temperature=...). Got"
                f" {len(positional)} more positional argument(s) {positional!r}, which earlier"
                f" versions read as {meaning} on this model."
            )
        n = validation.check_positive_int(n, "n", owner)
        if labels is None:
            labels = self.default_labels(n)
        if sampler is None:
            latents = self.prior_latents(n, seed=seed, labels=labels, temperature=temperature)
        elif temperature != 1.0:
            raise ValueError(
                f"{owner} scales the prior by `temperature`; with a `sampler` set its own"
                f" temperature instead (got temperature={temperature!r})."
            )
        else:
            latents = self.sample_latents(n, seed=seed, sampler=sampler)
        return self.decode(latents, labels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "latent_dim": self.latent_dim,
                "input_shape": self.image_shape,
                "architecture": self.architecture,
                "likelihood": self.likelihood,
                "gaussian_variance": self.gaussian_variance,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Deserialization may consume parts of nested configs; the caller's dict stays intact.
        config = copy.deepcopy(config)
        for name in ("encoder", "decoder"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
