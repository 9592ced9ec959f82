"""Latent tools against closed forms: pool statistics, the geometry of slerp, grids."""

import numpy as np
import pytest

import keras_vae
from keras_vae.latent import LatentPools, interpolate, latent_grid, traverse


@pytest.fixture
def pools_and_data():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]])
    z = np.r_[
        rng.multivariate_normal([0, 0, 0], cov, 400), rng.multivariate_normal([5, -5, 1], cov, 600)
    ]
    y = np.r_[np.full(400, 3), np.full(600, 7)]
    return LatentPools.fit_codes(z, y), z, y


def test_pools_are_the_class_statistics(pools_and_data):
    pools, z, y = pools_and_data
    assert pools.labels.tolist() == [3, 7]
    assert pools.counts.tolist() == [400, 600]
    for index, label in enumerate((3, 7)):
        np.testing.assert_allclose(pools.means[index], z[y == label].mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(
            pools.covariances[index], np.cov(z[y == label], rowvar=False), rtol=1e-5
        )


def test_samples_follow_the_pool(pools_and_data):
    pools, _, _ = pools_and_data
    draws = pools.sample(7, 20000, seed=0)
    assert draws.shape == (20000, 3) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.mean(axis=0), pools.means[1], atol=0.05)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), pools.covariances[1], atol=0.06)
    np.testing.assert_array_equal(pools.sample(7, 5, seed=1), pools.sample(7, 5, seed=1))
    assert (pools.classify(draws) == 7).mean() > 0.99


def test_pools_are_a_mixture_for_samplers_and_export(pools_and_data):
    pools, _, _ = pools_and_data
    assert pools.means.dtype == pools.scale_tril.dtype == np.float32
    lower = pools.scale_tril.astype("float64")
    assert np.array_equal(lower, np.tril(lower))
    np.testing.assert_allclose(lower @ lower.transpose(0, 2, 1), pools.covariances, atol=1e-5)
    np.testing.assert_allclose(pools.weights, [0.4, 0.6])
    assert pools.component_names == ["3", "7"]
    # z = mean_k + L_k noise: what an exported `generate(noise, component)` computes.
    noise = np.random.default_rng(0).standard_normal((20000, 3))
    z = pools.means[1] + noise @ lower[1].T
    np.testing.assert_allclose(np.cov(z, rowvar=False), pools.covariances[1], atol=0.06)


def test_log_density_is_the_gaussian_density(pools_and_data):
    pools, _, _ = pools_and_data
    z = np.array([[0.5, -1.0, 2.0]], "float32")
    for index in range(2):
        mean, cov = pools.means[index], pools.covariances[index]
        diff = z[0] - mean
        expected = -0.5 * (
            diff @ np.linalg.solve(cov, diff) + np.log(np.linalg.det(cov)) + 3 * np.log(2 * np.pi)
        )
        assert pools.log_density(z)[0, index] == pytest.approx(expected, rel=1e-5)


def test_save_and_load(pools_and_data, tmp_path):
    pools, _, _ = pools_and_data
    path = tmp_path / "pools.npz"
    pools.save(path)
    loaded = LatentPools.load(path)
    for name in ("labels", "means", "covariances", "counts"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(pools, name))
    np.testing.assert_array_equal(loaded.sample(3, 4, seed=0), pools.sample(3, 4, seed=0))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        pools.save(path)
    pools.save(path, overwrite=True)
    with pytest.raises(ValueError, match="needs the model"):
        loaded.generate(3, 2)
    with pytest.raises(FileNotFoundError):
        LatentPools.load(tmp_path / "missing.npz")


def test_pool_errors(pools_and_data):
    pools, z, y = pools_and_data
    with pytest.raises(ValueError, match=r"`label` in \[3, 7\]"):
        pools.sample(4, 2)
    with pytest.raises(ValueError, match="one label per example"):
        LatentPools.fit_codes(z, y[:-1])
    with pytest.raises(ValueError, match="at least 2 examples"):
        LatentPools.fit_codes(z[:401], y[:401])


def test_pools_of_a_real_model(tiny_images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    labels = np.arange(len(tiny_images)) % 2
    pools = LatentPools.fit(vae, tiny_images, labels)
    z_mean, _ = vae.encode(tiny_images)
    np.testing.assert_allclose(pools.means[1], z_mean[labels == 1].mean(axis=0), rtol=1e-5)
    assert pools.generate(1, 3, seed=0).shape == (3, 28, 28, 1)


def test_linear_interpolation():
    z0, z1 = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.0, -1.5])
    path = interpolate(z0, z1, steps=5)
    assert path.shape == (5, 3)
    np.testing.assert_allclose(path[2], (z0 + z1) / 2, rtol=1e-6)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((z1 - z0) / 4, (4, 1)), rtol=1e-5)


def test_slerp_stays_on_the_arc():
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=16), rng.normal(size=16)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    path = interpolate(z0, z1, steps=11, method="slerp").astype("float64")
    np.testing.assert_array_equal(path[0], z0.astype("float32"))
    np.testing.assert_array_equal(path[-1], z1.astype("float32"))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(z0), rtol=1e-5)
    omega = np.arccos(z0 @ z1 / np.linalg.norm(z0) ** 2)
    angles = np.arccos(
        np.clip(path @ z0 / np.linalg.norm(path, axis=1) / np.linalg.norm(z0), -1, 1)
    )
    np.testing.assert_allclose(angles, np.linspace(0, omega, 11), atol=1e-3)
    # All points lie in the plane of z0 and z1.
    basis, _ = np.linalg.qr(np.stack([z0, z1], axis=1))
    np.testing.assert_allclose(path - path @ basis @ basis.T, 0, atol=1e-4)


def test_slerp_edge_cases():
    z = np.array([1.0, 2.0])
    np.testing.assert_allclose(interpolate(z, 2 * z, 3, "slerp"), interpolate(z, 2 * z, 3))
    with pytest.raises(ValueError, match="opposite"):
        interpolate(z, -z, 3, "slerp")
    with pytest.raises(ValueError, match="steps"):
        interpolate(z, z, 1)
    with pytest.raises(ValueError, match="same shape"):
        interpolate(z, np.zeros(3), 3)
    with pytest.raises(ValueError, match="method"):
        interpolate(z, z, 3, "cubic")


def test_traverse():
    z = np.array([0.1, 0.2, 0.3])
    path = traverse(z, 1, [-2.0, 0.0, 2.0])
    np.testing.assert_allclose(path[:, 1], [-2, 0, 2])
    np.testing.assert_allclose(path[:, [0, 2]], np.tile([0.1, 0.3], (3, 1)), rtol=1e-6)
    with pytest.raises(ValueError, match=r"`dim` as an int in \[0, 3\)"):
        traverse(z, 3, [0.0])


def test_latent_grid():
    grid = latent_grid(3, extent=2.0)
    expected = [[-2, 2], [0, 2], [2, 2], [-2, 0], [0, 0], [2, 0], [-2, -2], [0, -2], [2, -2]]
    np.testing.assert_allclose(grid, expected)
    with pytest.raises(ValueError, match="extent"):
        latent_grid(3, extent=0)
