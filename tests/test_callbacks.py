"""VAEImageLogger and the projector export, checked by reading the event files back."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins import projector

import keras_vae
from keras_vae.callbacks import (
    VAEImageLogger,
    image_grid,
    sprite_image,
    traversal_latents,
    write_embedding_projector,
)


def read_events(folder):
    """Every tensor summary in `folder`: {tag: [(step, numpy value), ...]}."""
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return {
        tag: [
            (event.step, tf.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)
        ]
        for tag in accumulator.Tags()["tensors"]
    }


def png_shape(summary_value):
    """An image summary is [width, height, png, ...]; decode the PNG and check both agree."""
    width, height = int(summary_value[0]), int(summary_value[1])
    image = tf.io.decode_png(summary_value[2]).numpy()
    assert image.shape[:2] == (height, width)
    return image.shape


def fit(model, images, callback, epochs):
    model.compile()
    model.fit(images, epochs=epochs, batch_size=64, verbose=0, callbacks=[callback])


@pytest.fixture(scope="module")
def images(mnist_sample):
    return mnist_sample[0][:128]


def test_vae_logger_writes_images_histogram_and_kl_per_epoch(tmp_path, images):
    vae = keras_vae.VAE(latent_dim=3, architecture="dense", seed=0)
    logger = VAEImageLogger(tmp_path, images[:40], num_samples=8, traversal_steps=5)
    fit(vae, images, logger, epochs=2)
    events = read_events(tmp_path / "images")

    for tag in ("reconstructions", "prior_samples", "latent_traversal"):
        assert [step for step, _ in events[tag]] == [0, 1]
    # 8 images in columns of 3 (ceil(sqrt(8))): 3 rows of originals + 3 of reconstructions,
    # 28 pixels each with 1 pixel of padding between tiles.
    assert png_shape(events["reconstructions"][0][1]) == (6 * 29 - 1, 3 * 29 - 1, 1)
    assert png_shape(events["prior_samples"][0][1]) == (3 * 29 - 1, 3 * 29 - 1, 1)
    # One row per latent dimension (3), one column per traversal step (5).
    assert png_shape(events["latent_traversal"][0][1]) == (3 * 29 - 1, 5 * 29 - 1, 1)

    # A histogram is (buckets, 3): left edge, right edge, count; counts add up to every value.
    histogram = events["latent/z_mean"][-1][1]
    assert histogram.ndim == 2 and histogram.shape[1] == 3
    assert histogram[:, 2].sum() == pytest.approx(40 * 3)

    z_mean, z_log_var = vae.encode(images[:40])
    expected = keras_vae.losses.kl_divergence_per_dimension(z_mean, z_log_var).numpy().mean(0)
    logged = [float(events[f"kl/dim_{d:02d}"][-1][1]) for d in range(3)]
    np.testing.assert_allclose(logged, expected, rtol=1e-4)
    assert int(events["kl/active_units"][-1][1]) == int((z_mean.var(0) > 0.01).sum())


def test_prior_samples_use_the_same_latents_every_epoch(tmp_path, images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    logger = VAEImageLogger(tmp_path, images[:16], seed=5)
    fit(vae, images, logger, epochs=1)
    first = logger._prior_latents.copy()
    expected = np.random.default_rng(5).standard_normal((16, 2)).astype(np.float32)
    np.testing.assert_array_equal(first, expected)
    logged = tf.io.decode_png(read_events(tmp_path / "images")["prior_samples"][0][1][2])
    decoded = vae.decode(expected)
    grid = np.round(image_grid(decoded, 4) * 255)
    np.testing.assert_allclose(logged.numpy().astype(np.float32), grid, atol=1)


def test_every_n_epochs_and_the_last_epoch(tmp_path, images):
    ae = keras_vae.AutoEncoder(latent_dim=2, architecture="dense")
    logger = VAEImageLogger(tmp_path, images[:16], every_n_epochs=2)
    fit(ae, images[:64], logger, epochs=3)
    events = read_events(tmp_path / "images")
    # Epochs 1 (every second one) and 2 (the last).
    assert [step for step, _ in events["reconstructions"]] == [1, 2]
    # An autoencoder has codes but no KL.
    assert "latent/z" in events and not any(tag.startswith("kl/") for tag in events)
    assert logger._writer is None  # closed at the end of training


def test_model_saves_without_the_callback(tmp_path, images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    fit(vae, images[:64], VAEImageLogger(tmp_path / "logs", images[:8]), epochs=1)
    vae.save(tmp_path / "vae.keras")
    reloaded = keras.saving.load_model(tmp_path / "vae.keras")
    np.testing.assert_allclose(reloaded.reconstruct(images[:4]), vae.reconstruct(images[:4]))


def test_traversal_latents_for_vae_and_autoencoder():
    vae = keras_vae.VAE(latent_dim=2, architecture="dense")
    latents = traversal_latents(vae, np.zeros((5, 2), np.float32), dims=2, steps=3)
    np.testing.assert_allclose(latents, [[-3, 0], [0, 0], [3, 0], [0, -3], [0, 0], [0, 3]])
    ae = keras_vae.AutoEncoder(latent_dim=2, architecture="dense")
    codes = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)  # mean (2, 20), std (1, 10)
    latents = traversal_latents(ae, codes, dims=1, steps=3)
    np.testing.assert_allclose(latents, [[-1, 20], [2, 20], [5, 20]], atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"every_n_epochs": 0}, "every_n_epochs"),
        ({"num_samples": 1.5}, "num_samples"),
        ({"validation_images": np.zeros((4, 28, 28, 1), np.uint8)}, "validation_images"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    arguments = {"log_dir": tmp_path, "validation_images": np.zeros((4, 28, 28, 1), np.float32)}
    with pytest.raises(ValueError, match=match):
        VAEImageLogger(**{**arguments, **kwargs})


def test_validation_images_of_the_wrong_shape_fail_when_training_starts(tmp_path, images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense")
    with pytest.raises(ValueError, match="validation_images"):
        fit(vae, images[:64], VAEImageLogger(tmp_path, np.zeros((4, 32, 32, 1), "float32")), 1)


def test_embedding_projector_files(tmp_path, images):
    codes = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    labels = np.arange(10) % 4
    written = write_embedding_projector(tmp_path, codes, labels, images[:10])

    assert (tmp_path / "latent_codes_metadata.tsv").read_text().split() == [str(v) for v in labels]
    config = text_format.Parse(
        (tmp_path / "projector_config.pbtxt").read_text(), projector.ProjectorConfig()
    )
    embedding = config.embeddings[0]
    assert embedding.metadata_path == "latent_codes_metadata.tsv"
    assert list(embedding.sprite.single_image_dim) == [28, 28]
    # The variable comes back from the checkpoint under the name the config points at.
    reader = tf.train.load_checkpoint(written["checkpoint"])
    np.testing.assert_array_equal(reader.get_tensor(embedding.tensor_name), codes)
    # 10 thumbnails need a 4 x 4 sheet of 28-pixel cells; the first one is the first image.
    sprite = tf.io.decode_png(tf.io.read_file(written["sprite"])).numpy()
    assert sprite.shape == (4 * 28, 4 * 28, 1)
    np.testing.assert_allclose(sprite[:28, :28] / 255.0, images[0], atol=1 / 255)


def test_embedding_projector_bad_input(tmp_path):
    with pytest.raises(ValueError, match="`codes`"):
        write_embedding_projector(tmp_path, np.zeros(5))
    with pytest.raises(ValueError, match="`labels`"):
        write_embedding_projector(tmp_path, np.zeros((5, 2)), labels=[1, 2])


def test_sprite_pads_with_white():
    sprite = sprite_image(np.zeros((2, 2, 2, 1), np.float32))
    assert sprite.shape == (4, 4, 1)
    assert (sprite[:2] == 0).all() and (sprite[2:] == 255).all()
