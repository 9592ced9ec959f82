"""Images from anywhere, as (image, label) pairs for the shared pipeline: any TensorFlow
Datasets set with an image feature, or a folder of image files with one subfolder per class
(read by `keras.utils.image_dataset_from_directory`), resized and centre-cropped to one size,
grey or colour.

Conversions, all documented here and in `DataSource`: grey images are repeated into three
channels when colour is asked for (and for a folder mixing grey and colour files, colour is
the default); colour images become grey by luminance (`tf.image.rgb_to_grayscale`) when grey
is asked for; an alpha channel is dropped. Every file of a folder is decoded once before
training, and unreadable or corrupt files are refused, named, rather than skipped.
"""

import dataclasses
import pathlib

import tensorflow as tf

from keras_vae.data.pipeline import DatasetUnavailableError
from keras_vae.data.tfds import import_tfds, load_tfds

# The file types `image_dataset_from_directory` reads.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
COLOR_MODES = ("auto", "grayscale", "rgb")
# A folder has no test split: this share of each class's files (chosen by a fixed seed, the
# same for every training seed) is held out.
FOLDER_TEST_SHARE = 0.2
FOLDER_SPLIT_SEED = 1337
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def check_image_size(image_size, owner: str) -> tuple[int, int] | None:
    """`None`, or `(height, width)` from an int or a pair of ints, each at least 1."""
    if image_size is None:
        return None
    sides = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(sides) != 2 or not all(
        isinstance(side, int) and not isinstance(side, bool) and side >= 1 for side in sides
    ):
        raise ValueError(
            f"{owner} expects `image_size` as an int or (height, width) of ints >= 1;"
            f" got {image_size!r}."
        )
    return sides


def fit_image(image, image_size, channels: int, crop: bool = True):
    """One image with pixels in [0, 255] -> float32 `(*image_size, channels)`: centre-cropped
    to the target's aspect ratio (when `crop`), resized (area-weighted when shrinking), and
    converted to `channels` (1 or 3).

    Args:
        image: array `(h, w, c)`. Pixels in [0, 255].
        image_size: tuple of int. Target `(height, width)`.
        channels: int. Target channels: 1 (colour becomes luminance) or 3 (grey is repeated).
        crop: bool. Crop the centre to the target's aspect ratio before resizing. Defaults to
            `True`.
    """
    image = tf.cast(image, tf.float32)
    if image.shape[-1] == 4 or image.shape[-1] == 2:  # drop alpha
        image = image[..., :-1]
    if image.shape[-1] == 3 and channels == 1:
        image = tf.image.rgb_to_grayscale(image)
    elif image.shape[-1] == 1 and channels == 3:
        image = tf.image.grayscale_to_rgb(image)
    if image_size is None:
        return image
    height, width = image_size
    if crop:
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        scale = tf.minimum(shape[0] / height, shape[1] / width)
        crop_shape = tf.cast(tf.round(tf.constant([height, width], tf.float32) * scale), tf.int32)
        offset = (tf.shape(image)[:2] - crop_shape) // 2
        image = tf.image.crop_to_bounding_box(
            image, offset[0], offset[1], crop_shape[0], crop_shape[1]
        )
    image = tf.image.resize(image, (height, width), method="area", antialias=True)
    return tf.clip_by_value(image, 0.0, 255.0)


# TensorFlow Datasets -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TfdsImages:
    """What a TFDS set holds: the image and label features, class names, image shape."""

    name: str
    image_key: str
    label_key: str | None
    class_names: tuple[str, ...] | None
    image_shape: tuple


def _how_to_proceed_with_images(name: str) -> str:
    return (
        f"To proceed offline, copy a prepared {name!r} into a TFDS data directory and pass it as"
        " data_dir, or use a folder of images (one subfolder per class) or the generated"
        " 'shapes' set."
    )


def inspect_tfds(name: str, data_dir=None) -> TfdsImages:
    """The features of the TFDS set `name`, read from its builder (no download).

    Raises:
        ValueError: `name` is not a TFDS data set, or has no image feature.
    """
    tfds = import_tfds(_how_to_proceed_with_images(name))
    try:
        builder = tfds.builder(name, data_dir=None if data_dir is None else str(data_dir))
    except Exception as error:  # DatasetNotFoundError, with close matches in its message
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"`dataset` {name!r} is not a TensorFlow Datasets data set ({first_line})."
        ) from None
    features = builder.info.features
    images = [key for key, value in features.items() if isinstance(value, tfds.features.Image)]
    if not images:
        raise ValueError(
            f"`dataset` {name!r} has no image feature (its features: {', '.join(features)});"
            " expected an image data set such as cifar10, celeb_a or cats_vs_dogs."
        )
    labels = [key for key, value in features.items() if isinstance(value, tfds.features.ClassLabel)]
    label_key = "label" if "label" in labels else (labels[0] if labels else None)
    image_key = "image" if "image" in images else images[0]
    names = tuple(features[label_key].names) if label_key else None
    return TfdsImages(name, image_key, label_key, names, tuple(features[image_key].shape))


def _tfds_split(name, split, data_dir) -> str:
    """The TFDS split that serves `split`: `test` where the set has one, else `validation`,
    else the last fifth of `train` (and `train` is then its first four fifths)."""
    tfds = import_tfds("")
    splits = set(tfds.builder(name, data_dir=data_dir).info.splits.keys())
    if not splits or "test" in splits:
        return split
    if "validation" in splits:
        return "validation" if split == "test" else "train"
    return "train[80%:]" if split == "test" else "train[:80%]"


def tfds_image_pairs(info: TfdsImages, split, data_dir, download) -> tf.data.Dataset:
    """(uint8 image, int64 label) pairs of a TFDS image set; the label is -1 for a set
    without classes (celeb_a)."""
    how = _how_to_proceed_with_images(info.name)
    data_dir = None if data_dir is None else str(data_dir)
    examples = load_tfds(info.name, "train", data_dir, download, how, as_supervised=False)
    if split != "train" or _tfds_split(info.name, "train", data_dir) != "train":
        examples = load_tfds(
            info.name, _tfds_split(info.name, split, data_dir), data_dir, download, how, False
        )

    def pair(example):
        label = example[info.label_key] if info.label_key else tf.constant(-1, tf.int64)
        return example[info.image_key], tf.cast(label, tf.int64)

    return examples.map(pair, num_parallel_calls=tf.data.AUTOTUNE)


# A folder of image files -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ImageFolder:
    """A checked folder of images: its class names (subfolders) and whether all are grey."""

    directory: pathlib.Path
    class_names: tuple[str, ...]
    count: int
    all_grey: bool


def _image_files(directory: pathlib.Path):
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS
    )


def inspect_folder(directory) -> ImageFolder:
    """Decodes every image file under `directory` once (with Pillow) and reports its classes.

    Raises:
        DatasetUnavailableError: the folder does not exist.
        ValueError: it holds no images, has images but no class subfolders, or holds files
            that cannot be decoded (named, up to five).
    """
    from PIL import Image

    directory = pathlib.Path(directory)
    if not directory.is_dir():
        raise DatasetUnavailableError(f"the image folder {str(directory)!r} does not exist.")
    classes = tuple(sorted(p.name for p in directory.iterdir() if p.is_dir()))
    files = [p for p in _image_files(directory) if p.parent != directory]
    if not files:
        loose = [p for p in _image_files(directory) if p.parent == directory]
        found = (
            f"{len(loose)} image files lie in it directly, outside any class subfolder"
            if loose
            else f"it holds no image files ({', '.join(IMAGE_EXTENSIONS)})"
        )
        raise ValueError(
            f"The image folder {str(directory)!r} should hold one subfolder per class with"
            f" image files in each; {found}."
        )
    corrupt, modes = [], set()
    for path in files:
        try:
            with Image.open(path) as image:
                image.load()
                modes.add(image.mode)
        except Exception as error:  # Pillow raises several types for bad files
            corrupt.append(f"{path} ({type(error).__name__})")
    if corrupt:
        raise ValueError(
            f"{len(corrupt)} of the {len(files)} image files in {str(directory)!r} cannot be"
            f" decoded and are refused: {', '.join(corrupt[:5])}"
            f"{', ...' if len(corrupt) > 5 else ''}. Remove or replace them."
        )
    return ImageFolder(directory, classes, len(files), all(m in _GREY_MODES for m in modes))


def folder_pairs(folder: ImageFolder, split, image_size, channels, crop) -> tf.data.Dataset:
    """(float image in [0, 255], int64 label) pairs of one split of an image folder."""
    import keras

    dataset = keras.utils.image_dataset_from_directory(
        folder.directory,
        labels="inferred",
        label_mode="int",
        color_mode="grayscale" if channels == 1 else "rgb",
        batch_size=None,
        image_size=image_size,
        shuffle=True,  # with a seed: the split below is the same on every run
        seed=FOLDER_SPLIT_SEED,
        validation_split=FOLDER_TEST_SHARE,
        subset="validation" if split == "test" else "training",
        interpolation="area",  # averages when shrinking, as fit_image does
        crop_to_aspect_ratio=crop,
        verbose=False,
    )
    return dataset.map(lambda image, label: (image, tf.cast(label, tf.int64)))
