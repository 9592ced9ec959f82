"""Mixed precision end to end: the networks compute in bfloat16 or float16 while the losses,
the KL weight, the metrics and every numpy result stay float32, under the global policy or a
model's own `dtype=` argument."""

import keras
import numpy as np
import pytest

import keras_vae

POLICIES = ["mixed_bfloat16", "mixed_float16"]
MODELS = {
    "VAE": keras_vae.VAE,
    "AutoEncoder": keras_vae.AutoEncoder,
    "ConditionalVAE": keras_vae.ConditionalVAE,
}


@pytest.fixture
def global_policy():
    """Sets the global dtype policy for one test and restores the previous one after it."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)


def _data(mnist_sample):
    images, labels = mnist_sample
    order = np.random.default_rng(0).permutation(len(images))[:256]
    return images[order], labels[order]


def _train(name, images, labels, architecture):
    keras.utils.set_random_seed(0)
    model = MODELS[name](latent_dim=2, architecture=architecture, seed=1)
    model.compile()
    args = (images, labels) if model.is_conditional else (images,)
    history = model.fit(*args, epochs=1, batch_size=64, shuffle=False, verbose=0)
    return model, history.history


_FLOAT32_LOSSES = {}


def _float32_losses(name, images, labels, architecture):
    if (name, architecture) not in _FLOAT32_LOSSES:
        _FLOAT32_LOSSES[name, architecture] = _train(name, images, labels, architecture)[1]
    return _FLOAT32_LOSSES[name, architecture]


@pytest.mark.parametrize("architecture", ["dense", pytest.param("conv", marks=pytest.mark.large)])
@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", list(MODELS))
def test_one_epoch_under_a_mixed_policy(
    mnist_sample, tmp_path, global_policy, policy, name, architecture
):
    images, labels = _data(mnist_sample)
    reference = _float32_losses(name, images, labels, architecture)
    global_policy(policy)
    model, losses = _train(name, images, labels, architecture)
    compute = policy.removeprefix("mixed_")
    assert model.encoder.compute_dtype == model.decoder.compute_dtype == compute
    assert all(w.dtype == "float32" for w in model.weights)
    for key, values in losses.items():
        assert np.isfinite(values[0]), key
        if key != "kl_loss":
            # Low precision changes the result little: the same data, initial weights and
            # draws; a loss summed in bfloat16 would step by 4 at this size.
            np.testing.assert_allclose(values[0], reference[key][0], rtol=0.02, err_msg=key)
    if name == "AutoEncoder":
        assert losses["loss"][0] % 1 != 0, "the loss was accumulated in low precision"

    condition = {"labels": labels[:8]} if model.is_conditional else {}
    encoded = model.encode(images[:8], **condition)
    for part in encoded if isinstance(encoded, tuple) else (encoded,):
        assert part.dtype == np.float32
    z = encoded[0] if isinstance(encoded, tuple) else encoded
    decoded = model.decode(z, **condition)
    sampled = model.sample(4, seed=0)
    for images_out in (decoded, sampled):
        assert images_out.dtype == np.float32
        assert images_out.min() >= 0 and images_out.max() <= 1

    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.decoder.compute_dtype == compute
    np.testing.assert_array_equal(reloaded.decode(z, **condition), decoded)
    assert type(reloaded.optimizer) is type(model.optimizer)


def test_dtype_argument_is_honoured_without_a_global_policy(tmp_path):
    assert keras.config.dtype_policy().name == "float32"
    model = keras_vae.VAE(latent_dim=2, dtype="mixed_bfloat16", seed=0)
    assert model.encoder.compute_dtype == model.decoder.compute_dtype == "bfloat16"
    assert model.sampling.compute_dtype == "bfloat16"
    assert model.kl_weight.dtype == "float32"
    cvae = keras_vae.ConditionalVAE(latent_dim=2, dtype="mixed_bfloat16")
    layers = [
        layer for layer in cvae.decoder.layers if not isinstance(layer, keras.layers.InputLayer)
    ]
    assert {layer.compute_dtype for layer in layers} == {"bfloat16"}
    path = tmp_path / "vae.keras"
    model.save(path)
    assert keras.saving.load_model(path).decoder.compute_dtype == "bfloat16"


def test_float16_starts_at_a_loss_scale_that_trains_from_the_first_step(global_policy):
    global_policy("mixed_float16")
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    model.compile()
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    images = np.random.default_rng(0).uniform(size=(128, 28, 28, 1)).astype("float32")
    model.fit(images, epochs=1, batch_size=64, verbose=0)
    # Both steps applied: none was skipped for overflowing gradients.
    assert int(model.optimizer.iterations) == 2
    own = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), initial_scale=8.0)
    model.compile(optimizer=own)
    assert model.optimizer is own
