"""The contracts a user's encoder and decoder must meet, checked once when a model is built,
with messages that say what came and what to return instead."""

import warnings

import keras
import numpy as np
from keras import ops

# Activations after which a decoder's outputs are probabilities, not logits.
_PROBABILITY_ACTIVATIONS = ("sigmoid", "softmax")
_LOGITS_FIX = (
    "return logits (no final activation); keras-vae applies the sigmoid itself, in the"
    " Bernoulli likelihood and in decode()/sample()"
)


def check_networks(model):
    """Runs both networks of `model` on its probe batches: builds their weights and checks
    the output counts, shapes and (for a Bernoulli likelihood) that the decoder gives logits."""
    owner = type(model).__name__
    for name, net in (("encoder", model.encoder), ("decoder", model.decoder)):
        if not isinstance(net, keras.layers.Layer):
            raise TypeError(
                f"{owner} expects `{name}` as a keras Layer or Model; got {type(net).__name__}."
            )
    encoder_input, decoder_input, encoder_from, decoder_from = model.network_probes()
    check_encoder_outputs(model, model.encoder(encoder_input), encoder_from)
    decoded = model.decoder(decoder_input)
    if tuple(decoded.shape[1:]) != model.image_shape:
        raise ValueError(
            f"{owner} expects `decoder` outputs of shape (None, "
            f"{', '.join(map(str, model.image_shape))}) from {decoder_from}; got (None, "
            f"{', '.join(map(str, decoded.shape[1:]))})."
        )
    if model.likelihood == "bernoulli":
        check_decoder_gives_logits(model, decoder_input)


def posterior_outputs(model, encoded):
    """The encoder's outputs as the model uses them: a Keras-style `[z_mean, z_log_var, z]`
    (the keras-io VAE example's encoder) is taken as its first two."""
    if model.probabilistic and isinstance(encoded, list | tuple) and len(encoded) == 3:
        return tuple(encoded[:2])
    return encoded


def check_encoder_outputs(model, encoded, encoder_from):
    owner = type(model).__name__
    count = len(encoded) if isinstance(encoded, list | tuple) else 1
    if model.probabilistic:
        if count not in (2, 3):
            raise ValueError(
                f"{owner} expects `encoder` to return 2 outputs, (z_mean, z_log_var), from"
                f" {encoder_from} (a third, a sampled z, is accepted and ignored); got {count}"
                f" output{'s' if count != 1 else ''}."
            )
        encoded = posterior_outputs(model, encoded)
        shapes = [tuple(t.shape) for t in encoded]
    else:
        if count != 1:
            raise ValueError(
                f"{owner} expects `encoder` to return 1 output, the code z, from {encoder_from};"
                f" got {count} outputs. An encoder of (z_mean, z_log_var) belongs in a VAE."
            )
        shapes = [tuple(encoded.shape)]
    if any(shape != (1, model.latent_dim) for shape in shapes):
        raise ValueError(
            f"{owner} expects `encoder` outputs of shape (None, {model.latent_dim}); got"
            f" {[(None, *s[1:]) for s in shapes]}."
        )


# Layers that move values without changing them: the activation before them is the last one.
_SHAPE_ONLY = (
    keras.layers.Reshape,
    keras.layers.Flatten,
    keras.layers.Permute,
    keras.layers.Identity,
    keras.layers.Dropout,
    keras.layers.InputLayer,
)


def _final_activation(network):
    """The activation of a Sequential or functional model's last value-changing Keras layer."""
    layers = [
        layer
        for layer in getattr(network, "layers", None) or []
        if not isinstance(layer, _SHAPE_ONLY)
    ]
    if not layers:
        return None
    last = layers[-1]
    if not type(last).__module__.startswith("keras."):
        return None  # a user's layer: its `activation` attribute may mean anything
    if isinstance(last, keras.layers.Softmax):
        return "softmax"
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", None) if callable(activation) else None


def check_decoder_gives_logits(model, decoder_input):
    """A Bernoulli decoder must give logits. One that ends in a sigmoid or softmax is an error
    (the sigmoid would be applied twice, every pixel landing near 0.5-0.73); outputs all in
    [0, 1] on random latent vectors are only suspicious, so they give a warning."""
    owner = type(model).__name__
    activation = _final_activation(model.decoder)
    if activation in _PROBABILITY_ACTIVATIONS:
        raise ValueError(
            f"{owner} expects `decoder` to output logits for the Bernoulli likelihood; its last"
            f" layer applies a {activation}, so its outputs are probabilities. {_LOGITS_FIX}."
        )
    # Random latent vectors (numpy's generator: the Keras random state stays untouched); a
    # zero probe would not do, as an untrained decoder maps zeros to all-zero logits.
    z = ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=(16, model.latent_dim)).astype("float32")
    )
    if isinstance(decoder_input, list | tuple):
        probe = [z, *(ops.repeat(t, 16, axis=0) for t in decoder_input[1:])]
    else:
        probe = z
    outputs = ops.convert_to_numpy(ops.cast(model.decoder(probe), "float32"))
    if outputs.min() >= 0.0 and outputs.max() <= 1.0:
        warnings.warn(
            f"{owner}: the decoder's outputs on random latent vectors all lie in [0, 1], like"
            f" probabilities; the Bernoulli likelihood expects logits. If it ends in a sigmoid,"
            f" {_LOGITS_FIX}.",
            UserWarning,
            stacklevel=4,
        )
