"""Coloured shapes: a small image data set with classes, generated offline and deterministic
for a seed, in the spirit of dSprites.

Each image shows one shape of six kinds (`SHAPE_NAMES`) in a random colour, size, position and
rotation, on a background of another colour with a gentle gradient. Demos and tests of colour
images, larger sizes and class pools run on it with no network. `write_shapes_folder` saves
the set as a folder of image files with one subfolder per class, the layout the folder
loader (`keras_vae.data.images`) reads.

Example:
```python
images, labels = keras_vae.data.make_shapes(600, image_size=32, seed=0)
images.shape, images.dtype  # (600, 32, 32, 3) uint8
keras_vae.data.SHAPE_NAMES[labels[0]]
```
"""

import colorsys
import pathlib

import numpy as np

from keras_vae.validation import check_positive_int

SHAPE_NAMES = ("circle", "square", "triangle", "ring", "cross", "star")
# Drawn at this many times the image size, then averaged: smooth (anti-aliased) edges.
SUPERSAMPLING = 2


def _inside(kind: str, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
    """Whether the points (u, v), in the shape's own rotated frame, lie inside the shape."""
    distance = np.hypot(u, v)
    if kind == "circle":
        return distance < radius
    if kind == "square":
        return np.maximum(np.abs(u), np.abs(v)) < 0.8 * radius
    if kind == "triangle":
        # Inside all three edges of an equilateral triangle with circumradius `radius`.
        angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3 + np.pi / 3
        inside = np.ones_like(u, dtype=bool)
        for angle in angles:
            inside &= u * np.cos(angle) + v * np.sin(angle) < 0.5 * radius
        return inside
    if kind == "ring":
        return (distance < radius) & (distance > 0.55 * radius)
    if kind == "cross":
        arm = 0.3 * radius
        return ((np.abs(u) < arm) & (np.abs(v) < radius)) | (
            (np.abs(v) < arm) & (np.abs(u) < radius)
        )
    # star: five points
    angle = np.arctan2(v, u)
    return distance < radius * (0.55 + 0.45 * np.cos(5 * angle))


def _colour(hue: float, saturation: float, value: float) -> np.ndarray:
    return np.asarray(colorsys.hsv_to_rgb(hue % 1.0, saturation, value), np.float32)


def draw_shape(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One image `(size, size, 3)` float32 in [0, 1] of a shape of `kind`, with the position,
    size, rotation and colours drawn from `rng`."""
    fine = size * SUPERSAMPLING
    grid = (np.arange(fine, dtype=np.float32) + 0.5) / fine  # pixel centres in (0, 1)
    y, x = np.meshgrid(grid, grid, indexing="ij")
    radius = rng.uniform(0.3, 0.45)
    centre = rng.uniform(radius, 1.0 - radius, size=2)
    rotation = rng.uniform(0, 2 * np.pi)
    dx, dy = x - centre[0], y - centre[1]
    u = dx * np.cos(rotation) + dy * np.sin(rotation)
    v = -dx * np.sin(rotation) + dy * np.cos(rotation)
    mask = _inside(kind, u, v, radius).astype(np.float32)[..., None]

    hue = rng.uniform()
    foreground = _colour(hue, rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0))
    background = _colour(hue + rng.uniform(0.25, 0.75), rng.uniform(0.2, 0.7), 0.3)
    slope = rng.uniform(-0.25, 0.25, size=2)
    shade = 1.0 + slope[0] * (x - 0.5) + slope[1] * (y - 0.5)
    fine_image = mask * foreground + (1.0 - mask) * background * shade[..., None]
    image = fine_image.reshape(size, SUPERSAMPLING, size, SUPERSAMPLING, 3).mean(axis=(1, 3))
    return np.clip(image, 0.0, 1.0)


def make_shapes(n: int, image_size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` images of coloured shapes with their classes, the same for the same arguments.

    Args:
        n: int. Number of images; the classes take turns (0, 1, ..., 5, 0, ...), so every
            class has `n // 6` or one more.
        image_size: int. Height and width in pixels, at least 8. Defaults to `32`.
        seed: int. Defaults to `0`.

    Returns:
        `(images, labels)`: uint8 `(n, image_size, image_size, 3)` and int64 `(n,)`, indices
        into `SHAPE_NAMES`.
    """
    n = check_positive_int(n, "n", "make_shapes()")
    image_size = check_positive_int(image_size, "image_size", "make_shapes()")
    if image_size < 8:
        raise ValueError(f"make_shapes() expects `image_size` >= 8; got {image_size}.")
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64) % len(SHAPE_NAMES)
    images = np.empty((n, image_size, image_size, 3), np.uint8)
    for index, label in enumerate(labels):
        image = draw_shape(SHAPE_NAMES[label], image_size, rng)
        images[index] = np.round(image * 255.0).astype(np.uint8)
    return images, labels


def write_shapes_folder(
    directory, n: int, image_size: int = 32, seed: int = 0, formats=("png",)
) -> pathlib.Path:
    """Writes `make_shapes(n, image_size, seed)` as image files, one subfolder per class
    (`directory/circle/00000.png`, ...); the files take the `formats` (`"png"`, `"jpeg"`)
    in turn. Returns `directory`.

    Args:
        directory: str or Path. The folder to write; one subfolder per class.
        n: int. Number of images.
        image_size: int. Side of the square images. Defaults to `32`.
        seed: int. Seed of `make_shapes`. Defaults to `0`.
        formats: tuple of str. File formats, used in turn (`"png"`, `"jpeg"`, ...). Defaults to
            `("png",)`.
    """
    import keras

    directory = pathlib.Path(directory)
    images, labels = make_shapes(n, image_size, seed)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = directory / SHAPE_NAMES[label]
        folder.mkdir(parents=True, exist_ok=True)
        extension = formats[index % len(formats)]
        keras.utils.save_img(folder / f"{index:05d}.{extension}", image, scale=False)
    return directory
