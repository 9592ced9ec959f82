"""`VAEImageLogger`: what the model draws, epoch by epoch, in TensorBoard."""

import pathlib

import keras
import numpy as np
import tensorflow as tf

from keras_vae import images as vae_images
from keras_vae import latent, losses, validation
from keras_vae.evaluation import ACTIVE_UNIT_THRESHOLD

# Traversals span this many standard deviations on each side of the centre.
TRAVERSAL_EXTENT = 3.0


def traversal_centre_and_scale(codes: np.ndarray, probabilistic: bool):
    """Where a traversal is centred and what one unit of it is, per latent dimension.

    A VAE is traversed around its prior's mean in prior standard deviations; an autoencoder
    has no prior, so it is traversed around the mean of its codes in standard deviations of
    each dimension, where its digits actually are.
    """
    if probabilistic:
        return np.zeros(codes.shape[1], np.float32), np.ones(codes.shape[1], np.float32)
    return codes.mean(axis=0), codes.std(axis=0) + 1e-6


def _dark_on_light(images: np.ndarray) -> np.ndarray:
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    return 1.0 - images if images.shape[-1] == 1 else images


class VAEImageLogger(keras.callbacks.Callback):
    """Writes what the model draws to TensorBoard while `fit()` runs.

    Every `every_n_epochs` epochs (and after the last one) it writes into `log_dir` itself,
    beside the `train/` and `validation/` runs of `keras.callbacks.TensorBoard(log_dir)`, so
    in TensorBoard the run named after the model's folder (e.g. `vae`) holds:

    - IMAGES `reconstructions`: validation images with each model's reconstruction in the
      row below;
    - `prior_samples`: the decoding of `num_samples` latent vectors drawn from N(0, I) once,
      with `seed`, so that the same vectors are decoded on every epoch and the images are
      comparable across epochs (for an autoencoder they show what a VAE fixes);
    - `latent_traversal`: one row per latent dimension (at most `traversal_dims`), moving that
      dimension over 3 standard deviations on each side with the others held at the centre;
    - HISTOGRAMS `latent/z_mean` (`latent/z` for an autoencoder): the codes of the validation
      images;
    - SCALARS, for a VAE: `kl/dim_XX`, the mean KL divergence of each latent dimension in
      nats, and `kl/active_units`, how many dimensions carry information (variance of
      `z_mean` over the validation images above `ACTIVE_UNIT_THRESHOLD`). Unused dimensions
      collapse to the prior and show 0.

    Each summary carries a description (shown under its card) saying what the rows are.
    Digits are drawn dark on light, as in the package's figures. The callback keeps only
    the validation images and the fixed latents, never per-epoch outputs; the summary writer
    is created on the first write and closed when training ends. It is not part of the model
    and is not saved with it.

    Args:
        log_dir: str or path. The folder given to `keras.callbacks.TensorBoard`.
        validation_images: float array `(n, *input_shape)`. Images to reconstruct and encode;
            the first `num_samples` are shown.
        validation_labels: int array `(n,)` or None. Labels of the images, needed by a
            conditional model (the condition of each image, and of the samples).
            Defaults to `None`.
        every_n_epochs: int. Write every this many epochs. Defaults to `1`.
        num_samples: int. Images per reconstruction and sample grid. Defaults to `16`.
        seed: int. Seed of the fixed prior draws. Defaults to `0`.
        traversal_dims: int. Most latent dimensions shown in the traversal. Defaults to `8`.
        traversal_steps: int. Values per traversed dimension. Defaults to `9`.

    Example:
    <!-- skip: trains ten epochs, writing TensorBoard images -->
    ```python
    log_dir = "runs/tensorboard/vae"
    vae.fit(
        x_train,
        validation_data=x_val,
        epochs=10,
        callbacks=[
            keras.callbacks.TensorBoard(log_dir),
            keras_vae.VAEImageLogger(log_dir, x_val[:500]),
        ],
    )
    ```
    """

    def __init__(
        self,
        log_dir,
        validation_images,
        validation_labels=None,
        every_n_epochs: int = 1,
        num_samples: int = 16,
        seed: int = 0,
        traversal_dims: int = 8,
        traversal_steps: int = 9,
    ):
        super().__init__()
        check = validation.check_positive_int
        self.every_n_epochs = check(every_n_epochs, "every_n_epochs", "VAEImageLogger")
        num_samples = check(num_samples, "num_samples", "VAEImageLogger")
        self.traversal_dims = check(traversal_dims, "traversal_dims", "VAEImageLogger")
        self.traversal_steps = check(traversal_steps, "traversal_steps", "VAEImageLogger")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"VAEImageLogger expects `seed` as an int; got {seed!r}.")
        images = np.asarray(validation_images)
        if not np.issubdtype(images.dtype, np.floating) or images.ndim < 3 or len(images) == 0:
            raise ValueError(
                "VAEImageLogger expects `validation_images` as a non-empty float array of"
                f" images (n, height, width[, channels]); got shape {images.shape} and dtype"
                f" {images.dtype}."
            )
        if validation_labels is not None and len(validation_labels) != len(images):
            raise ValueError(
                "VAEImageLogger expects `validation_labels` with one label per validation"
                f" image ({len(images)}); got {len(validation_labels)}."
            )
        self.log_dir = pathlib.Path(log_dir)
        self.validation_images = images.astype(np.float32)
        self.validation_labels = validation_labels
        self.num_samples = min(num_samples, len(images))
        self.seed = seed
        self._writer = None
        self._condition = None
        self._prior_latents = None
        self._last_written = None
        self._last_epoch = None

    # Keras hooks -----------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        # Checked here, not in __init__, because the model is only known now.
        model.check_images(self.validation_images, "validation_images", "VAEImageLogger")
        if model.is_conditional and self.validation_labels is None:
            raise ValueError(
                f"VAEImageLogger expects `validation_labels` for a conditional model"
                f" ({type(model).__name__}); got None."
            )
        self._condition = (
            model.condition_from_labels(self.validation_labels) if model.is_conditional else None
        )
        # Drawn once per training run (numpy, not the model's seed generator, so logging does
        # not change the random stream of training).
        rng = np.random.default_rng(self.seed)
        self._prior_latents = rng.standard_normal((self.num_samples, model.latent_dim)).astype(
            np.float32
        )
        self._last_written = None

    def on_epoch_begin(self, epoch, logs=None):
        self._last_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.write(epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._last_written != self._last_epoch:
            self.write(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # Writing ---------------------------------------------------------------------------------

    @property
    def writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        return self._writer

    def _condition_of(self, count: int, first: int = 0):
        if self._condition is None:
            return None
        return self._condition[first : first + count]

    def _decode(self, z, condition) -> np.ndarray:
        model = self.model
        if condition is not None:
            condition = tf.constant(condition, tf.float32)
        output = model.decode_tensors(tf.constant(z, tf.float32), condition)
        return keras.ops.convert_to_numpy(model.output_mean(output))

    def write(self, epoch: int) -> None:
        """Writes every summary for `epoch` (the TensorBoard step)."""
        model = self.model
        n = self.num_samples
        columns = int(np.ceil(np.sqrt(n)))
        condition = None if self._condition is None else tf.constant(self._condition)
        encoded = model.encode_tensors(tf.constant(self.validation_images), condition)
        probabilistic = isinstance(encoded, tuple | list)
        codes = keras.ops.convert_to_numpy(encoded[0] if probabilistic else encoded)
        paired = self._reconstruction_rows(codes, columns)
        samples = self._decode(self._current_prior_latents(), self._condition_of(n))
        traversal = self._traversal(codes, probabilistic)
        around = "the prior mean (0)" if probabilistic else "the mean of the validation codes"
        unit = "prior standard deviations" if probabilistic else "standard deviations of the codes"
        with self.writer.as_default(step=epoch):
            tf.summary.image(
                "reconstructions",
                _grid(paired, columns),
                description=f"Odd rows: {n} validation images. The row below each: the"
                " model's reconstruction of them (decoded from the posterior mean).",
            )
            tf.summary.image(
                "prior_samples",
                _grid(samples, columns),
                description=f"{n} fixed draws z ~ N(0, I) (seed {self.seed}), decoded; the same"
                " draws every epoch, so the images are comparable over epochs.",
            )
            tf.summary.image(
                "latent_traversal",
                _grid(traversal, self.traversal_steps),
                description=f"Row i: latent dimension i moved from -{TRAVERSAL_EXTENT:g} to"
                f" +{TRAVERSAL_EXTENT:g} {unit} (left to right), every other dimension held at"
                f" {around}. A row that does not change is an unused dimension.",
            )
            if probabilistic:
                self._write_kl(encoded)
            else:
                tf.summary.histogram(
                    "latent/z",
                    codes,
                    description="Codes z of the validation images, all dimensions together.",
                )
        self.writer.flush()
        self._last_written = epoch

    def _reconstruction_rows(self, codes, columns) -> np.ndarray:
        """Originals and reconstructions in alternating rows: each digit sits above its copy."""
        n = self.num_samples
        shown = self.validation_images[:n]
        reconstructions = self._decode(codes[:n], self._condition_of(n))
        rows = []
        for start in range(0, n, columns):
            rows += [shown[start : start + columns], reconstructions[start : start + columns]]
        return np.concatenate([_pad_row(row, columns) for row in rows])

    def _current_prior_latents(self) -> np.ndarray:
        latents = self._prior_latents
        model = self.model
        if getattr(getattr(model, "prior", None), "is_learned", False):
            # A learned prior moves while training: the same seeded draw from where it is now
            # (for a conditional model, from the prior of each sample's label).
            labels = (
                {"labels": self._condition_of(self.num_samples)} if model.is_conditional else {}
            )
            latents = model.prior_latents(len(latents), seed=self.seed, **labels)
        return latents

    def _traversal(self, codes, probabilistic) -> np.ndarray:
        """One row per latent dimension (up to `traversal_dims`), moved around the centre."""
        dims = min(self.traversal_dims, self.model.latent_dim)
        centre, scale = traversal_centre_and_scale(codes, probabilistic)
        offsets = np.linspace(-TRAVERSAL_EXTENT, TRAVERSAL_EXTENT, self.traversal_steps)
        path = np.concatenate(
            [latent.traverse(centre, d, centre[d] + offsets * scale[d]) for d in range(dims)]
        )
        condition = self._condition_of(1)
        if condition is not None:
            condition = np.repeat(condition, len(path), axis=0)
        return self._decode(path, condition)

    def _write_kl(self, encoded) -> None:
        z_mean, z_log_var = (keras.ops.convert_to_numpy(part) for part in encoded)
        tf.summary.histogram(
            "latent/z_mean",
            z_mean,
            description="Posterior means of the validation images, all dimensions together;"
            " a VAE keeps them near N(0, 1).",
        )
        kl = np.asarray(losses.kl_divergence_per_dimension(z_mean, z_log_var)).mean(axis=0)
        for dim, value in enumerate(kl):
            tf.summary.scalar(
                f"kl/dim_{dim:02d}",
                float(value),
                description=f"Mean KL divergence of latent dimension {dim} to the prior, in"
                " nats, over the validation images. Near 0: the dimension is unused.",
            )
        active = int((z_mean.var(axis=0) > ACTIVE_UNIT_THRESHOLD).sum())
        tf.summary.scalar(
            "kl/active_units",
            active,
            description="Latent dimensions whose posterior mean varies across the validation"
            f" images (variance above {ACTIVE_UNIT_THRESHOLD}): those that carry information.",
        )


def _grid(images: np.ndarray, columns: int) -> np.ndarray:
    """One `(1, H, W, C)` image of `images` tiled dark on light, as TensorBoard expects."""
    return vae_images.tile_images(_dark_on_light(images), columns, fill=1.0)[None]


def _pad_row(row: np.ndarray, columns: int) -> np.ndarray:
    """Pads a short last row with blank images so rows line up in the grid."""
    if len(row) == columns:
        return row
    return np.concatenate([row, np.zeros((columns - len(row), *row.shape[1:]), row.dtype)])
