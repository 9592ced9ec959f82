"""Image grids and figures shared by the callbacks, the export report and the command line.

Figures are drawn on a `matplotlib.figure.Figure` with its own Agg canvas, never through
`pyplot`, so the user's plotting backend (a notebook's inline one, say) is left alone.
"""

import math
import pathlib

import numpy as np


def tile_images(images, columns: int | None = None, pad: int = 1, fill: float = 1.0):
    """Tiles images `(n, h, w, c)` into one `(rows*(h+pad)-pad, columns*(w+pad)-pad, c)` array.

    Args:
        images: array-like `(n, h, w, c)`.
        columns: int. Tiles per row. Defaults to `None`: as square a grid as possible.
        pad: int. Pixels between tiles. Defaults to `1`.
        fill: float. Value of the padding and of empty cells. Defaults to `1.0` (white in
            [0, 1] images).
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(
            f"tile_images() expects a non-empty batch of images (n, height, width, channels);"
            f" got an array of shape {images.shape}."
        )
    n, height, width, channels = images.shape
    columns = math.ceil(math.sqrt(n)) if columns is None else min(int(columns), n)
    if columns < 1:
        raise ValueError(f"tile_images() expects `columns` >= 1; got {columns}.")
    rows = -(-n // columns)
    grid = np.full(
        (rows * (height + pad) - pad, columns * (width + pad) - pad, channels),
        fill,
        dtype=images.dtype if np.issubdtype(images.dtype, np.floating) else np.float32,
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + pad), column * (width + pad)
        grid[top : top + height, left : left + width] = image
    return grid


def new_figure(width: float, height: float):
    """A matplotlib `Figure` on its own Agg canvas: no pyplot, no global backend change."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def show_image(axis, image, dark_on_light: bool = True) -> None:
    """Draws one image in [0, 1] on `axis`: grey images dark-on-light (like ink on paper)
    unless `dark_on_light=False`, colour images as they are; no ticks."""
    image = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        axis.imshow(image, cmap="gray_r" if dark_on_light else "gray", vmin=0.0, vmax=1.0)
    else:
        axis.imshow(image)
    axis.set_xticks([])
    axis.set_yticks([])


def save_image_grid(images, path, columns: int | None = None) -> pathlib.Path:
    """Writes images `(n, h, w, c)` in [0, 1] as one PNG grid of their own pixels (grey
    images dark-on-light, as in every figure of the package)."""
    import keras

    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = 1.0 - images
    grid = tile_images(images, columns, fill=1.0)
    path = pathlib.Path(path)
    keras.utils.save_img(path, grid * 255.0, scale=False)
    return path
