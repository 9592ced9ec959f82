"""VAEImageLogger and the projector export, checked by reading the event files back."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins import projector

import keras_vae
from keras_vae.callbacks import VAEImageLogger, sprite_image, write_embedding_projector
from keras_vae.callbacks.image_logger import traversal_centre_and_scale
from keras_vae.images import tile_images


def read_events(folder, descriptions=None):
    """Every tensor summary in `folder`: {tag: [(step, numpy value), ...]}; fills
    `descriptions` (a dict) with each tag's description when given."""
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    if descriptions is not None:
        for tag in accumulator.Tags()["tensors"]:
            descriptions[tag] = accumulator.SummaryMetadata(tag).summary_description
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
    # Written into log_dir itself: beside Keras's train/ and validation/ runs, the run named
    # after the model's folder.
    descriptions = {}
    events = read_events(tmp_path, descriptions)

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
    # Every card says what it shows.
    assert "validation images" in descriptions["reconstructions"]
    assert "N(0, I)" in descriptions["prior_samples"]
    assert "Row i: latent dimension i" in descriptions["latent_traversal"]
    assert "-3 to +3 prior standard deviations" in descriptions["latent_traversal"]
    assert "nats" in descriptions["kl/dim_00"]


def test_images_are_dark_digits_on_white_with_each_input_above_its_reconstruction(tmp_path, images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    logger = VAEImageLogger(tmp_path, images[:4], num_samples=4)
    fit(vae, images[:64], logger, epochs=1)
    grid = tf.io.decode_png(read_events(tmp_path)["reconstructions"][0][1][2]).numpy() / 255.0
    # 4 images in 2 columns: input row, reconstruction row, input row, reconstruction row.
    assert grid.shape == (4 * 29 - 1, 2 * 29 - 1, 1)
    np.testing.assert_allclose(grid[:28, :28, 0], 1.0 - images[0, ..., 0], atol=1 / 255)
    np.testing.assert_allclose(grid[29:57, :28], 1.0 - vae.reconstruct(images[:1])[0], atol=0.01)
    assert (grid[28] == 1.0).all()  # white padding between the rows


def test_prior_samples_use_the_same_latents_every_epoch(tmp_path, images):
    # N(0, I): the logger's latents are then standard normal draws.
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0, prior="standard_normal")
    logger = VAEImageLogger(tmp_path, images[:16], seed=5)
    fit(vae, images, logger, epochs=1)
    first = logger._prior_latents.copy()
    expected = np.random.default_rng(5).standard_normal((16, 2)).astype(np.float32)
    np.testing.assert_array_equal(first, expected)
    logged = tf.io.decode_png(read_events(tmp_path)["prior_samples"][0][1][2])
    decoded = vae.decode(expected)
    grid = np.round(tile_images(1.0 - decoded, 4) * 255)
    np.testing.assert_allclose(logged.numpy().astype(np.float32), grid, atol=1)


def test_every_n_epochs_and_the_last_epoch(tmp_path, images):
    ae = keras_vae.AutoEncoder(latent_dim=2, architecture="dense")
    logger = VAEImageLogger(tmp_path, images[:16], every_n_epochs=2)
    fit(ae, images[:64], logger, epochs=3)
    events = read_events(tmp_path)
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


def test_traversal_centre_and_scale_for_vae_and_autoencoder():
    codes = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)  # mean (2, 20), std (1, 10)
    centre, scale = traversal_centre_and_scale(codes, probabilistic=True)
    np.testing.assert_array_equal(centre, [0, 0])
    np.testing.assert_array_equal(scale, [1, 1])
    centre, scale = traversal_centre_and_scale(codes, probabilistic=False)
    np.testing.assert_allclose(centre, [2, 20])
    np.testing.assert_allclose(scale, [1, 10], atol=1e-4)


def test_traversal_rows_decode_the_documented_latents(tmp_path, images):
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    fit(vae, images[:64], VAEImageLogger(tmp_path, images[:8], traversal_steps=3), epochs=1)
    grid = tf.io.decode_png(read_events(tmp_path)["latent_traversal"][0][1][2]).numpy()
    expected = vae.decode(np.array([[-3, 0], [0, 0], [3, 0], [0, -3], [0, 0], [0, 3]], "float32"))
    np.testing.assert_allclose(grid / 255.0, tile_images(1.0 - expected, 3), atol=1.5 / 255)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"every_n_epochs": 0}, "every_n_epochs"),
        ({"num_samples": 0}, "num_samples"),
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

    rows = (tmp_path / "latent_codes_metadata.tsv").read_text().splitlines()
    assert rows[0] == "label\tindex"
    assert rows[1:] == [f"{v}\t{i}" for i, v in enumerate(labels)]
    config = text_format.Parse(
        (tmp_path / "projector_config.pbtxt").read_text(), projector.ProjectorConfig()
    )
    embedding = config.embeddings[0]
    assert embedding.metadata_path == "latent_codes_metadata.tsv"
    assert list(embedding.sprite.single_image_dim) == [28, 28]
    # The variable comes back from the checkpoint under the name the config points at.
    reader = tf.train.load_checkpoint(written["checkpoint"])
    np.testing.assert_array_equal(reader.get_tensor(embedding.tensor_name), codes)
    # 10 thumbnails need a 4 x 4 sheet of 28-pixel cells; the first one is the first image,
    # dark on light; the cells after the tenth are white.
    sprite = tf.io.decode_png(tf.io.read_file(written["sprite"])).numpy()
    assert sprite.shape == (4 * 28, 4 * 28, 1)
    np.testing.assert_allclose(sprite[:28, :28] / 255.0, 1.0 - images[0], atol=1 / 255)
    assert (sprite[2 * 28 :, 2 * 28 :] == 255).all()


@pytest.mark.parametrize("latent_dim", [1, 2])
def test_projector_pads_codes_below_three_dimensions_with_zero_columns(tmp_path, latent_dim):
    codes = np.random.default_rng(1).normal(size=(6, latent_dim)).astype(np.float32)
    written = write_embedding_projector(tmp_path, codes, labels=np.arange(6), label_name="digit")
    config = text_format.Parse(
        (tmp_path / "projector_config.pbtxt").read_text(), projector.ProjectorConfig()
    )
    tensor = tf.train.load_checkpoint(written["checkpoint"]).get_tensor(
        config.embeddings[0].tensor_name
    )
    assert tensor.shape == (6, 3)
    np.testing.assert_array_equal(tensor[:, :latent_dim], codes)
    assert (tensor[:, latent_dim:] == 0).all()
    assert (tmp_path / "latent_codes_metadata.tsv").read_text().startswith("digit\tindex\n")
    # An event file makes the folder a run, the only folders the projector looks in.
    ((step, text),) = read_events(tmp_path)["latent_codes"]
    assert f"6 latent codes of {latent_dim} dimensions, padded to 3" in text.item().decode()
    assert "Color by: digit" in text.item().decode()


def test_embedding_projector_bad_input(tmp_path):
    with pytest.raises(ValueError, match="`codes`"):
        write_embedding_projector(tmp_path, np.zeros(5))
    with pytest.raises(ValueError, match="`labels`"):
        write_embedding_projector(tmp_path, np.zeros((5, 2)), labels=[1, 2])


def test_sprite_pads_with_white():
    sprite = sprite_image(np.ones((2, 2, 2, 1), np.float32))  # two all-ink images
    assert sprite.shape == (4, 4, 1)
    assert (sprite[:2] == 0).all() and (sprite[2:] == 255).all()


def test_conditional_model_is_logged_with_the_labels_of_its_images(tmp_path, mnist_sample):
    images, labels = mnist_sample[0][:64], mnist_sample[1][:64]
    cvae = keras_vae.ConditionalVAE(latent_dim=2, architecture="dense", seed=0)
    cvae.compile()
    with pytest.raises(ValueError, match="validation_labels"):
        cvae.fit(images, labels, epochs=1, verbose=0, callbacks=[VAEImageLogger(tmp_path, images)])
    logger = VAEImageLogger(tmp_path / "run", images[:4], labels[:4], num_samples=4)
    cvae.fit(images, labels, epochs=1, batch_size=32, verbose=0, callbacks=[logger])
    grid = tf.io.decode_png(read_events(tmp_path / "run")["reconstructions"][0][1][2]).numpy()
    expected = cvae.reconstruct(images[:1], labels[:1])[0]
    np.testing.assert_allclose(grid[29:57, :28] / 255.0, 1.0 - expected, atol=0.01)
