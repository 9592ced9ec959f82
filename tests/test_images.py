"""The one image tiler and the figure helper used across the package."""

import matplotlib
import numpy as np
import pytest

from keras_vae import images


def test_tile_images_places_each_image_in_row_major_order_with_padding():
    batch = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) * np.ones((5, 2, 3, 1), "float32")
    grid = images.tile_images(batch, columns=3, pad=1, fill=-1.0)
    assert grid.shape == (2 * 3 - 1, 3 * 4 - 1, 1)
    assert grid[0, 0, 0] == 0 and grid[0, 4, 0] == 1 and grid[0, 8, 0] == 2
    assert grid[3, 0, 0] == 3 and grid[3, 4, 0] == 4
    assert grid[2, 0, 0] == -1 and grid[3, 8, 0] == -1  # padding row and the empty cell


def test_tile_images_defaults_to_a_square_grid_and_refuses_a_non_batch():
    assert images.tile_images(np.zeros((10, 4, 4, 3)), pad=0).shape == (12, 16, 3)
    with pytest.raises(ValueError, match=r"got an array of shape \(4, 4\)"):
        images.tile_images(np.zeros((4, 4)))


def test_save_image_grid_writes_grey_images_dark_on_light(tmp_path):
    import keras

    batch = np.zeros((4, 5, 5, 1), np.float32)
    batch[:, 2, 2, 0] = 1.0  # one bright pixel per image
    path = images.save_image_grid(batch, tmp_path / "grid.png", columns=2)
    pixels = keras.utils.img_to_array(keras.utils.load_img(path, color_mode="grayscale"))
    assert pixels.shape == (11, 11, 1)
    assert pixels[2, 2, 0] == 0 and pixels[0, 0, 0] == 255 and pixels[5, 5, 0] == 255


def test_new_figure_leaves_the_plotting_backend_alone(tmp_path):
    before = matplotlib.get_backend()
    figure = images.new_figure(2, 2)
    images.show_image(figure.add_subplot(), np.ones((4, 4, 1)))
    figure.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == before
