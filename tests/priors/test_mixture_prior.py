"""The learned mixture prior: its density against scipy, the KL estimate against the closed
form, the likelihood and sampling through it, saving, and the errors."""

import keras
import numpy as np
import pytest
from keras_test_case import run_layer_test, run_model_test
from scipy import stats
from scipy.special import logsumexp

import keras_vae
from keras_vae import evaluation, losses
from keras_vae.samplers import GaussianMixtureSampler, PriorSampler


def _set_prior(prior, means, log_vars, logits):
    prior.set_parameters(
        np.asarray(means, "float32"), np.asarray(log_vars, "float32"), np.asarray(logits, "float32")
    )


def test_log_prob_matches_scipy_mixture_density():
    rng = np.random.default_rng(0)
    k, d = 3, 4
    prior = keras_vae.MixturePrior(d, num_components=k)
    means, log_vars, logits = rng.normal(size=(k, d)), rng.normal(size=(k, d)), rng.normal(size=k)
    _set_prior(prior, means, log_vars, logits)
    z = rng.normal(size=(7, d))
    log_w = logits - logsumexp(logits)
    expected = logsumexp(
        [
            log_w[j] + stats.multivariate_normal(means[j], np.diag(np.exp(log_vars[j]))).logpdf(z)
            for j in range(k)
        ],
        axis=0,
    )
    np.testing.assert_allclose(prior.log_prob(z.astype("float32")), expected, rtol=1e-5)


def test_parameters_round_trip_through_the_multiplier():
    prior = keras_vae.MixturePrior(2, num_components=2, learning_rate_multiplier=7.0)
    means, log_vars, logits = np.ones((2, 2)), np.full((2, 2), -1.0), np.array([0.5, 0.0])
    prior.set_parameters(means, log_vars, logits)
    for got, want in zip(prior.parameters(), (means, log_vars, logits)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(prior.scaled_means), means / 7.0)
    with pytest.raises(ValueError, match="means of shape \\(2, 2\\); got \\(3, 2\\)"):
        prior.set_parameters(np.ones((3, 2)), log_vars, logits)


def test_layer_contract(tmp_path):
    run_layer_test(
        keras_vae.MixturePrior,
        {"latent_dim": 3, "num_components": 4, "learning_rate_multiplier": 5.0, "seed": 2},
        np.random.default_rng(0).normal(size=(5, 3)).astype("float32"),
        (5,),
        tmp_path,
        mixed_precision_compute_dtype="float32",  # a prior is float32 under any policy
    )


def _vae_with_prior(latent_dim=2, num_components=1, seed=0):
    # Without the refit at the end of `fit`: these tests look at the prior as trained.
    return keras_vae.VAE(
        latent_dim=latent_dim,
        prior=keras_vae.MixturePrior(latent_dim, num_components=num_components, seed=seed),
        seed=seed,
        refit_prior_after_fit=False,
    )


@pytest.mark.heavy
def test_kl_estimate_is_unbiased_for_the_closed_form(tiny_images):
    """One Gaussian component with known mean and variance: E_q[log q - log p] has a closed
    form (the KL between two diagonal Gaussians), which the sampled estimate must average to."""
    vae = _vae_with_prior()
    mean, log_var = np.array([[0.5, -1.0]]), np.array([[0.3, -0.2]])
    _set_prior(vae.prior, mean, log_var, [0.0])
    z_mean, z_log_var = vae.encode(tiny_images[:4])
    expected = 0.5 * np.sum(
        log_var
        - z_log_var
        + (np.exp(z_log_var) + np.square(z_mean - mean)) / np.exp(log_var)
        - 1.0,
        axis=-1,
    )
    terms = evaluation.elbo(vae, tiny_images[:4], num_samples=20_000, seed=1)
    np.testing.assert_allclose(terms["kl_loss"], expected, rtol=0.02, atol=0.02)


@pytest.mark.heavy
def test_a_standard_normal_component_gives_the_standard_likelihood(tiny_images):
    """A one-component prior at N(0, I) is the standard prior: same IWAE estimate, same ELBO."""
    standard = keras_vae.VAE(latent_dim=2, seed=0)
    learned = _vae_with_prior()
    for source, target in zip(standard.encoder.weights, learned.encoder.weights):
        target.assign(source)
    for source, target in zip(standard.decoder.weights, learned.decoder.weights):
        target.assign(source)
    _set_prior(learned.prior, np.zeros((1, 2)), np.zeros((1, 2)), [0.0])
    images = tiny_images[:6]
    np.testing.assert_allclose(
        evaluation.log_likelihood(learned, images, num_samples=64, seed=3, verbose=0),
        evaluation.log_likelihood(standard, images, num_samples=64, seed=3, verbose=0),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        evaluation.elbo(learned, images, num_samples=4000, seed=3)["loss"],
        evaluation.elbo(standard, images, num_samples=4000, seed=3)["loss"],
        rtol=5e-3,
    )


def test_training_moves_the_prior_towards_the_codes(tiny_images):
    keras.utils.set_random_seed(0)
    vae = _vae_with_prior(num_components=3)
    before = vae.prior.component_parameters()[0]
    vae.compile()
    history = vae.fit(tiny_images, epochs=2, batch_size=32, verbose=0)
    assert np.isfinite(history.history["kl_loss"]).all()
    # 16 Adam steps at 1e-3 move a stored value by at most about 0.016; the multiplier (20)
    # makes the means move up to 20 times that.
    moved = np.abs(vae.prior.component_parameters()[0] - before).max()
    assert 0.05 < moved < 16 * 1e-3 * 20 * 1.5


def test_sampling_draws_from_the_learned_prior():
    vae = _vae_with_prior(latent_dim=2, num_components=2)
    _set_prior(vae.prior, [[5.0, 5.0], [-5.0, -5.0]], np.log([[0.01, 0.01], [0.01, 0.01]]), [4, 0])
    sampler = vae.prior_sampler(temperature=0.5)
    assert isinstance(sampler, GaussianMixtureSampler)
    np.testing.assert_allclose(sampler.scale_tril[0], 0.5 * 0.1 * np.eye(2), rtol=1e-5)
    z = vae.prior_latents(2000, seed=0)
    near_first = np.linalg.norm(z - 5.0, axis=1) < 1.0
    # logits (4, 0): the first component has weight e^4 / (e^4 + 1).
    assert abs(near_first.mean() - np.exp(4) / (np.exp(4) + 1)) < 0.03
    np.testing.assert_array_equal(vae.prior_latents(5, seed=1), vae.prior_latents(5, seed=1))
    textbook = keras_vae.VAE(latent_dim=2, prior="standard_normal")
    assert isinstance(textbook.prior_sampler(), PriorSampler)


def test_saves_and_loads_with_identical_outputs(tiny_images, tmp_path):
    def outputs(model):
        z = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
        return {
            "decode": model.decode(z),
            "sample": model.sample(4, seed=2),
            "log_prior": keras.ops.convert_to_numpy(model.prior_log_density(z)),
        }

    run_model_test(
        keras_vae.VAE,
        {"latent_dim": 2, "prior": keras_vae.MixturePrior(2, num_components=3, seed=1), "seed": 0},
        tiny_images[:64],
        tmp_path,
        outputs,
    )


def test_bad_priors_are_refused():
    with pytest.raises(ValueError, match="latent_dim 4 .*latent_dim 3"):
        keras_vae.VAE(latent_dim=4, prior=keras_vae.MixturePrior(3))
    with pytest.raises(ValueError, match="MixturePrior.*got 'gaussian_mixture'"):
        keras_vae.VAE(latent_dim=3, prior="gaussian_mixture")
    with pytest.raises(ValueError, match="num_components.*got 0"):
        keras_vae.MixturePrior(3, num_components=0)
    with pytest.raises(ValueError, match="learning_rate_multiplier.*got -1"):
        keras_vae.MixturePrior(3, learning_rate_multiplier=-1)
    with pytest.raises(ValueError, match="temperature"):
        _vae_with_prior().prior_sampler(temperature=0)


def test_the_kl_term_is_the_sampled_estimate():
    """`elbo_terms` with a learned prior: KL = -H(q) - log p(z) at the given sample."""
    vae = _vae_with_prior(latent_dim=2, num_components=2)
    rng = np.random.default_rng(0)
    z_mean, z_log_var, z = (rng.normal(size=(3, 2)).astype("float32") for _ in range(3))
    images = np.zeros((3, 28, 28, 1), "float32")
    logits = np.zeros((3, 28, 28, 1), "float32")
    _, terms = vae.elbo_terms(images, logits, z_mean, z_log_var, z=z)
    expected = -keras.ops.convert_to_numpy(
        losses.diagonal_gaussian_entropy(z_log_var)
    ) - keras.ops.convert_to_numpy(vae.prior.log_prob(z))
    np.testing.assert_allclose(terms["kl_loss"], expected, rtol=1e-6)
    with pytest.raises(ValueError, match="posterior sample"):
        vae.elbo_terms(images, logits, z_mean, z_log_var)


# covariance="full" ---------------------------------------------------------------------------


def _full_prior(k=3, d=4, seed=0):
    """A full-covariance prior with random means, variances, weights and correlations."""
    rng = np.random.default_rng(seed)
    prior = keras_vae.MixturePrior(d, num_components=k, covariance="full", seed=seed)
    _set_prior(prior, rng.normal(size=(k, d)), 0.3 * rng.normal(size=(k, d)), rng.normal(size=k))
    prior.precision_offdiagonal.assign(0.5 * rng.normal(size=(k, d, d)).astype("float32"))
    return prior


def test_full_covariance_density_matches_scipy():
    prior = _full_prior()
    means, _, logits = (keras.ops.convert_to_numpy(t) for t in prior.parameters())
    precision_tril = keras.ops.convert_to_numpy(prior.precision_tril())
    # Lower triangular, with exp(-log_var / 2) on the diagonal.
    np.testing.assert_array_equal(np.triu(precision_tril, k=1), 0)
    z = np.random.default_rng(1).normal(size=(7, 4))
    log_w = logits - logsumexp(logits)
    expected = logsumexp(
        [
            log_w[j]
            + stats.multivariate_normal(
                means[j], np.linalg.inv(precision_tril[j] @ precision_tril[j].T)
            ).logpdf(z)
            for j in range(3)
        ],
        axis=0,
    )
    np.testing.assert_allclose(prior.log_prob(z.astype("float32")), expected, rtol=1e-5)


def test_full_covariance_starts_as_the_diagonal_mixture():
    rng = np.random.default_rng(2)
    params = rng.normal(size=(3, 4)), 0.3 * rng.normal(size=(3, 4)), rng.normal(size=3)
    full = keras_vae.MixturePrior(4, num_components=3, covariance="full")
    diagonal = keras_vae.MixturePrior(4, num_components=3)
    _set_prior(full, *params)
    _set_prior(diagonal, *params)
    z = rng.normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(full.log_prob(z), diagonal.log_prob(z), rtol=1e-5)


def test_full_covariance_draws_have_the_covariance(tiny_images):
    vae = keras_vae.VAE(latent_dim=4, prior=_full_prior(k=1), seed=0)
    precision_tril = keras.ops.convert_to_numpy(vae.prior.precision_tril())[0]
    covariance = np.linalg.inv(precision_tril @ precision_tril.T)
    sampler = vae.prior_sampler(temperature=0.5)
    np.testing.assert_allclose(
        sampler.scale_tril[0] @ sampler.scale_tril[0].T, 0.25 * covariance, rtol=1e-4, atol=1e-5
    )
    z = vae.prior_latents(40_000, seed=0)
    np.testing.assert_allclose(np.cov(z.T), covariance, atol=0.05 * np.abs(covariance).max())
    # The marginal standard deviations are what component_parameters reports.
    _, scales, _ = vae.prior.component_parameters()
    np.testing.assert_allclose(scales[0], np.sqrt(np.diag(covariance)), rtol=1e-4)


def test_full_covariance_trains_and_round_trips(tiny_images, tmp_path):
    def outputs(model):
        z = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
        return {
            "sample": model.sample(4, seed=2),
            "log_prior": keras.ops.convert_to_numpy(model.prior_log_density(z)),
        }

    model, _ = run_model_test(
        keras_vae.VAE,
        {
            "latent_dim": 2,
            "prior": keras_vae.MixturePrior(2, num_components=3, seed=1, covariance="full"),
            "seed": 0,
        },
        tiny_images[:64],
        tmp_path,
        outputs,
    )
    assert model.prior.get_config()["covariance"] == "full"
    # The one fit epoch moved the correlation below the diagonal.
    below = keras.ops.convert_to_numpy(model.prior.precision_offdiagonal)[:, 1, 0]
    assert np.abs(below).max() > 0
    with pytest.raises(ValueError, match="covariance.*'diagonal', 'full'.*got 'spherical'"):
        keras_vae.MixturePrior(2, covariance="spherical")


# refit_prior: the EM step on the prior ---------------------------------------------------------


def _posterior_draws(vae, images, seed, draws_per_image=3):
    z_mean, z_log_var = vae.encode(images)
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
            for _ in range(draws_per_image)
        ]
    ).astype("float32")


def test_posterior_draws_are_the_reparameterized_draws_of_each_image(tiny_images):
    vae = _vae_with_prior()
    images = tiny_images[:5]
    z_mean, z_log_var = vae.encode(images)
    draws = vae.posterior_draws(images, draws_per_image=2, seed=4)
    assert draws.shape == (10, 2) and draws.dtype == np.float32
    noise = np.random.default_rng(4).standard_normal((2, 5, 2))
    expected = z_mean + np.exp(0.5 * z_log_var) * noise
    np.testing.assert_allclose(draws, expected.reshape(10, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(draws, _posterior_draws(vae, images, seed=4, draws_per_image=2))


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_refit_prior_is_scikit_learns_em_from_the_prior_as_it_is(tiny_images, covariance):
    from sklearn.mixture import GaussianMixture

    prior = keras_vae.MixturePrior(3, num_components=4, seed=0, covariance=covariance)
    vae = keras_vae.VAE(latent_dim=3, architecture="dense", prior=prior, seed=0)
    images = tiny_images[:100]
    draws = _posterior_draws(vae, images, seed=5)
    means, log_vars, _ = (keras.ops.convert_to_numpy(t) for t in prior.parameters())
    full = covariance == "full"
    expected = GaussianMixture(
        4,
        covariance_type="full" if full else "diag",
        weights_init=np.full(4, 0.25),
        means_init=means,
        precisions_init=np.stack([np.diag(np.exp(-v)) for v in log_vars])
        if full
        else np.exp(-log_vars),
        random_state=5,
    ).fit(draws)

    result = vae.refit_prior(images, seed=5)
    assert result["after"] >= result["before"]
    np.testing.assert_allclose(result["after"], expected.score(draws), rtol=1e-4)
    got_means, _, got_logits = (keras.ops.convert_to_numpy(t) for t in prior.parameters())
    np.testing.assert_allclose(got_means, expected.means_, rtol=1e-4, atol=1e-4)
    weights = np.exp(got_logits) / np.exp(got_logits).sum()
    np.testing.assert_allclose(weights, expected.weights_, rtol=1e-4, atol=1e-6)
    scale_tril = prior.scale_tril()
    covariances = np.einsum("kij,klj->kil", scale_tril, scale_tril)
    wanted = (
        expected.covariances_ if full else np.stack([np.diag(c) for c in expected.covariances_])
    )
    np.testing.assert_allclose(covariances, wanted, rtol=1e-3, atol=1e-5)


def test_refit_prior_errors(tiny_images):
    with pytest.raises(ValueError, match="refits a MixturePrior; the model's prior is N\\(0, I\\)"):
        keras_vae.VAE(latent_dim=2, prior="standard_normal").refit_prior(tiny_images[:8])
    vamp = keras_vae.VAE(latent_dim=2, prior=keras_vae.VampPrior(2, num_components=2))
    with pytest.raises(ValueError, match="the model's prior is VampPrior"):
        vamp.refit_prior(tiny_images[:8])
    vae = _vae_with_prior(num_components=10)
    with pytest.raises(ValueError, match="num_components=10 posterior draws; got 6 \\(2 images"):
        vae.refit_prior(tiny_images[:2])
    with pytest.raises(ValueError, match="draws_per_image.*got 0"):
        vae.refit_prior(tiny_images[:8], draws_per_image=0)
