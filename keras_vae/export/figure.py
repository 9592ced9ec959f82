"""The sample-grid figure: the Keras decoder and every exported file on the same inputs."""

import numpy as np

from keras_vae import images as image_tools

GRID_PNG = "sample_grids.png"


def save_sample_grids(path, grids: dict, captions: dict | None = None, columns: int = 8) -> None:
    """Writes one PNG with a grid of images per variant side by side, dark-on-light like every
    figure of the package, each panel titled by its name and caption (e.g. PSNR and size)."""
    captions = captions or {}
    rows = -(-len(next(iter(grids.values()))) // columns)
    # Taller panels for more rows (e.g. one row per class of a conditional decoder).
    figure = image_tools.new_figure(2.6 * len(grids), 0.6 + 2.6 * rows / columns)
    axes = figure.subplots(1, len(grids), squeeze=False)[0]
    for axis, (name, images) in zip(axes, grids.items()):
        grid = image_tools.tile_images(np.asarray(images, np.float32), columns, fill=0.0)
        image_tools.show_image(axis, grid)
        title = name if name not in captions else f"{name}\n{captions[name]}"
        axis.set_title(title, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
