"""Files written before `GaussianMixture` existed load and give the same draws and densities."""

import pathlib

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from keras_vae.latent import GaussianMixture, LatentPools
from keras_vae.samplers import load_sampler

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "mixtures"


def test_old_files_give_the_same_draws_and_densities():
    expected = np.load(FIXTURES / "expected_v1.npz")
    pools = LatentPools.load(FIXTURES / "pools_v1.npz")
    np.testing.assert_array_equal(pools.sample(7, 5, seed=1), expected["pools_sample_7"])
    np.testing.assert_allclose(pools.log_density(expected["z"]), expected["pools_log_density"])
    for name, key, seed in (("mixture", "mixture_sample", 2), ("pool", "pool_sample", 3)):
        n = len(expected[key])
        np.testing.assert_array_equal(
            load_sampler(FIXTURES / f"{name}_v1.json").sample(n, seed=seed), expected[key]
        )
        np.testing.assert_array_equal(
            GaussianMixture.load(FIXTURES / f"{name}_v1.json").sample(n, seed=seed), expected[key]
        )
    prior = GaussianMixture.load(FIXTURES / "prior_v1.json")
    np.testing.assert_array_equal(prior.sample(5, seed=4), expected["prior_sample"])


def test_log_prob_matches_scipy():
    mixture = GaussianMixture.load(FIXTURES / "mixture_v1.json")
    z = np.load(FIXTURES / "expected_v1.npz")["z"]
    per_component = np.stack(
        [
            stats.multivariate_normal(mean, cov).logpdf(z)
            for mean, cov in zip(mixture._means, mixture.covariances)
        ],
        axis=1,
    )
    expected = logsumexp(per_component + np.log(mixture._weights), axis=1)
    np.testing.assert_allclose(mixture.log_prob(z), expected, rtol=1e-10)
