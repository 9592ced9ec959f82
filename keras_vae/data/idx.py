"""The original MNIST IDX `.gz` files, read directly for machines without network access.
Fashion-MNIST is published in the same format under the same names."""

import gzip
import pathlib

import numpy as np

from keras_vae.data.pipeline import DatasetUnavailableError

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_SHAPE = (28, 28, 1)


def _read_idx(path: pathlib.Path, magic: int, dims: int) -> tuple[tuple[int, ...], bytes]:
    try:
        with gzip.open(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(
            f"{path} is not a readable gzip file ({error}); expected an original MNIST IDX"
            " file such as train-images-idx3-ubyte.gz. Download it again."
        ) from None
    header = 4 * (1 + dims)
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found != magic:
        raise ValueError(
            f"{path} does not start with the IDX magic number {magic}; got {found}."
            " The file is corrupt or is not an MNIST IDX file."
        )
    if len(data) < header:
        raise ValueError(f"{path} is truncated: {len(data)} bytes, shorter than its header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(
            f"{path} holds {len(data) - header} data bytes; its header {shape} promises"
            f" {expected - header}. The file is truncated or corrupt: download it again."
        )
    return shape, data[header:]


def read_idx_split(data_dir, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Reads one split from the original IDX `.gz` files: uint8 images `(n, 28, 28, 1)` and
    int64 labels `(n,)`. Raises `DatasetUnavailableError` when files are missing and
    `ValueError` when a file is corrupt.

    Args:
        data_dir: str or Path. The folder holding the four IDX `.gz` files.
        split: str. `"train"` or `"test"`. Defaults to `"train"`.
    """
    folder = pathlib.Path(data_dir)
    names = IDX_FILES[split]
    missing = missing_files(folder, names)
    if missing:
        raise DatasetUnavailableError(
            f"data_dir {str(folder)!r} lacks {', '.join(missing)} for the {split!r} split;"
            f" expected the original IDX files {', '.join(names)}."
        )
    image_shape, pixels = _read_idx(folder / names[0], IDX_IMAGES_MAGIC, 3)
    (count,), labels = _read_idx(folder / names[1], IDX_LABELS_MAGIC, 1)
    if image_shape[1:] != IMAGE_SHAPE[:2]:
        raise ValueError(
            f"{folder / names[0]} holds images of {image_shape[1]}x{image_shape[2]} pixels;"
            " expected 28x28."
        )
    if count != image_shape[0]:
        raise ValueError(
            f"{folder / names[0]} holds {image_shape[0]} images but {folder / names[1]} holds"
            f" {count} labels; the two files belong to different sets."
        )
    images = np.frombuffer(pixels, np.uint8).reshape(image_shape[0], *IMAGE_SHAPE)
    return images, np.frombuffer(labels, np.uint8).astype(np.int64)


def missing_files(folder: pathlib.Path, names) -> list[str]:
    """The `names` that are not files in `folder`, in their order."""
    return [name for name in names if not (folder / name).is_file()]


def has_idx_files(folder: pathlib.Path) -> bool:
    """Whether `folder` holds any of the IDX file names (so it is meant as an IDX folder)."""
    return any((folder / name).exists() for names in IDX_FILES.values() for name in names)
