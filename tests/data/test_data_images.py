"""Images beyond MNIST: the generated shapes, a folder of mixed image files, TFDS image sets
through `tfds.testing.mock_data`, and the bad input each can bring. No test reaches the
network."""

import socket

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_vae import data
from keras_vae.data import images as image_data


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(address, *args, **kwargs):
        raise AssertionError(f"a test tried to reach {address}")

    monkeypatch.setattr(socket, "create_connection", refuse)


def all_pairs(source, split):
    return source.arrays(split)


# Generated shapes ----------------------------------------------------------------------------


def test_shapes_are_deterministic_balanced_and_coloured():
    images, labels = data.make_shapes(60, image_size=24, seed=5)
    again, _ = data.make_shapes(60, image_size=24, seed=5)
    other, _ = data.make_shapes(60, image_size=24, seed=6)
    assert images.shape == (60, 24, 24, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, other)
    assert np.bincount(labels).tolist() == [10] * len(data.SHAPE_NAMES)
    # Colour, not grey: the channels differ; and every image has a shape on a background.
    assert np.abs(images[..., 0].astype(int) - images[..., 1]).mean() > 20
    spread = images.reshape(60, -1, 3).std(axis=1).max(axis=1)
    assert spread.min() > 20


def test_each_shape_covers_the_area_its_geometry_gives():
    # Area of each shape relative to its enclosing circle, measured on a fine grid.
    size, radius = 400, 0.4
    grid = (np.arange(size) + 0.5) / size - 0.5
    v, u = np.meshgrid(grid, grid, indexing="ij")
    area = {k: image_data_area(k, u, v, radius) for k in data.SHAPE_NAMES}
    circle = np.pi * radius**2
    assert area["circle"] == pytest.approx(circle, rel=0.01)
    assert area["square"] == pytest.approx((1.6 * radius) ** 2, rel=0.01)
    assert area["triangle"] == pytest.approx(3 * np.sqrt(3) / 4 * radius**2, rel=0.01)
    assert area["ring"] == pytest.approx(circle * (1 - 0.55**2), rel=0.02)


def image_data_area(kind, u, v, radius):
    from keras_vae.data.shapes import _inside

    return _inside(kind, u, v, radius).mean()


def test_shapes_source_gives_the_pipeline_in_colour_and_grey():
    source = data.resolve_data_source("shapes", image_size=16)
    assert source.kind == "shapes" and source.image_shape == (16, 16, 3)
    assert source.class_names == data.SHAPE_NAMES and source.num_classes == 6
    batch, labels = next(iter(source.pipeline("train", 32, with_labels=True)))
    assert batch.shape == (32, 16, 16, 3) and batch.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(batch)) and float(tf.reduce_max(batch)) <= 1.0
    assert set(labels.numpy().tolist()) <= set(range(6))
    colour, colour_labels = source.arrays("test", limit=12)
    grey_source = data.resolve_data_source("shapes", image_size=16, color_mode="grayscale")
    grey, grey_labels = grey_source.arrays("test", limit=12)
    assert grey.shape == (12, 16, 16, 1)
    np.testing.assert_array_equal(grey_labels, colour_labels)
    luminance = colour @ np.array([0.2989, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(grey[..., 0], luminance, atol=1e-3)


# Resizing ------------------------------------------------------------------------------------


def test_fit_image_centre_crops_to_the_aspect_then_resizes():
    # A wide image: red quarters left and right, blue in the middle half.
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :20, 0] = image[:, 60:, 0] = 255
    image[:, 20:60, 2] = 255
    cropped = image_data.fit_image(image, (16, 16), 3).numpy()
    assert cropped.shape == (16, 16, 3)
    np.testing.assert_allclose(cropped[..., 2], 255.0, atol=1e-3)
    np.testing.assert_allclose(cropped[..., 0], 0.0, atol=1e-3)
    squeezed = image_data.fit_image(image, (16, 16), 3, crop=False).numpy()
    assert squeezed[:, 0, 0].min() > 250  # without the crop the red edges stay
    grey = image_data.fit_image(image[..., :1], (8, 8), 3).numpy()
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])


# A folder of image files ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """Three classes of 32x32 shapes: PNG and JPEG in turn, every third file grey."""
    folder = tmp_path_factory.mktemp("photos")
    pictures, labels = data.make_shapes(30, image_size=32, seed=2)
    names = ("circle", "square", "triangle")
    kept = []
    for index, (picture, label) in enumerate(zip(pictures, labels, strict=True)):
        if label >= 3:
            continue
        (folder / names[label]).mkdir(exist_ok=True)
        grey = index % 3 == 0
        pixels = picture.mean(axis=-1, keepdims=True).astype(np.uint8) if grey else picture
        extension = "jpg" if index % 2 else "png"
        path = folder / names[label] / f"{index:03d}.{extension}"
        keras.utils.save_img(path, pixels, scale=False)
        kept.append((pixels, label, extension))
    return folder, kept


def test_a_folder_of_mixed_files_becomes_one_colour_pipeline(mixed_folder):
    folder, kept = mixed_folder
    source = data.resolve_data_source(images=folder)
    assert source.kind == "folder" and source.image_shape == (32, 32, 3)
    assert source.class_names == ("circle", "square", "triangle")
    train, train_labels = source.arrays("train")
    test, test_labels = source.arrays("test")
    assert len(train) + len(test) == len(kept) == 15 and len(test) == 3
    assert train.dtype == np.float32 and 0.0 <= train.min() and train.max() <= 1.0
    # Every PNG comes back exactly (grey ones in three equal channels), under its class.
    loaded = np.concatenate([train, test])
    loaded_labels = np.concatenate([train_labels, test_labels])
    for pixels, label, extension in kept:
        if extension != "png":
            continue
        expected = np.broadcast_to(pixels / 255.0, (32, 32, 3))
        errors = np.abs(loaded - expected).reshape(len(loaded), -1).max(axis=1)
        assert errors.min() < 1e-6 and loaded_labels[errors.argmin()] == label
    # The split is the same on every call.
    np.testing.assert_array_equal(source.arrays("test")[0], test)


def test_a_folder_can_be_resized_and_made_grey(mixed_folder):
    folder, _ = mixed_folder
    source = data.resolve_data_source(images=folder, image_size=(16, 24), color_mode="grayscale")
    assert source.image_shape == (16, 24, 1)
    batch = next(iter(source.pipeline("train", 4)))
    assert batch.shape == (4, 16, 24, 1)


def test_an_all_grey_folder_stays_grey(tmp_path):
    pictures, _ = data.make_shapes(4, image_size=12, seed=0)
    for index, picture in enumerate(pictures):
        (tmp_path / f"c{index % 2}").mkdir(exist_ok=True)
        keras.utils.save_img(tmp_path / f"c{index % 2}" / f"{index}.png", picture[..., :1])
    source = data.resolve_data_source(images=tmp_path, image_size=12)
    assert source.image_shape == (12, 12, 1)


def test_folder_input_that_cannot_serve_is_refused_clearly(tmp_path):
    with pytest.raises(data.DatasetUnavailableError, match="does not exist"):
        data.resolve_data_source(images=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="it holds no image files"):
        data.resolve_data_source(images=tmp_path / "empty")
    loose = tmp_path / "loose"
    loose.mkdir()
    keras.utils.save_img(loose / "a.png", np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="1 image files lie in it directly"):
        data.resolve_data_source(images=loose)


def test_corrupt_files_are_named_and_refused(mixed_folder, tmp_path):
    folder, _ = mixed_folder
    import shutil

    copy = shutil.copytree(folder, tmp_path / "copy")
    (copy / "circle" / "broken.png").write_bytes(b"not an image at all")
    jpeg = next((copy / "square").glob("*.jpg"))
    jpeg.write_bytes(jpeg.read_bytes()[:200])
    with pytest.raises(ValueError) as error:
        data.resolve_data_source(images=copy)
    message = str(error.value)
    assert "2 of the 16 image files" in message and "refused" in message
    assert str(copy / "circle" / "broken.png") in message and str(jpeg) in message


# TensorFlow Datasets image sets (mocked data, the real loader) ------------------------------


def test_cifar10_gives_colour_batches_and_class_names():
    with tfds.testing.mock_data(num_examples=20):
        source = data.resolve_data_source("cifar10", download=False)
        assert source.kind == "tfds_images" and source.image_shape == (32, 32, 3)
        # The mock's labels have no names; the real names are checked below.
        assert len(source.class_names) == source.num_classes == 10
        batch, labels = next(iter(source.pipeline("train", 8, with_labels=True)))
        assert batch.shape == (8, 32, 32, 3) and batch.dtype == tf.float32
        assert 0.0 <= float(tf.reduce_min(batch)) and float(tf.reduce_max(batch)) <= 1.0
        assert labels.dtype == tf.int64 and 0 <= int(tf.reduce_min(labels))
        assert int(tf.reduce_max(labels)) < 10
        small = data.resolve_data_source("cifar10", download=False, image_size=16)
        assert small.arrays("test", limit=5)[0].shape == (5, 16, 16, 3)


def test_tfds_class_names_come_from_the_builder_without_download():
    info = image_data.inspect_tfds("cifar10")
    assert (info.image_key, info.label_key, info.image_shape) == ("image", "label", (32, 32, 3))
    # cifar10 reads its names when it is prepared; these two sets carry them in their code.
    assert image_data.inspect_tfds("cats_vs_dogs").class_names == ("cat", "dog")
    assert image_data.inspect_tfds("oxford_iiit_pet").class_names[:2] == (
        "Abyssinian",
        "american_bulldog",
    )


def test_celeb_a_is_unlabelled_and_resized_with_a_centre_crop():
    with tfds.testing.mock_data(num_examples=6):
        source = data.resolve_data_source("celeb_a", download=False, image_size=64)
        assert source.image_shape == (64, 64, 3)
        assert source.class_names is None and not source.labelled
        pictures, labels = source.arrays("train")
        assert pictures.shape == (6, 64, 64, 3) and labels.tolist() == [-1] * 6
        native = data.resolve_data_source("celeb_a", download=False)
        assert native.image_shape == (218, 178, 3)


def test_a_set_of_many_sizes_asks_for_image_size():
    with tfds.testing.mock_data(num_examples=4):
        with pytest.raises(ValueError, match="differ in size; pass `image_size`"):
            data.resolve_data_source("cats_vs_dogs", download=False)
        source = data.resolve_data_source("cats_vs_dogs", download=False, image_size=24)
        assert source.arrays("train")[0].shape == (4, 24, 24, 3)


def test_an_image_set_that_is_not_prepared_fails_offline_with_advice(tmp_path):
    with pytest.raises(data.DatasetUnavailableError) as error:
        data.resolve_data_source("cifar10", tmp_path)
    message = str(error.value)
    assert "could not find a prepared copy of 'cifar10'" in message
    assert "folder of images" in message and "'shapes'" in message
