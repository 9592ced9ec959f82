"""The PyTorch race's reference is the package's default VAE, layer for layer.

Checked without timing anything: the same parameter count, and with the Keras weights copied
in, the same encoder and decoder outputs. Skipped where torch (the `bench` extra) is absent.
"""

import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import keras_vae  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "benchmarks"))
import torch_reference  # noqa: E402


@pytest.mark.parametrize("size, kernel, stride, expected", [(28, 3, 2, (0, 1)), (14, 3, 1, (1, 1))])
def test_same_padding_matches_tensorflow(size, kernel, stride, expected):
    assert torch_reference.same_padding(size, kernel, stride) == expected


@pytest.mark.parametrize("latent_dim", [2, 16])
def test_parameter_count_equals_the_keras_model(latent_dim):
    keras_model = keras_vae.VAE(latent_dim=latent_dim, seed=0, prior="standard_normal")
    reference = torch_reference.TorchVAE(latent_dim)
    trainable = sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)
    assert torch_reference.parameter_count(reference) == trainable
    assert torch_reference.parameter_count(reference.decoder) == keras_model.decoder.count_params()


def test_same_outputs_with_the_keras_weights():
    keras_model = keras_vae.VAE(latent_dim=4, seed=0, prior="standard_normal")
    reference = torch_reference.TorchVAE(4).eval()
    torch_reference.load_keras_weights(reference.encoder, keras_model.encoder)
    torch_reference.load_keras_weights(reference.decoder, keras_model.decoder)
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(8, 28, 28, 1)) > 0.7).astype("float32")
    z = rng.normal(size=(8, 4)).astype("float32")

    z_mean, z_log_var = keras_model.encode(images)
    with torch.no_grad():
        torch_mean, torch_log_var = reference.encoder(torch_reference.to_nchw(images))
        torch_images = reference.decode(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(torch_mean.numpy(), z_mean, atol=1e-5)
    np.testing.assert_allclose(torch_log_var.numpy(), z_log_var, atol=1e-5)
    np.testing.assert_allclose(torch_images, keras_model.decode(z), atol=1e-5)


def test_initialisation_is_glorot_uniform_with_zero_biases():
    reference = torch_reference.TorchVAE(16)
    weight = reference.decoder.project.weight.detach()  # Linear(256 -> 3136)
    limit = np.sqrt(6.0 / (256 + 3136))
    assert float(weight.abs().max()) <= limit
    assert float(weight.abs().max()) > 0.9 * limit
    biases = [m.bias.detach() for m in reference.modules() if isinstance(m, torch.nn.Linear)]
    assert all(float(b.abs().max()) == 0.0 for b in biases)
