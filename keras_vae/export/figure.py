"""The sample-grid figure: the model's own draws, through the Keras decoder and every exported
file on the same inputs, titled by where the draws come from."""

import json

import numpy as np

from keras_vae import images as image_tools

GRID_PNG = "sample_grids.png"
# Panels per row of the figure: nine panels in one row are too small to read.
_PANELS_PER_ROW = 5


def recognisable_share(judge, images) -> float:
    """The share of `images` that `judge` (a `keras_vae.evaluation.Judge`) reads as one class
    with a probability above `RECOGNISABLE_PROBABILITY`, as in `Judge.report`."""
    from keras_vae.evaluation.judge import RECOGNISABLE_PROBABILITY

    _, confidences = judge.classify(np.asarray(images, np.float32))
    return float(np.mean(confidences > RECOGNISABLE_PROBABILITY))


def save_sample_grids(
    path, grids: dict, captions: dict | None = None, columns: int = 8, title: str | None = None
) -> None:
    """Writes one PNG with a grid of images per variant, dark-on-light like every figure of
    the package, each panel titled by its name and caption (e.g. PSNR and size), under
    `title` (where the draws come from)."""
    captions = captions or {}
    rows = -(-len(next(iter(grids.values()))) // columns)
    per_row = min(len(grids), _PANELS_PER_ROW)
    panel_rows = -(-len(grids) // per_row)
    # Taller panels for more rows (e.g. one row per class of a conditional decoder).
    panel_height = 0.7 + 2.6 * rows / columns
    figure = image_tools.new_figure(2.8 * per_row, panel_height * panel_rows + 0.5)
    axes = figure.subplots(panel_rows, per_row, squeeze=False).ravel()
    for axis in axes[len(grids) :]:
        axis.set_axis_off()
    for axis, (name, images) in zip(axes, grids.items()):
        grid = image_tools.tile_images(np.asarray(images, np.float32), columns, fill=0.0)
        image_tools.show_image(axis, grid)
        caption = f"{name}\n{captions[name]}" if name in captions else name
        axis.set_title(caption, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    # The title and captions also go into the PNG's text chunks, for a reader without eyes.
    metadata = {"Title": title or "", "Description": json.dumps(captions)}
    figure.savefig(path, dpi=100, metadata=metadata)
