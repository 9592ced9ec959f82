"""The Gaussian likelihood's learned variance: one scalar, or one per image channel."""

import keras
import numpy as np
import pytest
from scipy import stats

import keras_vae

SHAPE = (8, 8, 3)


def test_per_channel_log_likelihood_matches_scipy():
    vae = keras_vae.VAE(
        latent_dim=2, input_shape=SHAPE, likelihood="gaussian",
        gaussian_variance="learned_per_channel",
    )  # fmt: skip
    assert tuple(vae.output_log_var.shape) == (3,)
    log_vars = np.array([-2.0, 0.0, 1.0], "float32")
    vae.output_log_var.assign(log_vars)
    rng = np.random.default_rng(0)
    x = rng.random((4, *SHAPE)).astype("float32")
    mean = rng.random((4, *SHAPE)).astype("float32")
    got = keras.ops.convert_to_numpy(vae.reconstruction_log_likelihood(x, mean))
    expected = stats.norm.logpdf(x, mean, np.exp(0.5 * log_vars)).reshape(4, -1).sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_each_channel_learns_its_own_noise(tmp_path):
    # Channel noise standard deviations 0.02, 0.1 and 0.3 around one grey level per image
    # (which the code can hold): the learned variances must come out in that order, far apart.
    rng = np.random.default_rng(1)
    base = np.broadcast_to(0.2 + 0.6 * rng.random((256, 1, 1, 1)), (256, *SHAPE))
    noise = rng.standard_normal(base.shape) * np.array([0.02, 0.1, 0.3])
    images = np.clip(base + noise, 0, 1).astype("float32")
    keras.utils.set_random_seed(0)
    vae = keras_vae.VAE(
        latent_dim=4, input_shape=SHAPE, likelihood="gaussian",
        gaussian_variance="learned_per_channel", seed=0,
    )  # fmt: skip
    vae.compile(optimizer=keras.optimizers.Adam(2e-2))
    vae.fit(images, epochs=40, batch_size=16, verbose=0)
    sd = np.exp(0.5 * keras.ops.convert_to_numpy(vae.output_log_var))
    assert sd[0] < sd[1] < sd[2], sd
    assert sd[2] > 2 * sd[0], sd
    vae.save(tmp_path / "per_channel.keras")
    again = keras.saving.load_model(tmp_path / "per_channel.keras")
    assert again.gaussian_variance == "learned_per_channel"
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(again.output_log_var),
        keras.ops.convert_to_numpy(vae.output_log_var),
    )
    np.testing.assert_array_equal(again.reconstruct(images[:4]), vae.reconstruct(images[:4]))


@pytest.mark.parametrize("bad", ["per_pixel", -1.0, 0])
def test_bad_variance_is_refused(bad):
    with pytest.raises(ValueError, match="gaussian_variance"):
        keras_vae.VAE(input_shape=SHAPE, likelihood="gaussian", gaussian_variance=bad)
