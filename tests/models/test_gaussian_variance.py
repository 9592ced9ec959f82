"""The Gaussian likelihood's learned variance: one scalar, or one per image channel."""

import keras
import numpy as np
import pytest
from export_helpers import SMALL
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


LEARNED = ("learned", "learned_per_channel")


def _twin_models():
    """The same networks under one learned scalar variance and under one per channel."""
    models = [
        keras_vae.VAE(
            latent_dim=2,
            input_shape=SHAPE,
            likelihood="gaussian",
            gaussian_variance=kind,
            seed=0,
        )  # fmt: skip
        for kind in LEARNED
    ]
    models[1].encoder.set_weights(models[0].encoder.get_weights())
    models[1].decoder.set_weights(models[0].decoder.get_weights())
    return models


def test_evaluation_reads_the_per_channel_variance():
    # Equal per-channel variances are the scalar model; the ELBO and the importance-weighted
    # bound must agree, and move by the closed form when one channel's variance changes.
    from keras_vae import evaluation

    scalar, per_channel = _twin_models()
    scalar.output_log_var.assign(-1.0)
    per_channel.output_log_var.assign(np.full(3, -1.0, "float32"))
    x = np.random.default_rng(3).random((6, *SHAPE)).astype("float32")
    kwargs = {"num_samples": 4, "seed": 5}
    a, b = evaluation.elbo(scalar, x, **kwargs), evaluation.elbo(per_channel, x, **kwargs)
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-5)
    iw = [evaluation.log_likelihood(m, x, verbose=0, **kwargs) for m in (scalar, per_channel)]
    np.testing.assert_allclose(iw[1], iw[0], rtol=1e-5)

    # Raising channel 0's log-variance by d adds d / 2 nats per pixel of that channel to
    # -log p(x | z) and scales its squared-error term by exp(-d).
    z = np.random.default_rng(4).standard_normal((6, 2)).astype("float32")
    mean = per_channel.decode_tensors(z)
    before = keras.ops.convert_to_numpy(per_channel.reconstruction_log_likelihood(x, mean))
    per_channel.output_log_var.assign(np.array([0.5, -1.0, -1.0], "float32"))
    after = keras.ops.convert_to_numpy(per_channel.reconstruction_log_likelihood(x, mean))
    squared = ((x - keras.ops.convert_to_numpy(mean))[..., 0] ** 2).reshape(6, -1).sum(axis=1)
    pixels = SHAPE[0] * SHAPE[1]
    expected = before - 0.5 * (1.5 * pixels + squared * (np.exp(-0.5) - np.exp(1.0)))
    np.testing.assert_allclose(after, expected, rtol=1e-5)


def test_per_channel_models_export(tmp_path):
    from keras_vae import export

    _, vae = _twin_models()
    vae.output_log_var.assign(np.array([-2.0, 0.0, 1.0], "float32"))
    report = export.export_decoder(
        vae, tmp_path / "export", **(SMALL | dict(formats=("float32",), num_verification_samples=8))
    )
    assert report.passed and report.variants["float32"].max_abs_error < 1e-5


def test_per_channel_needs_an_image_shape():
    with pytest.raises(ValueError, match=r"expects an image `input_shape`.*got \(10,\)"):
        keras_vae.VAE(
            input_shape=(10,), architecture="dense", likelihood="gaussian",
            gaussian_variance="learned_per_channel",
        )  # fmt: skip
