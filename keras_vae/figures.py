"""The figures of the MNIST example, as PNG files: why a VAE, and what it costs.

Each function takes numpy arrays (or a model with `encode`/`decode` where it must decode new
latent vectors), draws one figure with matplotlib's Agg backend and returns the path of the
PNG. Models are compared through dicts `{name: value}` in display order, e.g.
`{"AutoEncoder": ..., "VAE": ...}`.
"""

import pathlib
import statistics

import matplotlib

# Files only: no display needed, and no GUI backend picked up on a headless machine.
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DPI = 110


def _save(figure, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def _show_image(axis, image):
    axis.imshow(np.asarray(image).squeeze(), cmap="gray_r", vmin=0.0, vmax=1.0)
    axis.set_xticks([])
    axis.set_yticks([])


def _image_rows(rows: dict, path, title: str, row_label_width: float = 1.4):
    """One row of images per entry of `rows`, labelled on the left."""
    columns = max(len(images) for images in rows.values())
    figure, axes = plt.subplots(
        len(rows),
        columns,
        figsize=(row_label_width + 0.9 * columns, 1.0 * len(rows) + 0.5),
        squeeze=False,
    )
    for row, (label, images) in enumerate(rows.items()):
        for column in range(columns):
            axis = axes[row, column]
            if column < len(images):
                _show_image(axis, images[column])
            else:
                axis.axis("off")
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    figure.suptitle(title)
    return _save(figure, path)


def latent_codes(model, images: np.ndarray) -> np.ndarray:
    """`z_mean` for a VAE, `z` for an autoencoder."""
    codes = model.encode(images)
    return codes[0] if isinstance(codes, tuple) else codes


def pca_2d(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projects codes `(n, d)` onto their two principal axes; returns the projection and the
    fraction of the variance each axis explains."""
    centered = codes - codes.mean(axis=0)
    _, singular, axes = np.linalg.svd(centered, full_matrices=False)
    explained = singular**2 / max(float((singular**2).sum()), 1e-12)
    projection = centered @ axes[:2].T
    if projection.shape[1] == 1:
        projection = np.concatenate([projection, np.zeros_like(projection)], axis=1)
    return projection, explained[:2]


def plot_reconstructions(inputs: np.ndarray, reconstructions: dict, path) -> pathlib.Path:
    """Test digits (top row) and each model's reconstruction of them (one row per model)."""
    return _image_rows(
        {"input": inputs, **reconstructions}, path, "Reconstructions of unseen test digits"
    )


def plot_prior_samples(samples: dict, path, columns: int = 8) -> pathlib.Path:
    """Images decoded from random N(0, I) draws, one panel per model, side by side.

    The same latent vectors go into every model. The VAE was trained to put its codes where
    the prior draws are, so its samples cover the digits; the autoencoder was not, so its
    draws land wherever its decoder happens to map them (often a few blurred shapes).
    """
    figure, axes = plt.subplots(1, len(samples), figsize=(4.2 * len(samples), 2.6), squeeze=False)
    for axis, (name, images) in zip(axes[0], samples.items()):
        rows = -(-len(images) // columns)
        height, width = images.shape[1:3]
        grid = np.ones((rows * (height + 2), columns * (width + 2)), np.float32) * 0.0
        for index, image in enumerate(images):
            row, column = divmod(index, columns)
            top, left = row * (height + 2) + 1, column * (width + 2) + 1
            grid[top : top + height, left : left + width] = np.asarray(image).squeeze()
        _show_image(axis, grid)
        axis.set_title(name)
    figure.suptitle("The same random draws z ~ N(0, I), decoded by each model")
    return _save(figure, path)


def plot_latent_space(codes: dict, labels: np.ndarray, path) -> pathlib.Path:
    """The codes of the test set coloured by digit, one panel per model.

    2-D codes are drawn as they are, with circles at one and two standard deviations of the
    prior: a VAE's pools fill that disc, an autoencoder's spread wherever they like. Codes of
    more dimensions are projected on their two principal axes (PCA).
    """
    figure, axes = plt.subplots(1, len(codes), figsize=(5.4 * len(codes), 5.0), squeeze=False)
    labels = np.asarray(labels)
    for axis, (name, values) in zip(axes[0], codes.items()):
        values = np.asarray(values)
        if values.shape[1] == 2:
            points, x_label, y_label = values, "z[0]", "z[1]"
            for radius in (1.0, 2.0):
                axis.add_patch(plt.Circle((0, 0), radius, fill=False, ls="--", lw=0.8, color="0.4"))
        else:
            points, explained = pca_2d(values)
            x_label = f"PC 1 ({explained[0]:.0%} of variance)"
            y_label = f"PC 2 ({explained[1]:.0%})" if len(explained) > 1 else "PC 2"
        scatter = axis.scatter(
            points[:, 0], points[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=4
        )
        axis.set_title(name)
        axis.set_xlabel(x_label)
        axis.set_ylabel(y_label)
        axis.set_aspect("equal", adjustable="datalim")
    figure.colorbar(scatter, ax=axes[0].tolist(), ticks=range(10), label="digit")
    figure.suptitle("Latent codes of the test set, coloured by digit")
    return _save(figure, path)


def plot_latent_manifold(model, path, n: int = 15) -> pathlib.Path:
    """Decodes an `n` x `n` grid of 2-D latent vectors placed at the prior's quantiles
    (5% to 95%), so each cell covers the same prior probability: the map of what the VAE
    draws where."""
    if model.latent_dim != 2:
        raise ValueError(
            f"plot_latent_manifold() expects a model with latent_dim=2; got {model.latent_dim}."
        )
    normal = statistics.NormalDist()
    values = np.array([normal.inv_cdf(p) for p in np.linspace(0.05, 0.95, n)], np.float32)
    # Rows go from high z[1] (top) to low, as on a plot's y axis.
    latents = np.array([[x, y] for y in values[::-1] for x in values], np.float32)
    images = model.decode(latents)
    height, width = images.shape[1:3]
    canvas = images.reshape(n, n, height, width).transpose(0, 2, 1, 3).reshape(n * height, -1)
    figure, axis = plt.subplots(figsize=(7, 7))
    extent = (values[0], values[-1], values[0], values[-1])
    axis.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, extent=extent)
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title("The VAE's latent manifold: decoded grid over the prior's 5%-95% quantiles")
    return _save(figure, path)


def interpolate_codes(model, start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """Decodes `steps` points on the straight line between the codes of two images."""
    codes = latent_codes(model, np.stack([start, end]))
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return model.decode((1.0 - weights) * codes[0] + weights * codes[1])


def plot_interpolation(models: dict, start: np.ndarray, end: np.ndarray, path, steps=10):
    """A strip per model walking through latent space from one test digit to another; the
    ends are the originals. A VAE's path stays on digits; an autoencoder's may pass through
    shapes that are none."""
    rows = {}
    for name, model in models.items():
        rows[name] = [start, *interpolate_codes(model, start, end, steps), end]
    return _image_rows(rows, path, "Interpolation between two test digits (originals at the ends)")


def _curve(axis, history: dict, key: str, label: str, color):
    if key in history:
        epochs = np.arange(1, len(history[key]) + 1)
        axis.plot(epochs, history[key], color=color, label=f"{label} train")
    if f"val_{key}" in history:
        epochs = np.arange(1, len(history[f"val_{key}"]) + 1)
        axis.plot(epochs, history[f"val_{key}"], "--", color=color, label=f"{label} validation")


def plot_training_curves(histories: dict, path) -> pathlib.Path:
    """Loss, reconstruction and KL per epoch (train solid, validation dashed), from the
    `History.history` dict of each model's `fit`."""
    keys = [("loss", "loss (negative ELBO for the VAE)"), ("reconstruction_loss", "reconstruction")]
    keys.append(("kl_loss", "KL divergence to the prior"))
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for axis, (key, title) in zip(axes, keys):
        for index, (name, history) in enumerate(histories.items()):
            _curve(axis, history, key, name, f"C{index}")
        axis.set_title(title)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.set_ylabel("nats per image")
        if axis.lines:
            axis.legend(fontsize=8)
        else:
            axis.text(0.5, 0.5, "no KL term", ha="center", transform=axis.transAxes)
    figure.suptitle("Training curves", y=1.02)
    return _save(figure, path)


def plot_learning_to_reconstruct(
    histories: dict, inputs: np.ndarray, untrained: dict, trained: dict, path
) -> pathlib.Path:
    """The AE and the VAE learning to reconstruct: validation reconstruction loss per epoch of
    both on one plot, and the same test digits decoded by each model before and after
    training. Any gap between the curves is the price the VAE pays (its KL term) for a
    latent space it can sample from."""
    figure = plt.figure(figsize=(15, 5.2))
    grid = figure.add_gridspec(1, 2, width_ratios=(1, 1.6))
    axis = figure.add_subplot(grid[0])
    for index, (name, history) in enumerate(histories.items()):
        key = "val_reconstruction_loss" if "val_reconstruction_loss" in history else None
        key = key or "reconstruction_loss"
        epochs = np.arange(1, len(history[key]) + 1)
        axis.plot(epochs, history[key], "o-", color=f"C{index}", label=name, markersize=3)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation reconstruction loss (nats per image)")
    axis.set_title("Reconstruction loss per epoch")
    axis.legend()

    rows = {"input": inputs}
    for name in trained:
        rows[f"{name}\nuntrained"] = untrained[name]
        rows[f"{name}\ntrained"] = trained[name]
    images = figure.add_subfigure(grid[1]).subplots(len(rows), len(inputs), squeeze=False)
    for row, (label, values) in enumerate(rows.items()):
        for column, image in enumerate(values):
            _show_image(images[row, column], image)
        images[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    figure.suptitle("Learning to reconstruct: the autoencoder and the VAE side by side")
    return _save(figure, path)
