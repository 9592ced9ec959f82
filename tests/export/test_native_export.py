"""Keras's own export on the package's models: `model.export(format="tf_saved_model" |
"litert")` right after construction, and the networks as plain functional models
(`decoder_model()`, `encoder_model()`) that `Model.export(format="litert")` converts; every
exported file is run (TensorFlow, the LiteRT interpreter) and compared with Keras."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from export_helpers import ops_of

import keras_vae

NUM_CLASSES = 10
RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(size=(4, 28, 28, 1)).astype("float32")
ONE_HOT = np.eye(NUM_CLASSES, dtype="float32")[[3, 1, 4, 1]]


def _model(name, **kwargs):
    keras.utils.set_random_seed(0)
    cls = {"VAE": keras_vae.VAE, "AutoEncoder": keras_vae.AutoEncoder}.get(name)
    if cls is None:
        return keras_vae.ConditionalVAE(num_classes=NUM_CLASSES, latent_dim=2, seed=0, **kwargs)
    return cls(latent_dim=2, seed=0, **kwargs)


def _run_litert(path, **inputs):
    """Runs the default signature of a .tflite file with named inputs; outputs by name order."""
    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner("serving_default")
    outputs = runner(**inputs)
    return [outputs[name] for name in sorted(outputs)]


def _builtin_only(path):
    """The op names of a .tflite file, checked to be TFLite builtins (no Flex, no custom)."""
    ops = set(ops_of(path)[1])
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in ops), ops
    return ops


@pytest.mark.parametrize("name", ["VAE", "AutoEncoder", "ConditionalVAE"])
def test_model_export_right_after_construction(tmp_path, name):
    model = _model(name, architecture="dense")
    inputs = [IMAGES, ONE_HOT] if model.is_conditional else [IMAGES]
    expected = keras.ops.convert_to_numpy(model(inputs if len(inputs) > 1 else IMAGES))

    model.export(tmp_path / "saved", format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    served = loaded.serve(inputs if len(inputs) > 1 else IMAGES).numpy()
    np.testing.assert_allclose(served, expected, atol=1e-6)

    model.export(tmp_path / "model.tflite", format="litert", verbose=False)
    interpreter = Interpreter(model_path=str(tmp_path / "model.tflite"))
    runner = interpreter.get_signature_runner("serving_default")
    names = sorted(runner.get_input_details())  # args_0 (images), args_0_1 (labels)
    (litert,) = runner(**dict(zip(names, inputs))).values()
    np.testing.assert_allclose(litert, expected, atol=1e-5)


@pytest.mark.parametrize("name", ["VAE", "ConditionalVAE"])
def test_decoder_and_encoder_models_convert_with_keras_export(tmp_path, name):
    model = _model(name)  # the default convolutional networks
    z = RNG.normal(size=(4, 2)).astype("float32")
    condition = {"labels": ONE_HOT} if model.is_conditional else {}

    decoder = model.decoder_model()
    assert isinstance(decoder, keras.Model) and decoder.name == "decoder_model"
    assert type(decoder).__name__ == "Functional"  # a plain functional model
    decoder.export(tmp_path / "decoder.tflite", format="litert", verbose=False)
    ops = _builtin_only(tmp_path / "decoder.tflite")
    assert "RESIZE_NEAREST_NEIGHBOR" in ops
    (images,) = _run_litert(tmp_path / "decoder.tflite", z=z, **condition)
    labels = [3, 1, 4, 1] if model.is_conditional else None
    expected = model.decode(z, labels) if labels else model.decode(z)
    np.testing.assert_allclose(images, expected, atol=1e-5)
    assert images.min() >= 0 and images.max() <= 1

    logits = keras.ops.convert_to_numpy(
        model.decoder_model(output="raw")([z, ONE_HOT] if labels else z)
    )
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), expected, rtol=1e-5, atol=1e-6)

    encoder = model.encoder_model()
    encoder.export(tmp_path / "encoder.tflite", format="litert", verbose=False)
    _builtin_only(tmp_path / "encoder.tflite")
    outputs = _run_litert(tmp_path / "encoder.tflite", images=IMAGES, **condition)
    z_mean, z_log_var = model.encode(IMAGES, labels) if labels else model.encode(IMAGES)
    # The signature names outputs output_0, output_1 in the model's order.
    np.testing.assert_allclose(outputs[0], z_mean, atol=1e-5)
    np.testing.assert_allclose(outputs[1], z_log_var, atol=1e-5)


def test_standalone_models_share_weights_and_follow_the_likelihood():
    model = keras_vae.AutoEncoder(latent_dim=3, likelihood="gaussian", architecture="dense")
    encoder = model.encoder_model()
    assert encoder.output.name and tuple(encoder.output.shape) == (None, 3)
    decoder = model.decoder_model()
    z = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(decoder(z)), model.decode(z), rtol=1e-6)
    model.decoder.hidden_layers[0].kernel.assign(np.zeros((3, 256), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(decoder(z)), model.decode(z), rtol=1e-6)
    with pytest.raises(ValueError, match="`output` in"):
        model.decoder_model(output="probabilities")


def test_mixed_precision_model_exports_through_a_float32_twin(tmp_path):
    """TFLite has no bfloat16 matmul builtin, so a mixed-precision model converts only as
    Flex ops; its weights are float32 variables, so a float32 twin takes them as they are."""
    model = keras_vae.VAE(latent_dim=2, architecture="dense", dtype="mixed_bfloat16", seed=0)
    z = RNG.normal(size=(2, 2)).astype("float32")
    assert keras.ops.convert_to_numpy(model.decoder_model()(z)).dtype == np.float32
    twin = keras_vae.VAE(latent_dim=2, architecture="dense", dtype="float32")
    twin.set_weights(model.get_weights())
    twin.decoder_model().export(tmp_path / "decoder.tflite", format="litert", verbose=False)
    _builtin_only(tmp_path / "decoder.tflite")
    (images,) = _run_litert(tmp_path / "decoder.tflite", z=z)
    np.testing.assert_allclose(images, twin.decode(z), atol=1e-5)
    np.testing.assert_allclose(images, model.decode(z), atol=2e-2)
