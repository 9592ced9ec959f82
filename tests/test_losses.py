"""Loss terms against closed forms and independent numpy/scipy computations."""

import numpy as np
import pytest
from keras import ops
from scipy import stats

from keras_vae import losses

rng = np.random.default_rng(0)


def test_kl_divergence_matches_closed_form_of_two_gaussians():
    mean = rng.normal(size=(5, 3)).astype("float32")
    log_var = rng.normal(size=(5, 3)).astype("float32")
    var = np.exp(log_var)
    # KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2)/2 - 1/2, summed over dimensions.
    expected = np.sum(-0.5 * log_var + 0.5 * (var + mean**2) - 0.5, axis=-1)
    got = ops.convert_to_numpy(losses.kl_divergence(mean, log_var))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_kl_divergence_is_zero_only_at_the_prior():
    zeros = np.zeros((2, 4), "float32")
    np.testing.assert_allclose(ops.convert_to_numpy(losses.kl_divergence(zeros, zeros)), 0.0)
    shifted = ops.convert_to_numpy(losses.kl_divergence(zeros + 0.1, zeros))
    assert (shifted > 0).all()


def test_kl_divergence_matches_monte_carlo_estimate():
    mean, log_var = np.array([[0.7, -1.2]]), np.array([[-0.5, 0.3]])
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.normal(size=(200_000, 2))
    log_q = stats.norm.logpdf(z, mean, std).sum(-1)
    log_p = stats.norm.logpdf(z).sum(-1)
    got = ops.convert_to_numpy(
        losses.kl_divergence(mean.astype("float32"), log_var.astype("float32"))
    )
    assert got[0] == pytest.approx(np.mean(log_q - log_p), abs=0.01)


def test_bernoulli_log_likelihood_matches_numpy_on_probabilities():
    x = rng.uniform(size=(4, 6, 6, 1)).astype("float32")
    logits = rng.normal(scale=3.0, size=x.shape).astype("float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    expected = np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=(1, 2, 3))
    got = ops.convert_to_numpy(losses.bernoulli_log_likelihood(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_bernoulli_log_likelihood_is_stable_for_huge_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0]], "float32")
    logits = np.array([[200.0, -200.0, -200.0, 200.0]], "float32")
    got = ops.convert_to_numpy(losses.bernoulli_log_likelihood(x, logits))
    # Two pixels are certain and right (log 1 = 0), two certain and wrong (log e^-200).
    np.testing.assert_allclose(got, [-400.0], rtol=1e-6)
    assert np.isfinite(got).all()


@pytest.mark.parametrize("log_var", [0.0, -2.3, 1.5])
def test_gaussian_log_likelihood_matches_scipy(log_var):
    x = rng.uniform(size=(3, 4, 4, 1)).astype("float32")
    mean = rng.uniform(size=x.shape).astype("float32")
    expected = stats.norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=(1, 2, 3))
    got = ops.convert_to_numpy(losses.gaussian_log_likelihood(x, mean, log_var))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_gaussian_log_likelihood_accepts_per_pixel_log_variance():
    x = rng.normal(size=(2, 5)).astype("float32")
    mean = np.zeros_like(x)
    log_var = rng.normal(size=(2, 5)).astype("float32")
    expected = stats.norm.logpdf(x, 0.0, np.exp(0.5 * log_var)).sum(-1)
    got = ops.convert_to_numpy(losses.gaussian_log_likelihood(x, mean, log_var))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_normal_log_densities_match_scipy():
    z = rng.normal(size=(7, 3)).astype("float32")
    mean = rng.normal(size=(7, 3)).astype("float32")
    log_var = rng.normal(size=(7, 3)).astype("float32")
    expected = stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)).sum(-1)
    np.testing.assert_allclose(
        ops.convert_to_numpy(losses.log_normal_density(z, mean, log_var)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(losses.standard_normal_log_density(z)),
        stats.norm.logpdf(z).sum(-1),
        rtol=1e-5,
    )


def test_gaussian_log_likelihood_with_a_shared_mean_counts_every_pixel():
    x = rng.uniform(size=(3, 4, 4, 1)).astype("float32")
    mean = np.float32(0.5)
    expected = stats.norm.logpdf(x, 0.5, np.exp(0.5 * -1.0)).sum(axis=(1, 2, 3))
    got = ops.convert_to_numpy(losses.gaussian_log_likelihood(x, mean, -1.0))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
