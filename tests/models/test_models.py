"""AutoEncoder and VAE: the shared model checks, the loss bookkeeping, user networks, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_test_case import run_model_test

from keras_vae import VAE, AutoEncoder, Decoder, Encoder, losses

SMALL = {"latent_dim": 3, "seed": 1}


def small_networks(architecture="conv", latent_dim=3, shape=(28, 28, 1)):
    sizes = (
        {"conv_filters": (4, 8), "dense_units": (16,)}
        if architecture == "conv"
        else {"dense_units": (32,)}
    )
    encoder = Encoder(latent_dim, shape, architecture, name="encoder", **sizes)
    decoder_sizes = dict(sizes)
    if architecture == "conv":
        decoder_sizes["conv_filters"] = (8, 4)
    decoder = Decoder(latent_dim, shape, architecture, name="decoder", **decoder_sizes)
    return encoder, decoder


def deterministic_outputs(model, images):
    def check(m):
        z = np.random.default_rng(0).normal(size=(6, m.latent_dim)).astype("float32")
        encoded = m.encode(images[:6])
        out = {"decode": m.decode(z), "reconstruct": m.reconstruct(images[:6])}
        out["sample"] = m.sample(4, seed=5)
        if isinstance(encoded, tuple):
            out["z_mean"], out["z_log_var"] = encoded
        else:
            out["z"] = encoded
        return out

    return check


MODEL_CASES = {
    "vae-conv-bernoulli": (VAE, {"likelihood": "bernoulli", "architecture": "conv"}),
    "vae-conv-gaussian": (VAE, {"likelihood": "gaussian", "architecture": "conv"}),
    "vae-dense-bernoulli": (VAE, {"likelihood": "bernoulli", "architecture": "dense"}),
    "vae-dense-gaussian-fixed": (
        VAE,
        {"likelihood": "gaussian", "gaussian_variance": 0.1, "architecture": "dense", "beta": 2.0},
    ),
    "ae-conv": (AutoEncoder, {"architecture": "conv"}),
    "ae-dense-gaussian": (AutoEncoder, {"architecture": "dense", "likelihood": "gaussian"}),
}


@pytest.mark.parametrize("case", MODEL_CASES)
def test_model_contract(case, tiny_images, tmp_path):
    cls, kwargs = MODEL_CASES[case]
    images = tiny_images if kwargs["architecture"] == "conv" else tiny_images.reshape(-1, 784)
    encoder, decoder = small_networks(kwargs["architecture"], 3, images.shape[1:])
    if cls is AutoEncoder:
        encoder = Encoder(**{**encoder.get_config(), "probabilistic": False})
    init = {**SMALL, **kwargs, "input_shape": images.shape[1:], "encoder": encoder}
    init["decoder"] = decoder
    run_model_test(cls, init, images, tmp_path, deterministic_outputs(None, images))


def test_model_with_a_users_functional_networks_round_trips(tiny_images, tmp_path):
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(32, activation="tanh")(keras.layers.Flatten()(inputs))
    encoder = keras.Model(
        inputs, [keras.layers.Dense(2)(hidden), keras.layers.Dense(2)(hidden)], name="my_encoder"
    )
    latent = keras.Input((2,))
    decoder = keras.Sequential(
        [latent, keras.layers.Dense(784), keras.layers.Reshape((28, 28, 1))], name="my_decoder"
    )
    init = {"encoder": encoder, "decoder": decoder, "latent_dim": 2, "seed": 3}
    model, reloaded = run_model_test(
        VAE, init, tiny_images, tmp_path, deterministic_outputs(None, tiny_images)
    )
    assert reloaded.encoder.name == "my_encoder"
    assert isinstance(reloaded.decoder, keras.Sequential)


def test_reported_losses_are_per_example_means_of_the_elbo_terms(tiny_images):
    model = VAE(*small_networks(), latent_dim=3, seed=0)
    model.compile()
    x = tiny_images[:100]
    # 100 examples in batches of 32: a weighted mean, not a mean of batch means.
    result = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    z_mean, z_log_var = model.encode(x)
    expected_kl = np.mean(keras.ops.convert_to_numpy(losses.kl_divergence(z_mean, z_log_var)))
    assert result["kl_loss"] == pytest.approx(expected_kl, rel=1e-4)
    assert result["loss"] == pytest.approx(result["reconstruction_loss"] + result["kl_loss"], 1e-5)
    # Untrained, the decoder predicts about 0.5 per pixel: about 784 * log(2) nats.
    assert result["reconstruction_loss"] == pytest.approx(784 * np.log(2), rel=0.1)


def test_beta_and_kl_weight_scale_only_the_kl_term(tiny_images):
    x = tf.constant(tiny_images[:16])
    reference = VAE(*small_networks(), latent_dim=3, seed=4)
    objectives = {}
    for beta, kl_weight in [(0.0, 1.0), (2.0, 1.0), (2.0, 0.25)]:
        # Same weights and the same seeded noise: only the KL weighting differs.
        model = VAE(*small_networks(), latent_dim=3, seed=4, beta=beta)
        model.set_weights(reference.get_weights())
        model.kl_weight.assign(kl_weight)
        objective, per_example = model.compute_losses(x, training=True)
        objectives[(beta, kl_weight)] = float(objective)
    kl = float(np.mean(per_example["kl_loss"]))
    assert kl > 0
    # float32 sums of ~500 nats: an absolute tolerance of a few ulps of the objective.
    assert objectives[(2.0, 1.0)] - objectives[(0.0, 1.0)] == pytest.approx(2.0 * kl, abs=2e-4)
    assert objectives[(2.0, 0.25)] - objectives[(0.0, 1.0)] == pytest.approx(0.5 * kl, abs=2e-4)


def test_free_bits_floor_the_batch_mean_kl_of_each_dimension(tiny_images):
    x = tf.constant(tiny_images[:16])
    plain = VAE(*small_networks(), latent_dim=3, seed=2)
    floored = VAE(*small_networks(), latent_dim=3, seed=2, free_bits=0.5)
    floored.set_weights(plain.get_weights())
    objective_plain, per_example = plain.compute_losses(x, training=True)
    objective_floored, _ = floored.compute_losses(x, training=True)
    z_mean, z_log_var = plain.encode(tiny_images[:16])
    per_dimension = keras.ops.convert_to_numpy(
        losses.kl_divergence_per_dimension(z_mean, z_log_var)
    ).mean(0)
    expected = np.maximum(per_dimension, 0.5).sum() - per_dimension.sum()
    assert float(objective_floored) - float(objective_plain) == pytest.approx(expected, abs=1e-3)


def test_vae_learns_on_real_digits(mnist_sample):
    x = mnist_sample[0][:1500]
    model = VAE(latent_dim=2, seed=0)
    model.compile()
    history = model.fit(
        x[:1200], validation_data=x[1200:], epochs=3, batch_size=64, verbose=0
    ).history
    assert history["val_loss"][-1] < 0.6 * 784 * np.log(2)
    assert history["loss"][-1] < history["loss"][0]
    assert all(kl > 0 for kl in history["kl_loss"])


def test_fit_accepts_datasets_with_labels_and_call_gives_images_in_unit_range(tiny_images):
    model = VAE(*small_networks(), latent_dim=3, seed=0)
    model.compile()
    labels = np.arange(len(tiny_images)) % 10
    dataset = tf.data.Dataset.from_tensor_slices((tiny_images, labels)).batch(64)
    history = model.fit(dataset, epochs=1, verbose=0, validation_data=dataset)
    assert {"loss", "kl_loss", "val_loss"} <= set(history.history)
    model.fit(tiny_images, labels, epochs=1, batch_size=64, verbose=0)
    images = keras.ops.convert_to_numpy(model(tiny_images[:8]))
    assert images.shape == (8, 28, 28, 1) and images.min() >= 0 and images.max() <= 1


def test_compile_without_optimizer_uses_the_recommended_one():
    model = VAE(*small_networks(), latent_dim=3)
    model.compile()
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    model.compile(optimizer="sgd")
    assert isinstance(model.optimizer, keras.optimizers.SGD)


def test_sample_is_repeatable_with_a_seed_and_varies_without():
    model = VAE(*small_networks(), latent_dim=3, seed=0)
    np.testing.assert_array_equal(model.sample(5, seed=1), model.sample(5, seed=1))
    assert not np.array_equal(model.sample(5), model.sample(5))
    assert model.sample(5, seed=1).shape == (5, 28, 28, 1)


def test_training_is_reproducible_with_a_seed(tiny_images):
    def train():
        keras.utils.set_random_seed(11)
        model = VAE(*small_networks(), latent_dim=3, seed=11)
        model.compile()
        model.fit(tiny_images, epochs=1, batch_size=64, shuffle=False, verbose=0)
        return model.get_weights()

    for a, b in zip(train(), train()):
        np.testing.assert_array_equal(a, b)


# Bad input -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return VAE(*small_networks(), latent_dim=3, seed=0)


@pytest.mark.parametrize(
    "method, value, error, message",
    [
        ("encode", np.zeros((4, 784), "float32"), ValueError, r"shape \(None, 28, 28, 1\)"),
        ("encode", np.zeros((4, 28, 28, 1), "uint8"), TypeError, "integer"),
        ("encode", np.full((4, 28, 28, 1), 255.0, "float32"), ValueError, r"\[0, 1\]"),
        ("encode", np.zeros((0, 28, 28, 1), "float32"), ValueError, "non-empty"),
        ("encode", np.array([["a"]]), TypeError, "float"),
        ("reconstruct", np.zeros((2, 28, 28), "float32"), ValueError, "`x`"),
        ("decode", np.zeros((4, 2), "float32"), ValueError, r"shape \(None, 3\)"),
        ("decode", np.array([[0.0, np.inf, 0.0]], "float32"), ValueError, "example 0"),
        ("sample", 0, ValueError, "`n` >= 1"),
        ("sample", -3, ValueError, "`n` >= 1"),
        ("sample", 2.5, TypeError, "`n`"),
    ],
)
def test_bad_input_raises_a_clear_error(model, method, value, error, message):
    with pytest.raises(error, match=message):
        getattr(model, method)(value)


@pytest.mark.parametrize("method", ["encode", "reconstruct"])
def test_a_bad_batch_size_is_named_with_its_method(model, method):
    with pytest.raises(ValueError, match=rf"VAE\.{method}\(\) expects `batch_size` >= 1"):
        getattr(model, method)(np.zeros((2, 28, 28, 1), "float32"), batch_size=0)


def test_nan_pixels_are_reported_with_their_example_index(model):
    x = np.zeros((5, 28, 28, 1), "float32")
    x[3, 4, 4, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity in example 3"):
        model.fit(x, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "dataset, error, message",
    [
        (np.zeros((8, 28, 28, 1), "uint8"), TypeError, "floats"),
        (np.zeros((8, 784), "float32"), ValueError, "shape"),
    ],
)
def test_fit_rejects_bad_datasets_before_training(model, dataset, error, message):
    model.compile()
    with pytest.raises(error, match=message):
        model.fit(tf.data.Dataset.from_tensor_slices(dataset).batch(4), epochs=1, verbose=0)
    with pytest.raises(error, match=message):
        model.fit(dataset, epochs=1, verbose=0)


def test_gaussian_likelihood_accepts_pixels_outside_the_unit_range():
    model = VAE(*small_networks(), latent_dim=3, likelihood="gaussian")
    assert model.encode(np.full((2, 28, 28, 1), 3.0, "float32"))[0].shape == (2, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"likelihood": "poisson"}, "likelihood"),
        ({"beta": -1.0}, "beta"),
        ({"free_bits": -0.1}, "free_bits"),
        ({"gaussian_variance": 0.0, "likelihood": "gaussian"}, "gaussian_variance"),
    ],
)
def test_bad_model_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAE(**kwargs)


def test_networks_that_break_the_contract_are_rejected():
    encoder, decoder = small_networks(latent_dim=3)
    with pytest.raises(ValueError, match=r"encoder.*\(None, 4\)"):
        VAE(encoder=encoder, decoder=decoder, latent_dim=4)
    with pytest.raises(ValueError, match="z_mean, z_log_var"):
        VAE(encoder=Encoder(3, probabilistic=False), decoder=decoder, latent_dim=3)
    with pytest.raises(TypeError, match="keras Layer"):
        VAE(encoder=lambda x: x, decoder=decoder, latent_dim=3)
    with pytest.raises(ValueError, match="decoder"):
        VAE(encoder=encoder, decoder=Decoder(3, (32, 32, 1)), latent_dim=3)


def test_models_are_registered_under_the_package_name():
    for cls in (VAE, AutoEncoder):
        assert keras.saving.get_registered_name(cls) == f"keras_vae>{cls.__name__}"


def test_evaluate_names_itself_in_its_errors(model):
    model.compile()
    with pytest.raises(ValueError, match=r"VAE\.evaluate\(\) expects `x`"):
        model.evaluate(None)
    with pytest.raises(TypeError, match=r"VAE\.evaluate\(\) expects `x` as floats"):
        model.evaluate(np.zeros((2, 28, 28, 1), "uint8"))
