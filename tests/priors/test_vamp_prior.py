"""The VampPrior: its density against scipy, its pseudo-inputs, a VAE that trains, scores,
samples and saves with it, and the errors."""

import keras
import numpy as np
import pytest
from keras_test_case import run_layer_test, run_model_test
from scipy import stats
from scipy.special import logsumexp

import keras_vae
from keras_vae import evaluation, losses
from keras_vae.samplers import GaussianMixtureSampler


def test_log_prob_is_the_equal_weight_mixture_of_the_given_posteriors():
    rng = np.random.default_rng(0)
    k, d = 3, 4
    prior = keras_vae.VampPrior(d, num_components=k, input_shape=(2, 2, 1))
    means, log_vars = rng.normal(size=(k, d)), rng.normal(size=(k, d))
    z = rng.normal(size=(7, d))
    expected = logsumexp(
        [
            stats.multivariate_normal(means[j], np.diag(np.exp(log_vars[j]))).logpdf(z)
            for j in range(k)
        ],
        axis=0,
    ) - np.log(k)
    got = prior.log_prob(*(a.astype("float32") for a in (z, means, log_vars)))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_pseudo_inputs_round_trip_through_the_logits():
    prior = keras_vae.VampPrior(
        2, num_components=2, input_shape=(3, 3, 1), learning_rate_multiplier=7.0
    )
    images = np.random.default_rng(1).uniform(0.01, 0.99, size=(2, 3, 3, 1)).astype("float32")
    prior.set_pseudo_inputs(images)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(prior.pseudo_inputs()), images, rtol=1e-5)
    # Stored divided by the multiplier: the logits of the images, over 7.
    logits = np.log(images) - np.log1p(-images)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(prior.scaled_logits), logits / 7.0, rtol=1e-4
    )
    # Binary pixels are clipped where the logits are finite.
    prior.set_pseudo_inputs(np.round(images))
    pixels = keras.ops.convert_to_numpy(prior.pseudo_inputs())
    assert np.isfinite(pixels).all() and np.abs(pixels - np.round(images)).max() <= 1.01e-3


def test_layer_contract(tmp_path):
    """The shared layer checks without their fit step: the layer's one weight (the pseudo-
    inputs) is read by the model that owns it (the encoder's inputs), not by `call`; the
    model test below trains and saves it."""
    kwargs = {
        "latent_dim": 3,
        "num_components": 4,
        "input_shape": (4, 4, 1),
        "learning_rate_multiplier": 5.0,
        "seed": 2,
    }
    rng = np.random.default_rng(0)
    z, means, log_vars = (rng.normal(size=(5, 3)).astype("float32") for _ in range(3))
    run_layer_test(
        keras_vae.VampPrior,
        kwargs,
        [z, means, log_vars],
        (5,),
        tmp_path,
        expected_num_trainable_weights=1,
        run_training_check=False,
        mixed_precision_compute_dtype="float32",  # a prior is float32 under any policy
    )
    prior = keras_vae.VampPrior(**kwargs)
    config = prior.get_config()
    assert {key: config[key] for key in kwargs} == {**kwargs, "input_shape": [4, 4, 1]}
    clone = keras_vae.VampPrior.from_config(config)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(clone.pseudo_inputs()).shape, (4, 4, 4, 1)
    )


def _vamp_vae(images, latent_dim=2, k=4, seed=0):
    prior = keras_vae.VampPrior(latent_dim, num_components=k, seed=seed)
    prior.set_pseudo_inputs(images[:k])
    return keras_vae.VAE(latent_dim=latent_dim, prior=prior, seed=seed)


def test_the_prior_is_the_encoders_posteriors_at_the_pseudo_inputs(tiny_images):
    vae = _vamp_vae(tiny_images)
    z = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    pseudo = keras.ops.convert_to_numpy(vae.prior.pseudo_inputs())
    means, log_vars = vae.encode(pseudo)
    expected = logsumexp(
        [
            stats.multivariate_normal(means[j], np.diag(np.exp(log_vars[j]))).logpdf(z)
            for j in range(4)
        ],
        axis=0,
    ) - np.log(4)
    got = keras.ops.convert_to_numpy(vae.prior_log_density(z))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # The sampler draws from the same components, with equal weights.
    sampler = vae.prior_sampler(temperature=0.5)
    assert isinstance(sampler, GaussianMixtureSampler)
    np.testing.assert_allclose(sampler.means, means, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sampler.weights, np.full(4, 0.25), rtol=1e-6)
    np.testing.assert_allclose(
        np.diagonal(sampler.scale_tril, axis1=1, axis2=2),
        0.5 * np.exp(0.5 * log_vars),
        rtol=1e-5,
    )


def test_the_kl_term_is_the_sampled_estimate_and_the_likelihood_uses_the_prior(tiny_images):
    vae = _vamp_vae(tiny_images)
    rng = np.random.default_rng(0)
    z_mean, z_log_var, z = (rng.normal(size=(3, 2)).astype("float32") for _ in range(3))
    images = tiny_images[:3]
    logits = np.zeros((3, 28, 28, 1), "float32")
    _, terms = vae.elbo_terms(images, logits, z_mean, z_log_var, z=z)
    expected = -keras.ops.convert_to_numpy(
        losses.diagonal_gaussian_entropy(z_log_var)
    ) - keras.ops.convert_to_numpy(vae.prior_log_density(z))
    np.testing.assert_allclose(terms["kl_loss"], expected, rtol=1e-5)
    # The IWAE estimate with one draw is the ELBO at that draw: finite and below zero.
    log_px = evaluation.log_likelihood(vae, images, num_samples=16, seed=0, verbose=0)
    assert np.isfinite(log_px).all() and (log_px < 0).all()


def test_training_moves_the_pseudo_inputs_and_the_encoder(tiny_images):
    keras.utils.set_random_seed(0)
    vae = _vamp_vae(tiny_images)
    before = keras.ops.convert_to_numpy(vae.prior.pseudo_inputs()).copy()
    vae.compile()
    history = vae.fit(tiny_images, epochs=2, batch_size=32, verbose=0)
    assert np.isfinite(history.history["kl_loss"]).all()
    after = keras.ops.convert_to_numpy(vae.prior.pseudo_inputs())
    assert np.abs(after - before).max() > 1e-3


def test_saves_and_loads_with_identical_outputs(tiny_images, tmp_path):
    prior = keras_vae.VampPrior(2, num_components=3, seed=1)
    prior.set_pseudo_inputs(tiny_images[:3])

    def outputs(model):
        z = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
        return {
            "decode": model.decode(z),
            "sample": model.sample(4, seed=2),
            "log_prior": keras.ops.convert_to_numpy(model.prior_log_density(z)),
            "pseudo_inputs": keras.ops.convert_to_numpy(model.prior.pseudo_inputs()),
        }

    run_model_test(
        keras_vae.VAE,
        {"latent_dim": 2, "prior": prior, "seed": 0},
        tiny_images[:64],
        tmp_path,
        outputs,
    )


def test_bad_vamp_priors_are_refused(tiny_images):
    with pytest.raises(ValueError, match="latent_dim 4 .*latent_dim 3"):
        keras_vae.VAE(latent_dim=4, prior=keras_vae.VampPrior(3))
    with pytest.raises(
        ValueError, match=r"image shape \(32, 32, 3\); got input_shape \(28, 28, 1\)"
    ):
        keras_vae.VAE(latent_dim=3, input_shape=(32, 32, 3), prior=keras_vae.VampPrior(3))
    with pytest.raises(ValueError, match="ClassConditionalPrior.*got VampPrior"):
        keras_vae.ConditionalVAE(latent_dim=3, prior=keras_vae.VampPrior(3))
    with pytest.raises(ValueError, match="`input_shape` as a tuple.*got 28"):
        keras_vae.VampPrior(3, input_shape=28)
    with pytest.raises(ValueError, match="num_components.*got 0"):
        keras_vae.VampPrior(3, num_components=0)
    with pytest.raises(ValueError, match="learning_rate_multiplier.*got 0"):
        keras_vae.VampPrior(3, learning_rate_multiplier=0)
    prior = keras_vae.VampPrior(2, num_components=2)
    with pytest.raises(ValueError, match=r"shape \(2, 28, 28, 1\).*got \(3, 28, 28, 1\)"):
        prior.set_pseudo_inputs(tiny_images[:3])
    with pytest.raises(ValueError, match="pixels in \\[0, 1\\]; got values in \\[0, 255\\]"):
        prior.set_pseudo_inputs(tiny_images[:2] * 255)
    with pytest.raises(ValueError, match="float images.*got dtype uint8"):
        prior.set_pseudo_inputs((tiny_images[:2] * 255).astype("uint8"))
    # N(0, I) has its one component, like any other prior.
    textbook = keras_vae.VAE(latent_dim=2, prior="standard_normal")
    means, scale_tril, weights = textbook.prior_components()
    np.testing.assert_array_equal(means, np.zeros((1, 2)))
    np.testing.assert_array_equal(scale_tril, np.eye(2)[None])
    np.testing.assert_array_equal(weights, [1.0])


def test_trains_and_samples_under_mixed_float16(tiny_images):
    """The pseudo-inputs go through a float16 encoder; the prior's density, the losses and
    the draws stay float32 and finite."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        vae = _vamp_vae(tiny_images)
        vae.compile()
        history = vae.fit(tiny_images[:128], epochs=1, batch_size=64, verbose=0)
    finally:
        keras.config.set_dtype_policy(previous)
    assert vae.encoder.compute_dtype == "float16"
    assert all(np.isfinite(values[0]) for values in history.history.values())
    assert vae.prior.pseudo_inputs().dtype == "float32"
    log_p = vae.prior_log_density(np.zeros((3, 2), "float32"))
    assert log_p.dtype == "float32" and np.isfinite(keras.ops.convert_to_numpy(log_p)).all()
    draws = vae.sample(4, seed=0)
    assert draws.dtype == np.float32 and 0 <= draws.min() and draws.max() <= 1
