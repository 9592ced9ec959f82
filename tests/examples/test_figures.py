"""The example's figures (examples/figures.py): what each one draws, read back from the
matplotlib figure and from the PNG."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

import keras_vae

FIGURES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "figures.py"
spec = importlib.util.spec_from_file_location("example_figures", FIGURES)
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)


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
    """The PNG's pixels (height, width, channels) in [0, 1]; fails on a blank image."""
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.min() >= 0.0 and image.max() <= 1.0
    assert image[..., :3].std() > 0.05, f"{path} is blank"
    return image


def labels_of(figure):
    return [axis.get_ylabel() for axis in figure.get_axes() if axis.get_ylabel()]


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


def test_psnr_matches_its_definition():
    reference = np.zeros((2, 4, 4, 1))
    assert figures.psnr(reference + 0.1, reference) == pytest.approx(20.0)
    assert figures.psnr(reference, reference) == float("inf")


def test_reconstructions_print_each_models_psnr(tmp_path, models, digits):
    shown = digits[0][:6]
    recon = {name: m.reconstruct(shown) for name, m in models.items()}
    figure = figures.draw_reconstructions(shown, recon)
    expected = [f"PSNR {figures.psnr(recon[name], shown):.1f} dB" for name in recon]
    assert [label.split("\n")[-1] for label in labels_of(figure)[1:]] == expected
    # Three rows of six images, wider than tall.
    height, width = read_png(figures.plot_reconstructions(shown, recon, tmp_path / "r.png")).shape[
        :2
    ]
    assert width > height > 100


def test_interpolation_walks_from_one_original_to_the_other(models, digits):
    images = digits[0]
    rows = figures.interpolation_rows(models, images[0], images[1], steps=5)
    assert list(rows) == [
        "AutoEncoder\n(latent walk)",
        "VAE\n(latent walk)",
        "pixel blend\n(no model)",
    ]
    for row in rows.values():
        assert len(row) == 7
        np.testing.assert_array_equal(row[0], images[0])
        np.testing.assert_array_equal(row[-1], images[1])
    vae_row = rows["VAE\n(latent walk)"]
    # The walk starts and ends at the two codes: their decodings are the reconstructions.
    np.testing.assert_allclose(vae_row[1], models["VAE"].reconstruct(images[:1])[0], atol=1e-5)
    np.testing.assert_allclose(vae_row[-2], models["VAE"].reconstruct(images[1:2])[0], atol=1e-5)
    # The pixel blend half way is the mean of the two images.
    blend = figures.interpolation_rows({}, images[0], images[1], steps=3)["pixel blend\n(no model)"]
    np.testing.assert_allclose(blend[2], (images[0] + images[1]) / 2, atol=1e-6)


def test_prior_samples_carry_the_judges_verdicts(tmp_path, models):
    samples = {name: m.sample(16, seed=0) for name, m in models.items()}
    digits = np.arange(16) % 10
    probabilities = np.linspace(0.5, 1.0, 16)
    verdicts = {"VAE": (digits, probabilities)}
    figure = figures.draw_prior_samples(samples, verdicts)
    titles = [axis.get_title() for axis in figure.get_axes() if axis.get_title()]
    assert titles == [f"{d} {p:.2f}" for d, p in zip(digits, probabilities)]
    confident = int((probabilities >= 0.9).sum())
    panel_titles = [sub._suptitle.get_text() for sub in figure.subfigs]
    assert panel_titles == ["AutoEncoder", f"VAE: {confident} of 16 read as a digit with p >= 0.9"]
    image = read_png(figures.plot_prior_samples(samples, tmp_path / "p.png", verdicts))
    assert image.shape[1] > image.shape[0]  # panels side by side
    with pytest.raises(ValueError, match="verdicts"):
        figures.plot_prior_samples(samples, tmp_path / "x.png", {"VAE": (digits[:3], digits[:3])})


@pytest.mark.parametrize("latent_dim", [2, 5])
def test_latent_space_panels_share_one_window_holding_every_code(tmp_path, digits, latent_dim):
    images, labels = digits
    codes = {
        "AutoEncoder": np.random.default_rng(0).normal(size=(len(images), latent_dim)) * 6.0,
        "VAE": figures.latent_codes(
            keras_vae.VAE(latent_dim=latent_dim, architecture="dense", seed=0), images
        ),
    }
    figure = figures.draw_latent_space(codes, labels)
    first, second = figure.get_axes()[:2]
    assert first.get_shared_x_axes().joined(first, second)
    assert first.get_shared_y_axes().joined(first, second)
    assert first.get_xlim() == second.get_xlim() == first.get_ylim()
    extent = first.get_xlim()[1]
    for axis in (first, second):
        points = axis.collections[0].get_offsets()
        assert np.mean(np.abs(points) <= extent) > 0.99
    if latent_dim == 2:
        assert len(second.patches) == 2  # the prior's 1 and 2 sigma circles
    else:
        assert "of the variance" in first.get_xlabel()
    read_png(figures.plot_latent_space(codes, labels, tmp_path / "s.png"))


def test_learning_to_reconstruct_says_why_untrained_output_is_grey(tmp_path, models, digits):
    shown = digits[0][:6]
    grey = {name: np.full_like(shown, 0.5) for name in models}
    trained = {name: m.reconstruct(shown) for name, m in models.items()}
    history = {"reconstruction_loss": [3.0, 2.0], "val_reconstruction_loss": [3.1, 2.1]}
    histories = {name: history for name in models}
    figure = figures.draw_learning_to_reconstruct(histories, shown, grey, trained)
    labels = labels_of(figure)
    assert "AutoEncoder before training\n(every pixel 0.50 ± 0.00)" in labels
    assert any(label.startswith("VAE trained\nPSNR ") for label in labels)
    assert "flat grey" in figure._suptitle.get_text()
    read_png(
        figures.plot_learning_to_reconstruct(histories, shown, grey, trained, tmp_path / "l.png")
    )


def test_training_curves_and_manifold(tmp_path, models):
    history = {"loss": [3.0, 2.0], "reconstruction_loss": [3.0, 2.0], "val_loss": [3.1, 2.1]}
    vae_history = {**history, "kl_loss": [0.5, 0.7], "val_kl_loss": [0.5, 0.6]}
    figure = figures.draw_training_curves({"AutoEncoder": history, "VAE": vae_history})
    loss, _, kl = figure.get_axes()[:3]
    np.testing.assert_array_equal(loss.lines[0].get_ydata(), [3.0, 2.0])
    assert len(loss.lines) == 4 and len(kl.lines) == 2  # the AE has no KL curve
    read_png(figures.plot_training_curves({"VAE": vae_history}, tmp_path / "c.png"))
    manifold = read_png(figures.plot_latent_manifold(models["VAE"], tmp_path / "m.png", n=5))
    assert abs(manifold.shape[0] - manifold.shape[1]) < 0.2 * manifold.shape[0]


def test_manifold_needs_two_latent_dimensions(tmp_path):
    model = keras_vae.VAE(latent_dim=3, architecture="dense")
    with pytest.raises(ValueError, match="latent_dim=2; got 3"):
        figures.plot_latent_manifold(model, tmp_path / "m.png")


def test_importing_and_drawing_leave_the_plotting_backend_alone(tmp_path):
    script = f"""
import importlib.util, sys
import matplotlib
import numpy as np
spec = importlib.util.spec_from_file_location("figures", {str(FIGURES)!r})
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)
figures.plot_training_curves({{"VAE": {{"loss": [2.0, 1.0]}}}}, {str(tmp_path / "c.png")!r})
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
"""
    env = dict(os.environ, MPLBACKEND="svg", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
