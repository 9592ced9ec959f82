"""Draws docs/images/packages.png: keras_vae's packages and the one direction of their imports.

Run `python docs/package_diagram.py` after a package is added or moved.
"""

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

LAYERS = [
    ["losses"],
    ["layers", "priors"],
    ["models"],
    ["evaluation", "latent", "samplers", "presets", "callbacks", "export", "data", "saving"],
    ["cli", "examples"],
    ["keras_vae_cli.entry"],
]
# keras_vae_cli holds the command line's standard-library modules (names, arguments, parser,
# console): below everything, like the leaves of keras_vae; its entry (the console script)
# alone is above the commands.
LEAVES = ["images", "validation", "reproducibility", "keras_vae_cli"]
# A box that imports one package of the row below, drawn above it.
ONLY = {"keras_vae_cli.entry": "cli"}


def draw(path: Path) -> None:
    """Draws the diagram into `path`.

    Args:
        path: Path. The PNG file to write.
    """
    figure = Figure(figsize=(10, 6.2), dpi=110)
    axes = figure.add_axes([0, 0, 1, 1])
    axes.set_xlim(0, 10)
    axes.set_ylim(0, 6.65)
    axes.axis("off")
    centres = {}
    for row, names in enumerate(LAYERS):
        y = 0.6 + row * 1.05
        width = 9.0 / len(names)
        for column, name in enumerate(names):
            x = centres[ONLY[name]][0] if name in ONLY else 0.5 + width * (column + 0.5)
            box = FancyBboxPatch(
                (x - min(width * 0.42, 0.8), y - 0.25),
                2 * min(width * 0.42, 0.8),
                0.5,
                boxstyle="round,pad=0.04",
                facecolor="#dbe8f7" if row < 4 else "#f7e3c8" if row == 4 else "#e3f0d8",
                edgecolor="#33506e",
            )
            axes.add_patch(box)
            axes.text(x, y, name, ha="center", va="center", fontsize=10)
            centres[name] = (x, y)
    for row in range(1, len(LAYERS)):
        for upper in LAYERS[row]:
            # The fifth row uses the whole row below (one arrow straight down); a box of ONLY
            # points at its one package.
            lowers = [ONLY[upper]] if upper in ONLY else LAYERS[row - 1] if row < 4 else [None]
            for lower in lowers:
                x1, y1 = centres[upper]
                x0, y0 = centres[lower] if lower else (x1, centres[LAYERS[row - 1][0]][1])
                axes.annotate(
                    "",
                    xy=(x0, y0 + 0.3),
                    xytext=(x1, y1 - 0.3),
                    arrowprops={"arrowstyle": "->", "color": "#7a8a99", "lw": 0.8},
                )
    axes.text(
        5,
        0.08,
        "an arrow points at what a package imports (the top rows: the whole row below);"
        " leaves anyone may use: " + ", ".join(LEAVES),
        ha="center",
        fontsize=9,
        color="#444444",
    )
    figure.savefig(path)


if __name__ == "__main__":
    draw(Path(__file__).parent / "images" / "packages.png")
