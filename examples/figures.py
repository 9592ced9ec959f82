"""The figures of the MNIST example, as PNG files: why a VAE, and what it costs.

Each `plot_*` function draws one figure and writes it as a PNG, returning its path; the
matching `draw_*` function returns the `matplotlib.figure.Figure` itself (for a notebook, or
a test that checks the axes). Figures are drawn with `keras_vae.images.new_figure`, never
through `pyplot`, so importing this module changes no plotting backend. Models are compared
through dicts `{name: value}` in display order, e.g. `{"AutoEncoder": ..., "VAE": ...}`.
Every title states what the reader should see; numbers that make the point (PSNR, judge
verdicts, explained variance) are printed on the figure.
"""

import pathlib
import statistics

import numpy as np
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from keras_vae import latent
from keras_vae.images import new_figure, show_image

DPI = 110


def save(figure, path) -> pathlib.Path:
    """Writes `figure` as a PNG at `path` (folders created) and returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def psnr(images: np.ndarray, references: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1] against `references`."""
    error = float(np.mean((np.asarray(images, np.float64) - np.asarray(references)) ** 2))
    return float("inf") if error == 0 else 10.0 * np.log10(1.0 / error)


def latent_codes(model, images: np.ndarray) -> np.ndarray:
    """`z_mean` for a VAE, `z` for an autoencoder."""
    codes = model.encode(images)
    return np.asarray(codes[0] if isinstance(codes, tuple) else codes)


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


def _image_rows(rows: dict, title: str, row_label_width: float = 1.6):
    """One row of images per entry of `rows`, labelled on the left."""
    columns = max(len(images) for images in rows.values())
    figure = new_figure(row_label_width + 0.9 * columns, 1.0 * len(rows) + 0.6)
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for row, (label, images) in enumerate(rows.items()):
        for column in range(columns):
            axis = axes[row, column]
            if column < len(images):
                show_image(axis, images[column])
            else:
                axis.axis("off")
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    figure.suptitle(title)
    return figure


# Reconstructions -------------------------------------------------------------------------------


def draw_reconstructions(inputs: np.ndarray, reconstructions: dict):
    rows = {"input": inputs}
    for name, images in reconstructions.items():
        rows[f"{name}\nPSNR {psnr(images, inputs):.1f} dB"] = images
    return _image_rows(
        rows, "Each model's copy of unseen test digits (higher PSNR: closer to the input)"
    )


def plot_reconstructions(inputs: np.ndarray, reconstructions: dict, path) -> pathlib.Path:
    """Test digits (top row) and each model's reconstruction of them (one row per model),
    with the PSNR of each model's row against the inputs."""
    return save(draw_reconstructions(inputs, reconstructions), path)


# Prior samples ---------------------------------------------------------------------------------


def draw_prior_samples(samples: dict, verdicts: dict | None = None, columns: int = 8):
    verdicts = verdicts or {}
    count = max(len(images) for images in samples.values())
    columns = min(columns, count)
    rows = -(-count // columns)
    labelled = bool(verdicts)
    figure = new_figure(0.75 * columns * len(samples) + 0.4, (0.75 + 0.2 * labelled) * rows + 0.5)
    panels = np.atleast_1d(figure.subfigures(1, len(samples), wspace=0.04))
    for panel, (name, images) in zip(panels, samples.items()):
        axes = panel.subplots(rows, columns, squeeze=False)
        panel.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.85, wspace=0.1)
        digits, probabilities = verdicts.get(name, (None, None))
        for index, axis in enumerate(axes.flat):
            if index >= len(images):
                axis.axis("off")
                continue
            show_image(axis, images[index])
            if digits is not None:
                confident = probabilities[index] >= 0.9
                axis.set_title(
                    f"{int(digits[index])} {probabilities[index]:.2f}",
                    fontsize=7,
                    pad=2,
                    color="black" if confident else "tab:red",
                )
        title = name
        if digits is not None:
            sure = int(np.sum(np.asarray(probabilities) >= 0.9))
            title += f": {sure} of {len(images)} read as a digit with p >= 0.9"
        panel.suptitle(title, fontsize=10)
    caption = "Random draws, one panel per model and sampler (named in each title)"
    if labelled:
        caption += "\nover each image: the judge's digit and its probability (red: below 0.9)"
    figure.suptitle(caption, y=1.0 + 0.3 * labelled)
    return figure


def plot_prior_samples(
    samples: dict, path, verdicts: dict | None = None, columns: int = 8
) -> pathlib.Path:
    """Images decoded from random draws, one panel per model and sampler, side by side.

    The VAE was trained to put its codes where the prior draws are; the autoencoder was not,
    so its draws land wherever its decoder happens to map them.

    Args:
        samples: dict of model name -> images `(n, h, w, c)` in [0, 1].
        path: where the PNG goes.
        verdicts: dict of model name -> `(digits, probabilities)`, two arrays `(n,)`: a
            classifier's digit for each image and its probability, printed over the image
            (red below 0.9), with the count of confident ones in the panel's title.
            Defaults to `None` (no verdicts).
        columns: int. Images per row of a panel. Defaults to `8`.
    """
    for name, verdict in (verdicts or {}).items():
        if name not in samples or len(verdict) != 2 or len(verdict[0]) != len(samples[name]):
            raise ValueError(
                "plot_prior_samples() expects `verdicts` as {model name in `samples`:"
                " (digits, probabilities)} with one verdict per image; got"
                f" {name!r}."
            )
    return save(draw_prior_samples(samples, verdicts, columns), path)


# Latent space ----------------------------------------------------------------------------------


def draw_latent_space(codes: dict, labels: np.ndarray):
    labels = np.asarray(labels)
    figure = new_figure(5.0 * len(codes) + 1.2, 5.2)
    axes = figure.subplots(1, len(codes), squeeze=False, sharex=True, sharey=True)[0]
    points, names = {}, {}
    for name, values in codes.items():
        values = np.asarray(values)
        if values.shape[1] == 2:
            points[name], names[name] = values, ("z[0]", "z[1]")
        else:
            points[name], explained = pca_2d(values)
            names[name] = (
                f"PC 1 ({explained[0]:.0%} of the variance)",
                f"PC 2 ({explained[1]:.0%})" if len(explained) > 1 else "PC 2",
            )
    # One square window for every panel, wide enough for each model's codes and for the
    # prior's 2-sigma circle: differences in spread are then visible, not rescaled away.
    stacked = np.concatenate(list(points.values()))
    extent = max(2.5, float(np.percentile(np.abs(stacked), 99.5)) * 1.05)
    for axis, (name, values) in zip(axes, points.items()):
        scatter = axis.scatter(
            values[:, 0], values[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=4
        )
        if codes[name].shape[1] == 2:
            for radius in (1.0, 2.0):
                axis.add_patch(Circle((0, 0), radius, fill=False, ls="--", lw=0.8, color="0.3"))
        axis.set_title(name)
        axis.set_xlabel(names[name][0])
        axis.set_ylabel(names[name][1])
        axis.label_outer()
    axes[0].set_xlim(-extent, extent)
    axes[0].set_ylim(-extent, extent)
    for axis in axes:
        axis.set_aspect("equal")
    figure.colorbar(scatter, ax=axes.tolist(), ticks=range(10), label="digit")
    dims = {np.asarray(values).shape[1] for values in codes.values()}
    if dims == {2}:
        subtitle = "dashed: 1 and 2 standard deviations of the prior N(0, I)"
    else:
        subtitle = "each model's codes projected on their own two principal axes"
    figure.suptitle(
        "Test-set codes coloured by digit, on the same axes: where each model puts the digits"
        f"\n({subtitle})"
    )
    return figure


def plot_latent_space(codes: dict, labels: np.ndarray, path) -> pathlib.Path:
    """The codes of the test set coloured by digit, one panel per model, all panels on the
    same axes. 2-D codes are drawn as they are, with circles at one and two standard
    deviations of the prior; codes of more dimensions are projected on their two principal
    axes (PCA)."""
    return save(draw_latent_space(codes, labels), path)


def draw_latent_manifold(model, n: int = 15):
    if model.latent_dim != 2:
        raise ValueError(
            f"plot_latent_manifold() expects a model with latent_dim=2; got {model.latent_dim}."
        )
    normal = statistics.NormalDist()
    values = np.array([normal.inv_cdf(p) for p in np.linspace(0.05, 0.95, n)], np.float32)
    # Rows go from high z[1] (top) to low, as on a plot's y axis.
    latents = np.array([[x, y] for y in values[::-1] for x in values], np.float32)
    images = np.asarray(model.decode(latents))
    height, width = images.shape[1:3]
    canvas = images.reshape(n, n, height, width).transpose(0, 2, 1, 3).reshape(n * height, -1)
    figure = new_figure(7, 7)
    axis = figure.subplots()
    extent = (values[0], values[-1], values[0], values[-1])
    axis.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, extent=extent)
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title(
        "What the VAE draws where: a grid over its prior's 5%-95% quantiles, decoded\n"
        "(neighbouring cells are similar digits; no gaps)"
    )
    return figure


def plot_latent_manifold(model, path, n: int = 15) -> pathlib.Path:
    """Decodes an `n` x `n` grid of 2-D latent vectors placed at the prior's quantiles
    (5% to 95%), so each cell covers the same prior probability: the map of what the VAE
    draws where."""
    return save(draw_latent_manifold(model, n), path)


# Interpolation ---------------------------------------------------------------------------------


def interpolation_rows(models: dict, start: np.ndarray, end: np.ndarray, steps: int) -> dict:
    """Rows of images from `start` to `end`: one walk through each model's latent space
    (`keras_vae.latent.interpolate` between the two codes, decoded) and, as the baseline,
    the pixels blended. Every row starts at `start` and ends at `end` (the originals)."""
    rows = {}
    for name, model in models.items():
        codes = latent_codes(model, np.stack([start, end]))
        path = latent.interpolate(codes[0], codes[1], steps)
        rows[f"{name}\n(latent walk)"] = [start, *np.asarray(model.decode(path)), end]
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None, None]
    blend = (1.0 - weights) * start[None] + weights * end[None]
    rows["pixel blend\n(no model)"] = [start, *blend, end]
    return rows


def draw_interpolation(models: dict, start, end, steps: int = 10, labels=None):
    rows = interpolation_rows(models, start, end, steps)

    def digit(label):
        return f"{'an' if str(label) == '8' else 'a'} {label}"

    what = (
        f"{digit(labels[0])} to {digit(labels[1])}"
        if labels is not None
        else "one digit to another"
    )
    return _image_rows(
        rows,
        f"From {what} (originals at both ends): each model decodes the straight line between"
        "\nthe two codes; the bottom row blends the pixels, which only superimposes the two digits",
    )


def plot_interpolation(models: dict, start, end, path, steps: int = 10, labels=None):
    """A strip per model walking through its latent space from one test digit to another,
    above the pixel blend of the same two digits; the ends are the originals.

    Args:
        labels: pair of the two digits' classes, named in the title, or None.
    """
    return save(draw_interpolation(models, start, end, steps, labels), path)


# Training --------------------------------------------------------------------------------------


def _curve(axis, history: dict, key: str, label: str, color):
    if key in history:
        epochs = np.arange(1, len(history[key]) + 1)
        axis.plot(epochs, history[key], color=color, label=f"{label} train")
    if f"val_{key}" in history:
        epochs = np.arange(1, len(history[f"val_{key}"]) + 1)
        axis.plot(epochs, history[f"val_{key}"], "--", color=color, label=f"{label} validation")


def draw_training_curves(histories: dict):
    keys = [
        ("loss", "loss (the negative ELBO for the VAE)"),
        ("reconstruction_loss", "reconstruction"),
        ("kl_loss", "KL divergence to the prior (VAE only)"),
    ]
    figure = new_figure(15, 4.4)
    axes = figure.subplots(1, 3)
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
    figure.suptitle(
        "Loss terms per epoch (solid: training, dashed: validation): the VAE's reconstruction"
        " costs more because it also pays the KL term",
        y=1.02,
    )
    return figure


def plot_training_curves(histories: dict, path) -> pathlib.Path:
    """Loss, reconstruction and KL per epoch (train solid, validation dashed), from the
    `History.history` dict of each model's `fit`."""
    return save(draw_training_curves(histories), path)


def draw_learning_to_reconstruct(histories: dict, inputs, untrained: dict, trained: dict):
    figure = new_figure(15, 5.4)
    grid = figure.add_gridspec(1, 2, width_ratios=(1, 1.7))
    axis = figure.add_subplot(grid[0])
    for index, (name, history) in enumerate(histories.items()):
        key = "val_reconstruction_loss"
        key = key if key in history else "reconstruction_loss"
        epochs = np.arange(1, len(history[key]) + 1)
        axis.plot(epochs, history[key], "o-", color=f"C{index}", label=name, markersize=3)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation reconstruction loss (nats per image)")
    axis.set_title("Reconstruction loss per epoch")
    axis.legend()

    rows = {"input": inputs}
    for name in trained:
        before = np.asarray(untrained[name])
        # An untrained decoder outputs about 0.5 everywhere: say so, so that the flat grey
        # row reads as "nothing learnt yet", not as a broken image.
        rows[f"{name} before training\n(every pixel {before.mean():.2f} ± {before.std():.2f})"] = (
            before
        )
        rows[f"{name} trained\nPSNR {psnr(trained[name], inputs):.1f} dB"] = trained[name]
    images = figure.add_subfigure(grid[1]).subplots(len(rows), len(inputs), squeeze=False)
    for row, (label, values) in enumerate(rows.items()):
        for column, image in enumerate(values):
            show_image(images[row, column], image)
        images[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle(
        "Learning to reconstruct: from flat grey (an untrained decoder's p = 0.5 everywhere)"
        " to digits"
    )
    return figure


def plot_learning_to_reconstruct(
    histories: dict, inputs: np.ndarray, untrained: dict, trained: dict, path
) -> pathlib.Path:
    """The AE and the VAE learning to reconstruct: validation reconstruction loss per epoch of
    both on one plot, and the same test digits decoded by each model before training (a flat
    grey, labelled with its pixel values) and after (with its PSNR)."""
    return save(draw_learning_to_reconstruct(histories, inputs, untrained, trained), path)
