"""Samplers against closed forms: the moments of their draws, the mixture they fit, and their
JSON files; bad input gets an error naming the argument."""

import json

import numpy as np
import pytest

import keras_vae
from keras_vae.latent import LatentPools
from keras_vae.samplers import (
    GaussianMixtureSampler,
    PoolSampler,
    PriorSampler,
    Sampler,
    load_sampler,
)

CENTRES = np.array([[-6.0, 0.0, 1.0], [6.0, 2.0, -1.0]])
COVARIANCE = np.array([[1.0, 0.4, 0.0], [0.4, 0.8, 0.2], [0.0, 0.2, 0.5]])


@pytest.fixture(scope="module")
def two_clusters():
    """3-D codes from two Gaussians, 30% and 70% of the points."""
    rng = np.random.default_rng(0)
    return np.r_[
        rng.multivariate_normal(CENTRES[0], COVARIANCE, 3000),
        rng.multivariate_normal(CENTRES[1], COVARIANCE, 7000),
    ]


@pytest.fixture(scope="module")
def mixture(two_clusters):
    return GaussianMixtureSampler.fit_codes(two_clusters, n_components=2, seed=0)


@pytest.fixture(scope="module")
def pools(two_clusters):
    labels = np.r_[np.full(3000, 4), np.full(7000, 9)]
    return LatentPools.fit_codes(two_clusters, labels)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_prior_draws_have_the_tempered_standard_deviation(temperature):
    sampler = PriorSampler(4, temperature=temperature)
    z = sampler.sample(20000, seed=0)
    assert z.shape == (20000, 4) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), temperature, rtol=0.03)
    np.testing.assert_array_equal(sampler.sample(5, seed=3), sampler.sample(5, seed=3))
    assert not np.array_equal(sampler.sample(5, seed=3), sampler.sample(5, seed=4))
    np.testing.assert_allclose(sampler.scale_tril[0], temperature * np.eye(4))


def test_the_mixture_finds_the_two_clusters(mixture):
    order = np.argsort(mixture.means[:, 0])
    np.testing.assert_allclose(mixture.means[order], CENTRES, atol=0.08)
    np.testing.assert_allclose(mixture.weights[order], [0.3, 0.7], atol=0.01)
    lower = mixture.scale_tril.astype("float64")
    assert np.array_equal(lower, np.tril(lower))
    for k in range(2):
        np.testing.assert_allclose(lower[k] @ lower[k].T, COVARIANCE, atol=0.08)
    assert mixture.component_names == ["component 0", "component 1"]


def test_mixture_draws_follow_the_mixture(mixture):
    z, components = mixture.sample_with_components(40000, seed=1)
    assert z.shape == (40000, 3) and z.dtype == np.float32
    np.testing.assert_allclose(np.bincount(components) / len(z), mixture.weights, atol=0.01)
    for k in range(2):
        members = z[components == k]
        lower = mixture.scale_tril[k].astype("float64")
        np.testing.assert_allclose(members.mean(axis=0), mixture.means[k], atol=0.05)
        np.testing.assert_allclose(np.cov(members, rowvar=False), lower @ lower.T, atol=0.05)
    np.testing.assert_array_equal(mixture.sample(7, seed=2), mixture.sample(7, seed=2))


def test_pool_sampler_draws_from_one_pool(pools):
    sampler = PoolSampler(pools, 9)
    z = sampler.sample(20000, seed=0)
    np.testing.assert_allclose(z.mean(axis=0), pools.means[1], atol=0.05)
    np.testing.assert_allclose(np.cov(z, rowvar=False), pools.covariances[1], atol=0.06)
    assert (pools.classify(z) == 9).mean() > 0.99
    assert sampler.component_names == ["9"] and sampler.label == 9


@pytest.mark.parametrize("kind", ["prior", "mixture", "pool"])
def test_save_and_load_give_the_same_draws(kind, mixture, pools, tmp_path):
    sampler = {
        "prior": PriorSampler(3, temperature=0.7),
        "mixture": mixture,
        "pool": PoolSampler(pools, 4),
    }[kind]
    path = tmp_path / f"{kind}.json"
    sampler.save(path)
    assert json.loads(path.read_text())["class"] == type(sampler).__name__
    loaded = load_sampler(path, latent_dim=3)
    assert type(loaded) is type(sampler) and loaded.latent_dim == 3
    np.testing.assert_array_equal(loaded.sample(50, seed=5), sampler.sample(50, seed=5))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sampler.save(path)
    sampler.save(path, overwrite=True)
    with pytest.raises(ValueError, match="latent_dim 5 .* latent_dim 3"):
        load_sampler(path, latent_dim=5)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        load_sampler(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="written by Sampler.save"):
        load_sampler(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="not"):
        load_sampler(tmp_path / "broken.json")
    with pytest.raises(ValueError, match="ending in .json"):
        PriorSampler(2).save(tmp_path / "prior.npz")


@pytest.mark.parametrize("temperature", [0, -1.0, float("nan"), "1", True])
def test_non_positive_temperature_is_refused(temperature):
    with pytest.raises(ValueError, match="`temperature` as a positive number"):
        PriorSampler(2, temperature=temperature)


def test_bad_input_names_the_argument(two_clusters, pools):
    with pytest.raises(ValueError, match=r"`n_components` <= the number of examples \(5\)"):
        GaussianMixtureSampler.fit_codes(two_clusters[:5], n_components=10)
    with pytest.raises(ValueError, match=r"`label` in \[4, 9\]; got 7"):
        PoolSampler(pools, 7)
    with pytest.raises(TypeError, match="`pools` as a LatentPools"):
        PoolSampler({"means": 0}, 4)
    with pytest.raises(ValueError, match="`n` >= 1"):
        PriorSampler(2).sample(0)
    with pytest.raises(ValueError, match="latent_dim 8 .* latent_dim 3"):
        PriorSampler(3).check_latent_dim(8, "VAE.sample()")
    with pytest.raises(ValueError, match="`weights` >= 0 summing to 1"):
        GaussianMixtureSampler(np.zeros((2, 3)), np.stack([np.eye(3)] * 2), [0.5, 0.6])


def test_a_mixture_fitted_to_a_model_codes(tiny_images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    mixture = GaussianMixtureSampler.fit(vae, tiny_images, n_components=3, seed=0)
    assert isinstance(mixture, Sampler) and mixture.latent_dim == 2
    z_mean, _ = vae.encode(tiny_images)
    # Three components over the codes: the mixture's mean is the codes' mean.
    np.testing.assert_allclose(mixture.weights @ mixture.means, z_mean.mean(axis=0), atol=1e-3)
    with pytest.raises(ValueError, match="labels"):
        GaussianMixtureSampler.fit(vae, tiny_images, labels=np.zeros(len(tiny_images), int))
    autoencoder = keras_vae.AutoEncoder(latent_dim=3, architecture="dense", seed=0)
    assert GaussianMixtureSampler.fit(autoencoder, tiny_images, n_components=2).latent_dim == 3
