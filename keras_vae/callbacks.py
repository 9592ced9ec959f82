"""TensorBoard views of what a VAE learns, epoch by epoch, and of its latent space in 3-D.

`VAEImageLogger` is a `model.fit()` callback that writes images and histograms next to the
scalars of Keras's own `keras.callbacks.TensorBoard`; `write_embedding_projector` writes
latent codes with their labels for TensorBoard's Embedding Projector.
"""

import pathlib

import keras
import numpy as np
import tensorflow as tf

from keras_vae import losses

# Below this variance across the data, a latent dimension carries no information about the
# input ("inactive unit", Burda et al. 2016).
ACTIVE_UNIT_THRESHOLD = 0.01


def image_grid(images: np.ndarray, columns: int, pad: int = 1) -> np.ndarray:
    """Tiles images `(n, h, w, c)` into one image `(rows*(h+pad)-pad, columns*(w+pad)-pad, c)`;
    empty cells and the padding between tiles are white."""
    images = np.asarray(images, np.float32)
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    grid = np.ones(
        (rows * (height + pad) - pad, columns * (width + pad) - pad, channels), np.float32
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + pad), column * (width + pad)
        grid[top : top + height, left : left + width] = image
    return grid


def traversal_latents(model, codes: np.ndarray, dims: int, steps: int) -> np.ndarray:
    """Latent vectors `(dims * steps, latent_dim)` that move one dimension at a time.

    A VAE is traversed around the prior mean over [-3, 3] (three prior standard deviations);
    an autoencoder has no prior, so it is traversed around the mean of its codes over three
    standard deviations of each dimension, where its digits actually are.
    """
    if getattr(model, "probabilistic", True):
        center, scale = np.zeros(model.latent_dim, np.float32), np.ones(model.latent_dim)
    else:
        center, scale = codes.mean(axis=0), codes.std(axis=0) + 1e-6
    offsets = np.linspace(-3.0, 3.0, steps)
    latents = np.repeat(center[None, :], dims * steps, axis=0)
    for dim in range(dims):
        latents[dim * steps : (dim + 1) * steps, dim] = center[dim] + offsets * scale[dim]
    return latents.astype(np.float32)


class VAEImageLogger(keras.callbacks.Callback):
    """Writes what the model draws to TensorBoard while `fit()` runs.

    Every `every_n_epochs` epochs (and after the last one) it writes, under
    `log_dir/images`:

    - `reconstructions`: a grid with the validation images on odd rows and their
      reconstructions below them;
    - `prior_samples`: the decoding of `num_samples` latent vectors drawn from N(0, I) once,
      with `seed`, so that the same vectors are decoded on every epoch and the images are
      comparable across epochs (for an autoencoder they show what a VAE fixes);
    - `latent_traversal`: one row per latent dimension (at most `traversal_dims`), moving that
      dimension over [-3, 3] with the others held at the center;
    - `latent/z_mean` (or `latent/z` for an autoencoder): a histogram of the codes of the
      validation images;
    - for a VAE, `kl/dim_XX`: the mean KL divergence of each latent dimension, in nats, and
      `kl/active_units`: how many dimensions carry information (variance of `z_mean` over the
      validation images above 0.01). Unused dimensions collapse to the prior and show 0.

    Scalars of the losses keep going through `keras.callbacks.TensorBoard`; give both the same
    `log_dir` to see everything in one run. The callback keeps only the validation images and
    the fixed latents, never per-epoch outputs; the summary writer is created on the first
    write and closed when training ends. It is not part of the model and is not saved with it.

    Args:
        log_dir: str or path. The run directory (the one given to `keras.callbacks.TensorBoard`).
        validation_images: float array `(n, *input_shape)`. Images to reconstruct and encode;
            the first `num_samples` are shown.
        every_n_epochs: int. Write every this many epochs. Defaults to `1`.
        num_samples: int. Images per reconstruction and sample grid. Defaults to `16`.
        seed: int. Seed of the fixed prior draws. Defaults to `0`.
        traversal_dims: int. Most latent dimensions shown in the traversal. Defaults to `8`.
        traversal_steps: int. Values per traversed dimension. Defaults to `9`.

    Example:
    ```python
    log_dir = "runs/vae"
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
        every_n_epochs: int = 1,
        num_samples: int = 16,
        seed: int = 0,
        traversal_dims: int = 8,
        traversal_steps: int = 9,
    ):
        super().__init__()
        for name, value in (
            ("every_n_epochs", every_n_epochs),
            ("num_samples", num_samples),
            ("traversal_dims", traversal_dims),
            ("traversal_steps", traversal_steps),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"VAEImageLogger expects `{name}` as an int >= 1; got {value!r}.")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"VAEImageLogger expects `seed` as an int; got {seed!r}.")
        images = np.asarray(validation_images)
        if not np.issubdtype(images.dtype, np.floating) or images.ndim < 3 or len(images) == 0:
            raise ValueError(
                "VAEImageLogger expects `validation_images` as a non-empty float array of"
                f" images (n, height, width[, channels]); got shape {images.shape} and dtype"
                f" {images.dtype}."
            )
        self.log_dir = pathlib.Path(log_dir)
        self.validation_images = images.astype(np.float32)
        self.every_n_epochs = every_n_epochs
        self.num_samples = min(num_samples, len(images))
        self.seed = seed
        self.traversal_dims = traversal_dims
        self.traversal_steps = traversal_steps
        self._writer = None
        self._prior_latents = None
        self._last_written = None
        self._last_epoch = None

    # Keras hooks -----------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        # Checked here, not in __init__, because the model is only known now.
        self.model.check_images(self.validation_images, "validation_images", "VAEImageLogger")
        # Drawn once per training run (numpy, not the model's seed generator, so logging does
        # not change the random stream of training).
        rng = np.random.default_rng(self.seed)
        self._prior_latents = rng.standard_normal((self.num_samples, self.model.latent_dim)).astype(
            np.float32
        )
        self._last_written = None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.write(epoch)

    def on_train_end(self, logs=None):
        if self._last_epoch is not None and self._last_written != self._last_epoch:
            self.write(self._last_epoch)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def on_epoch_begin(self, epoch, logs=None):
        self._last_epoch = epoch

    # Writing ---------------------------------------------------------------------------------

    @property
    def writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir / "images"))
        return self._writer

    def write(self, epoch: int) -> None:
        """Writes every summary for `epoch` (the TensorBoard step)."""
        model = self.model
        shown = self.validation_images[: self.num_samples]
        columns = int(np.ceil(np.sqrt(self.num_samples)))
        # Encoded once: the codes drive the traversal, and a VAE's (z_mean, z_log_var) the KL.
        probabilistic = getattr(model, "probabilistic", True)
        encoded = model.encode(self.validation_images)
        codes = encoded[0] if probabilistic else encoded
        reconstructions = model.reconstruct(shown)
        # Originals and reconstructions in alternating rows: each digit sits above its copy.
        pairs = []
        for start in range(0, len(shown), columns):
            pairs.extend([shown[start : start + columns], reconstructions[start : start + columns]])
        paired = np.concatenate([_pad_row(row, columns) for row in pairs])
        dims = min(self.traversal_dims, model.latent_dim)
        traversal = model.decode(traversal_latents(model, codes, dims, self.traversal_steps))
        with self.writer.as_default(step=epoch):
            tf.summary.image("reconstructions", image_grid(paired, columns)[None])
            samples = model.decode(self._prior_latents)
            tf.summary.image("prior_samples", image_grid(samples, columns)[None])
            tf.summary.image("latent_traversal", image_grid(traversal, self.traversal_steps)[None])
            if probabilistic:
                z_mean, z_log_var = encoded
                tf.summary.histogram("latent/z_mean", z_mean)
                kl = np.asarray(losses.kl_divergence_per_dimension(z_mean, z_log_var))
                for dim, value in enumerate(kl.mean(axis=0)):
                    tf.summary.scalar(f"kl/dim_{dim:02d}", float(value))
                active = int((z_mean.var(axis=0) > ACTIVE_UNIT_THRESHOLD).sum())
                tf.summary.scalar("kl/active_units", active)
            else:
                tf.summary.histogram("latent/z", codes)
        self.writer.flush()
        self._last_written = epoch


def _pad_row(row: np.ndarray, columns: int) -> np.ndarray:
    """Pads a short last row with white images so rows line up in the grid."""
    if len(row) == columns:
        return row
    return np.concatenate([row, np.ones((columns - len(row), *row.shape[1:]), row.dtype)])


def sprite_image(images: np.ndarray) -> np.ndarray:
    """A square sprite sheet of `images` `(n, h, w, c)` as uint8 `(side*h, side*w, c)`, the
    layout the Embedding Projector reads thumbnails from (row-major, no padding)."""
    side = int(np.ceil(np.sqrt(len(images))))
    grid = image_grid(images, side, pad=0)
    height, width = images.shape[1] * side, images.shape[2] * side
    full = np.ones((height, width, grid.shape[2]), np.float32)
    full[: grid.shape[0], : grid.shape[1]] = grid
    return np.clip(np.round(full * 255.0), 0, 255).astype(np.uint8)


def write_embedding_projector(
    log_dir,
    codes,
    labels=None,
    images=None,
    name: str = "latent_codes",
) -> dict:
    """Writes latent codes for TensorBoard's Embedding Projector (`tensorboard --logdir
    log_dir`, then the PROJECTOR tab): the codes as a checkpointed variable, one label per
    line in `metadata.tsv`, a sprite of thumbnails when `images` are given, and
    `projector_config.pbtxt` tying them together. The projector shows the "pools" of digits
    in 3-D with PCA, t-SNE or UMAP.

    Args:
        log_dir: str or path. Created if missing.
        codes: float array `(n, latent_dim)`, e.g. `z_mean` of the test set.
        labels: array `(n,)` or None. Written to `metadata.tsv` to colour the points.
        images: float array `(n, h, w[, c])` in [0, 1] or None. Thumbnails (sprite image).
        name: str. Name of the embedding. Defaults to `"latent_codes"`.

    Returns:
        A dict of the files written: `checkpoint`, `config`, and `metadata`/`sprite` when
        written.
    """
    from tensorboard.plugins import projector

    codes = np.asarray(codes, np.float32)
    if codes.ndim != 2 or len(codes) == 0:
        raise ValueError(
            "write_embedding_projector() expects `codes` of shape (n, latent_dim) with n >= 1;"
            f" got {codes.shape}."
        )
    for argument, value in (("labels", labels), ("images", images)):
        if value is not None and len(value) != len(codes):
            raise ValueError(
                f"write_embedding_projector() expects `{argument}` with one entry per code"
                f" ({len(codes)}); got {len(value)}."
            )
    log_dir = pathlib.Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    # The name under which tf.train.Checkpoint stores the variable attribute `embedding`.
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    if labels is not None:
        metadata = log_dir / f"{name}_metadata.tsv"
        # One column and no header: the projector's format for a single label column.
        metadata.write_text("".join(f"{label}\n" for label in np.asarray(labels).tolist()))
        embedding.metadata_path = metadata.name
        written["metadata"] = str(metadata)
    if images is not None:
        images = np.asarray(images, np.float32)
        if images.ndim == 3:
            images = images[..., None]
        sprite = log_dir / f"{name}_sprite.png"
        tf.io.write_file(str(sprite), tf.io.encode_png(sprite_image(images)))
        embedding.sprite.image_path = sprite.name
        embedding.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])
        written["sprite"] = str(sprite)
    checkpoint = tf.train.Checkpoint(embedding=tf.Variable(codes, name=name))
    written["checkpoint"] = checkpoint.save(str(log_dir / f"{name}.ckpt"))
    projector.visualize_embeddings(str(log_dir), config)
    written["config"] = str(log_dir / "projector_config.pbtxt")
    return written
