"""The example's figures: each one is written as a PNG of the expected layout."""

import matplotlib.image
import numpy as np
import pytest

import keras_vae
from keras_vae import figures


@pytest.fixture(scope="module")
def models():
    return {
        "AutoEncoder": keras_vae.AutoEncoder(latent_dim=2, architecture="dense", seed=0),
        "VAE": keras_vae.VAE(latent_dim=2, architecture="dense", seed=0),
    }


@pytest.fixture(scope="module")
def digits(mnist_sample):
    return mnist_sample[0][::50][:60], mnist_sample[1][::50][:60]


def read_png(path):
    assert path.exists() and path.stat().st_size > 0
    return matplotlib.image.imread(path)


def test_pca_2d_matches_the_closed_form():
    # Points along a known direction in 3-D, with a small orthogonal spread.
    rng = np.random.default_rng(0)
    direction = np.array([1.0, 2.0, 2.0]) / 3.0
    other = np.array([2.0, 1.0, -2.0]) / 3.0
    t, s = rng.normal(size=500) * 5.0, rng.normal(size=500)
    codes = np.outer(t, direction) + np.outer(s, other) + 7.0
    projection, explained = figures.pca_2d(codes)
    variance = np.array([np.var(t), np.var(s)])
    np.testing.assert_allclose(explained, variance / variance.sum(), atol=0.01)
    np.testing.assert_allclose(np.abs(projection[:, 0]), np.abs(t - t.mean()), atol=0.3)


def test_interpolation_ends_at_the_two_codes(models, digits):
    images = digits[0]
    vae = models["VAE"]
    strip = figures.interpolate_codes(vae, images[0], images[1], steps=5)
    assert strip.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(strip[0], vae.reconstruct(images[:1])[0], atol=1e-5)
    np.testing.assert_allclose(strip[-1], vae.reconstruct(images[1:2])[0], atol=1e-5)


def test_every_figure_is_written(tmp_path, models, digits):
    images, labels = digits
    shown = images[:6]
    history = {"loss": [3.0, 2.0], "reconstruction_loss": [3.0, 2.0], "val_loss": [3.1, 2.1]}
    history["val_reconstruction_loss"] = [3.1, 2.1]
    vae_history = {**history, "kl_loss": [0.5, 0.7], "val_kl_loss": [0.5, 0.6]}
    histories = {"AutoEncoder": history, "VAE": vae_history}
    recon = {name: m.reconstruct(shown) for name, m in models.items()}
    paths = [
        figures.plot_reconstructions(shown, recon, tmp_path / "r.png"),
        figures.plot_prior_samples(
            {name: m.sample(16, seed=0) for name, m in models.items()}, tmp_path / "p.png"
        ),
        figures.plot_latent_space(
            {name: figures.latent_codes(m, images) for name, m in models.items()},
            labels,
            tmp_path / "s.png",
        ),
        figures.plot_latent_manifold(models["VAE"], tmp_path / "m.png", n=5),
        figures.plot_interpolation(models, images[0], images[1], tmp_path / "i.png", steps=4),
        figures.plot_training_curves(histories, tmp_path / "c.png"),
        figures.plot_learning_to_reconstruct(histories, shown, recon, recon, tmp_path / "l.png"),
    ]
    for path in paths:
        height, width = read_png(path).shape[:2]
        assert height > 100 and width > 100
    # Side by side panels: the comparison figures are wider than tall.
    for path in (paths[1], paths[2], paths[5]):
        height, width = read_png(path).shape[:2]
        assert width > height


def test_latent_space_projects_more_than_two_dimensions(tmp_path, digits):
    model = keras_vae.VAE(latent_dim=5, architecture="dense", seed=0)
    codes = figures.latent_codes(model, digits[0])
    assert codes.shape == (len(digits[0]), 5)
    path = figures.plot_latent_space({"VAE": codes}, digits[1], tmp_path / "s.png")
    assert read_png(path).shape[0] > 100


def test_manifold_needs_two_latent_dimensions(tmp_path):
    model = keras_vae.VAE(latent_dim=3, architecture="dense")
    with pytest.raises(ValueError, match="latent_dim=2; got 3"):
        figures.plot_latent_manifold(model, tmp_path / "m.png")
