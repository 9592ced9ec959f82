"""`evaluation.nearest_neighbour_distances`: how close generated images come to the training set."""

import numpy as np
import pytest

from keras_vae import evaluation


def test_distances_are_those_to_the_nearest_reference_image():
    rng = np.random.default_rng(0)
    reference = rng.uniform(size=(50, 4, 4, 1)).astype("float32")
    images = rng.uniform(size=(7, 4, 4, 1)).astype("float32")
    got = evaluation.nearest_neighbour_distances(images, reference)
    flat_images, flat_reference = images.reshape(7, -1), reference.reshape(50, -1)
    every_pair = np.linalg.norm(flat_images[:, None] - flat_reference[None], axis=-1)
    np.testing.assert_allclose(got, every_pair.min(axis=1), rtol=1e-5)
    assert got.shape == (7,) and got.dtype == np.float64


def test_a_copy_is_at_distance_zero_and_a_shift_at_its_norm():
    # Two reference images, all 0 and all 1 (16 pixels): an image of 0.25 everywhere is
    # 0.25 * sqrt(16) = 1 from the first; a copy of the second is 0 from it.
    reference = np.stack([np.zeros((4, 4, 1)), np.ones((4, 4, 1))]).astype("float32")
    images = np.stack([np.full((4, 4, 1), 0.25), np.ones((4, 4, 1))]).astype("float32")
    np.testing.assert_allclose(
        evaluation.nearest_neighbour_distances(images, reference), [1.0, 0.0], atol=1e-6
    )


@pytest.mark.parametrize(
    "images, reference, error, match",
    [
        (np.zeros((3, 4, 4, 1)), np.zeros((5, 4, 4, 3)), ValueError,
         r"`images` of shape \(None, 4, 4, 3\); got \(3, 4, 4, 1\)"),
        (np.zeros((3, 4, 4)), np.zeros((0, 4, 4)), ValueError, "non-empty batch for `reference`"),
        (np.full((2, 3), np.nan), np.zeros((5, 3)), ValueError, "finite values in `images`"),
        (np.zeros((2, 3)), np.zeros((5, 3), "uint8"), TypeError, "`reference` as floats"),
        (np.zeros((2,)), np.zeros((5,)), ValueError, r"`reference` as a batch of images"),
    ],
)  # fmt: skip
def test_bad_input_is_named(images, reference, error, match):
    with pytest.raises(error, match=match):
        evaluation.nearest_neighbour_distances(images, reference)
