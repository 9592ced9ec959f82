"""AutoEncoder and VAE: the shared model checks, the loss bookkeeping, user networks, bad input."""

import warnings

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
    model = VAE(*small_networks(), latent_dim=3, seed=0, prior="standard_normal")
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
    reference = VAE(*small_networks(), latent_dim=3, seed=4, prior="standard_normal")
    objectives = {}
    for beta, kl_weight in [(0.0, 1.0), (2.0, 1.0), (2.0, 0.25)]:
        # Same weights and the same seeded noise: only the KL weighting differs.
        model = VAE(*small_networks(), latent_dim=3, seed=4, beta=beta, prior="standard_normal")
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
    # The floor per dimension is N(0, I)'s, whose KL splits over them.
    plain = VAE(*small_networks(), latent_dim=3, seed=2, prior="standard_normal")
    floored = VAE(*small_networks(), latent_dim=3, seed=2, free_bits=0.5, prior="standard_normal")
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


# The defaults: a learned mixture prior, refit at the end of `fit` ------------------------------


def dense_vae(**kwargs):
    """A small dense VAE of latent size 2, with the constructor's defaults unless given."""
    encoder, decoder = small_networks("dense", 2)
    return VAE(encoder=encoder, decoder=decoder, latent_dim=2, seed=0, **kwargs)


class PriorAtTrainEnd(keras.callbacks.Callback):
    """The prior's weights as `fit`'s training loop left them, before any refit."""

    def on_train_end(self, logs=None):
        self.weights = [np.array(v) for v in self.model.prior.weights]


def fit_and_compare(model, x, **fit_kwargs):
    """Fits one epoch; whether the prior changed after the training loop ended."""
    recorder = PriorAtTrainEnd()
    model.compile()
    model.fit(x, epochs=1, verbose=0, callbacks=[recorder], **fit_kwargs)
    after = [np.array(v) for v in model.prior.weights]
    return any(not np.array_equal(a, b) for a, b in zip(recorder.weights, after, strict=True))


def test_the_default_prior_is_a_learned_mixture_whose_config_round_trips(tmp_path):
    from keras_vae import priors

    model = dense_vae()
    assert isinstance(model.prior, priors.MixturePrior)
    assert model.prior.num_components == priors.DEFAULT_MIXTURE_COMPONENTS
    assert model.prior.covariance == priors.DEFAULT_MIXTURE_COVARIANCE
    assert model.refit_prior_after_fit is True
    config = model.get_config()
    assert config["prior"]["class_name"] == "MixturePrior"
    assert config["refit_prior_after_fit"] is True
    assert VAE.from_config(config).get_config() == config
    path = tmp_path / "default.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded.prior, priors.MixturePrior) and reloaded.refit_prior_after_fit
    np.testing.assert_allclose(reloaded.sample(4, seed=3), model.sample(4, seed=3), atol=1e-6)


@pytest.mark.parametrize("saved", ["prior None", "no prior key"])
def test_a_config_saved_with_the_old_default_loads_with_the_standard_normal(saved):
    from keras_vae import priors

    config = dense_vae(prior="standard_normal").get_config()
    assert config["prior"] is None  # how N(0, I) is written, by this version and earlier ones
    del config["refit_prior_after_fit"]  # earlier versions did not have it
    if saved == "no prior key":
        del config["prior"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        loaded = VAE.from_config(config)
    assert isinstance(loaded.prior, priors.StandardNormalPrior)
    assert loaded.refit_prior_after_fit is False


def test_prior_standard_normal_is_the_textbook_vae(tiny_images):
    from keras_vae import priors

    model = dense_vae(prior="standard_normal")
    assert isinstance(model.prior, priors.StandardNormalPrior) and not model.prior.weights
    assert model.prior.kl_per_dimension(np.zeros((1, 2)), np.zeros((1, 2))) is not None
    model.compile()
    model.fit(tiny_images[:64], epochs=1, verbose=0)
    assert model.last_prior_refit is None  # nothing to refit


def test_fit_ends_by_refitting_the_default_prior_to_the_training_images(tiny_images):
    model = dense_vae()
    assert fit_and_compare(model, tiny_images[:64], batch_size=32)
    refit = model.last_prior_refit
    assert refit["images"] == 64 and refit["after"] >= refit["before"]


def test_fit_keeps_the_prior_as_trained_when_the_refit_is_disabled(tiny_images):
    model = dense_vae(refit_prior_after_fit=False)
    assert not fit_and_compare(model, tiny_images[:64], batch_size=32)
    assert model.last_prior_refit is None
    # The same model refits when asked: the refit above was left out, not a no-op.
    model.refit_prior(tiny_images[:64], seed=0)
    assert model.get_config()["refit_prior_after_fit"] is False


def test_the_refit_after_fit_reads_a_finite_dataset_and_skips_the_validation_split(tiny_images):
    x = tiny_images[:64]
    pairs = tf.data.Dataset.from_tensor_slices((x, np.zeros(64, "int32"))).batch(16)
    model = dense_vae()
    assert fit_and_compare(model, pairs)
    assert model.last_prior_refit["images"] == 64
    assert fit_and_compare(model, x, batch_size=16, validation_split=0.25)
    assert model.last_prior_refit["images"] == 48


def test_the_refit_after_fit_is_skipped_with_a_warning_for_an_infinite_dataset(tiny_images):
    endless = tf.data.Dataset.from_tensor_slices(tiny_images[:32]).batch(16).repeat()
    model = dense_vae()
    with pytest.warns(UserWarning, match=r"infinite.*refit_prior\(training_images\)"):
        changed = fit_and_compare(model, endless, steps_per_epoch=2)
    assert not changed and model.last_prior_refit is None


def test_a_model_built_without_prior_warns_once_that_the_default_changed():
    from keras_vae.models import vae as vae_module

    vae_module._default_change_told = False
    with pytest.warns(FutureWarning, match=r"prior='standard_normal' for the textbook model"):
        dense_vae()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        dense_vae()  # once per process
        vae_module._default_change_told = False
        dense_vae(prior="mixture")  # chosen, not relied on
        dense_vae(prior="standard_normal")
    vae_module._default_change_told = True


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"refit_prior_after_fit": "yes"}, r"`refit_prior_after_fit` as a bool; got 'yes'"),
        ({"prior": "mixtures"}, r"expects `prior` as None or 'standard_normal'.*got 'mixtures'"),
    ],
)
def test_bad_default_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dense_vae(**kwargs)


def test_the_conditional_vae_keeps_its_class_prior_and_fits_without_a_refit(tiny_images):
    from keras_vae import ConditionalVAE, priors

    model = ConditionalVAE(num_classes=10, latent_dim=2, architecture="dense", seed=0)
    assert isinstance(model.prior, priors.ClassConditionalPrior)
    model.compile()
    model.fit(tiny_images[:32], np.arange(32) % 10, epochs=1, verbose=0)
    assert model.last_prior_refit is None


def test_a_learned_priors_draws_take_the_seeds_the_standard_normal_takes():
    """A learned prior draws with numpy: a bad seed is named, a negative one repeats."""
    model = dense_vae(prior="mixture")
    with pytest.raises(ValueError, match=r"`seed` as an int or None; got 1.5"):
        model.sample(2, seed=1.5)
    np.testing.assert_array_equal(model.sample(2, seed=-3), model.sample(2, seed=-3))
