"""Latent codes for TensorBoard's Embedding Projector, with labels and thumbnails."""

import pathlib

import numpy as np
import tensorflow as tf

from keras_vae import images as vae_images

# The projector draws a 3-D view; codes of fewer dimensions are padded with zero columns,
# without which it shows "Dimension: 2", axes and no points.
PROJECTOR_DIMENSIONS = 3


def sprite_image(images: np.ndarray) -> np.ndarray:
    """A square sprite sheet of `images` `(n, h, w, c)` in [0, 1] as uint8
    `(side*h, side*w, c)`, the layout the projector reads thumbnails from (row-major, no
    padding, empty cells white). Grey digits are drawn dark on light, as in the figures.

    Args:
        images: float array `(n, h, w, c)` in [0, 1]. The thumbnails, in order.
    """
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = 1.0 - images
    side = int(np.ceil(np.sqrt(len(images))))
    grid = vae_images.tile_images(images, side, pad=0, fill=1.0)
    height, width = images.shape[1] * side, images.shape[2] * side
    full = np.ones((height, width, grid.shape[2]), np.float32)
    full[: grid.shape[0], : grid.shape[1]] = grid
    return np.round(full * 255.0).astype(np.uint8)


def _padded(codes: np.ndarray) -> np.ndarray:
    missing = PROJECTOR_DIMENSIONS - codes.shape[1]
    if missing <= 0:
        return codes
    return np.concatenate([codes, np.zeros((len(codes), missing), codes.dtype)], axis=1)


# Over our 60-line habit only by its docstring, the public reference of every argument;
# the code itself is short.
def write_embedding_projector(
    log_dir,
    codes,
    labels=None,
    images=None,
    name: str = "latent_codes",
    label_name: str = "label",
) -> dict:
    """Writes latent codes for TensorBoard's Embedding Projector.

    Open `tensorboard --logdir log_dir`, then the PROJECTOR tab: each code is a point (or the
    thumbnail of its image), and "Color by" `label_name` colours them by class, so the
    "pools" of digits show in 3-D under PCA, t-SNE or UMAP. Codes with fewer than 3
    dimensions are padded with zero columns (the projector draws nothing for 2-D data);
    the padding adds no variance, so PCA shows the codes as they are.

    Writes the codes as a checkpointed variable, `<name>_metadata.tsv` (a header line, then
    `label_name` and the row index of each code), `<name>_sprite.png` when `images` are
    given, `projector_config.pbtxt` tying them together, and a one-line text summary saying
    what the codes are: the projector only looks in folders TensorBoard lists as runs, and a
    folder is a run when it holds an event file.

    Give the codes a folder of their own, with no runs below it (e.g.
    `<logdir>/latent_codes/vae`, beside `<logdir>/vae`): the projector also reads the
    checkpoint of a run's parent folder, so codes written into a model's run folder would
    show up again, without their labels and thumbnails, under its `train` and `validation`
    runs.

    Args:
        log_dir: str or path. Created if missing; give TensorBoard a parent of this folder.
        codes: float array `(n, latent_dim)`, e.g. `z_mean` of the test set.
        labels: array `(n,)` or None. The class of each code, for colouring.
        images: float array `(n, h, w[, c])` in [0, 1] or None. Thumbnails (sprite image).
        name: str. Name of the embedding. Defaults to `"latent_codes"`.
        label_name: str. Column name of `labels` in the projector. Defaults to `"label"`.

    Returns:
        A dict of what was written: `checkpoint`, `config`, `events` (the folder of the
        text summary), and `metadata`/`sprite` when written.

    Example:
    ```python
    z_mean, _ = vae.encode(x_test[:2000])
    write_embedding_projector(
        "runs/tensorboard/latent_codes/vae", z_mean, y_test[:2000], x_test[:2000],
        label_name="digit",
    )
    ```
    """
    from tensorboard.plugins import projector

    codes = _checked_codes(codes, labels, images, label_name)
    log_dir = pathlib.Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    # The name under which tf.train.Checkpoint stores the variable attribute `embedding`.
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    if labels is not None:
        written["metadata"] = _write_metadata(log_dir, name, labels, label_name, embedding)
    if images is not None:
        written["sprite"] = _write_sprite(log_dir, name, images, embedding)
    checkpoint = tf.train.Checkpoint(embedding=tf.Variable(_padded(codes), name=name))
    written["checkpoint"] = checkpoint.save(str(log_dir / f"{name}.ckpt"))
    projector.visualize_embeddings(str(log_dir), config)
    written["config"] = str(log_dir / "projector_config.pbtxt")
    _write_run_summary(log_dir, name, codes, label_name if labels is not None else None)
    written["events"] = str(log_dir)
    return written


def _checked_codes(codes, labels, images, label_name) -> np.ndarray:
    """`codes` as float32 `(n, latent_dim)`, after checking every argument against them."""
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
    if not isinstance(label_name, str) or not label_name or "\t" in label_name:
        raise ValueError(
            "write_embedding_projector() expects `label_name` as a non-empty str without"
            f" tabs; got {label_name!r}."
        )
    return codes


def _write_metadata(log_dir, name, labels, label_name, embedding) -> str:
    metadata = log_dir / f"{name}_metadata.tsv"
    # Two columns need a header line; the header names the "Color by" entry.
    rows = (f"{label}\t{index}\n" for index, label in enumerate(np.asarray(labels).tolist()))
    metadata.write_text(f"{label_name}\tindex\n" + "".join(rows))
    embedding.metadata_path = metadata.name
    return str(metadata)


def _write_sprite(log_dir, name, images, embedding) -> str:
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[..., None]
    sprite = log_dir / f"{name}_sprite.png"
    tf.io.write_file(str(sprite), tf.io.encode_png(sprite_image(images)))
    embedding.sprite.image_path = sprite.name
    embedding.sprite.single_image_dim.extend([images.shape[2], images.shape[1]])
    return str(sprite)


def _write_run_summary(log_dir, name, codes, label_name) -> None:
    """The one-line text summary that makes `log_dir` a run TensorBoard lists (the projector
    looks only in runs), saying what the codes are."""
    padded = f", padded to {PROJECTOR_DIMENSIONS}" if codes.shape[1] < PROJECTOR_DIMENSIONS else ""
    colour = f' "Color by: {label_name}" colours them by class.' if label_name else ""
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default(step=0):
        tf.summary.text(
            name,
            f"{len(codes)} latent codes of {codes.shape[1]} dimensions{padded}: open the"
            f" PROJECTOR tab and pick this run.{colour}",
        )
    writer.close()
