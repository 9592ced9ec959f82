"""The networks of a model as plain functional `keras.Model`s, for Keras's own tools:
`vae.decoder_model().export(path, format="litert")`, `summary()`, `plot_model()`."""

import keras

from keras_vae.models.network_checks import posterior_outputs

_INPUT_NAMES = {"encoder": ("images", "labels"), "decoder": ("z", "labels")}
OUTPUTS = ("mean", "raw")


def _inputs(probe, network):
    """`keras.Input`s shaped like the probe batch the model checks the network with."""
    parts = probe if isinstance(probe, list | tuple) else [probe]
    names = _INPUT_NAMES[network]
    return [keras.Input(tuple(t.shape[1:]), name=name) for t, name in zip(parts, names)]


def _float32(tensor, name, activation="linear"):
    # A float32 layer casts a mixed-precision network's output, so exports and users see
    # float32 whatever the compute dtype.
    return keras.layers.Activation(activation, dtype="float32", name=name)(tensor)


def decoder_model(model, output: str = "mean") -> keras.Model:
    """The decoder of `model` as a functional `keras.Model` sharing its weights.

    Inputs `z (None, latent_dim)` (and `labels (None, num_classes)`, one-hot, for a
    conditional model); output `images`, the mean of p(x | z) (the sigmoid of the logits for
    Bernoulli), or with `output="raw"` the decoder's unactivated output, `logits`.
    """
    if output not in OUTPUTS:
        raise ValueError(f"decoder_model() expects `output` in {OUTPUTS}; got {output!r}.")
    inputs = _inputs(model.network_probes()[1], "decoder")
    raw = model.decoder(inputs if len(inputs) > 1 else inputs[0])
    if output == "raw":
        outputs = _float32(raw, "logits" if model.likelihood == "bernoulli" else "mean")
    else:
        activation = "sigmoid" if model.likelihood == "bernoulli" else "linear"
        outputs = _float32(raw, "images", activation)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name="decoder_model")


def encoder_model(model) -> keras.Model:
    """The encoder of `model` as a functional `keras.Model` sharing its weights.

    Inputs `images` (and one-hot `labels` for a conditional model); outputs `[z_mean,
    z_log_var]` for a VAE, `z` for an autoencoder, as float32.
    """
    inputs = _inputs(model.network_probes()[0], "encoder")
    encoded = posterior_outputs(model, model.encoder(inputs if len(inputs) > 1 else inputs[0]))
    if isinstance(encoded, list | tuple):
        outputs = [_float32(t, name) for t, name in zip(encoded, ("z_mean", "z_log_var"))]
    else:
        outputs = _float32(encoded, "z")
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name="encoder_model")
