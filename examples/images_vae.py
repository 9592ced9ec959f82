"""Your own images: a VAE on a folder of pictures, and a pool of latent codes for each class.

The seeds of this project began with a question: if a VAE has seen cats, dogs and turtles,
can it draw "a dog"? Its encoder puts every picture somewhere in latent space; where the
pictures of one class gather in a region of their own, that region is a pool. Fit a
Gaussian to the codes of each class (`keras_vae.LatentPools`) and "sample from the
distribution of dog images" becomes "pick a vector from the dog pool and decode it"
(`keras_vae.samplers.PoolSampler`).

The images come from a folder with one subfolder per class (`--images DIR`, any mix of PNG
and JPEG, grey or colour), read by `keras_vae.resolve_data_source(images=DIR)`, which is
built on `keras.utils.image_dataset_from_directory`. Without `--images`, the example first
writes a folder of generated coloured shapes (six classes, `keras_vae.data.write_shapes_folder`)
and reads it back the same way, so it runs with no network. A judge (a small classifier
trained on the labelled training pictures, `keras_vae.evaluation.Judge`) then says how many
of each pool's draws it recognises as that pool's class: the figures show how far the
classes separate, not only that they should.

    pool_samples.png     one row per class: draws from that class's pool, with the judge's
                         verdict on the row
    reconstructions.png  test pictures and the VAE's reconstructions of them
    latent_space.png     the test pictures' codes coloured by class (their two principal axes)
    model.keras, pools.npz

    python examples/images_vae.py                         # the shapes; minutes on 2 cores
    python examples/images_vae.py --images ~/pets --image-size 64 --epochs 30
    keras-vae sample --model runs/images_vae --pool star  # the same pools from the CLI
"""

import argparse
import os
import pathlib
import sys
import time

# TensorFlow's C++ start-up lines say nothing to a reader of this example.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_vae  # noqa: E402
from keras_vae.data import write_shapes_folder  # noqa: E402
from keras_vae.evaluation import Judge  # noqa: E402
from keras_vae.images import new_figure, show_image  # noqa: E402
from keras_vae.samplers import PoolSampler  # noqa: E402

SHAPES_PER_FOLDER = 3600  # generated pictures when no --images folder is given
SAMPLES_PER_POOL = 100  # draws judged per class
SHOWN_PER_POOL = 10  # of which the figure shows
# Chosen by measuring the pools (README, "Your own images"): a weaker KL term (beta 0.1) and
# smaller batches (more steps in the same time) let the codes keep each picture's shape,
# not only its colour, so each class's pool holds its shape.
BETA = 0.1
BATCH_SIZE = 16


# 1. Data -------------------------------------------------------------------------------------


def image_folder(args) -> pathlib.Path:
    """`--images`, or a folder of generated shapes written once under the output folder."""
    if args.images is not None:
        return args.images
    folder = args.output_dir / "shapes_images"
    if not folder.exists():
        print(f"Writing {SHAPES_PER_FOLDER} generated shapes to {folder} (PNG and JPEG)")
        size = args.image_size or 32
        write_shapes_folder(
            folder, SHAPES_PER_FOLDER, image_size=size, seed=args.seed, formats=("png", "jpeg")
        )
    return folder


# 2. Model and pools ----------------------------------------------------------------------------


def train_vae(train_images, args) -> keras_vae.VAE:
    keras.utils.set_random_seed(args.seed)
    vae = keras_vae.VAE(
        input_shape=train_images.shape[1:],
        latent_dim=args.latent_dim,
        beta=args.beta,
        seed=args.seed,
        # The draws come from the class pools below, not from the prior.
        prior="standard_normal",
    )
    vae.compile()
    vae.fit(train_images, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    return vae


def draw_from_pools(vae, pools, class_names, seed: int) -> dict:
    """`SAMPLES_PER_POOL` decoded draws from the pool of each class."""
    return {
        name: vae.sample(SAMPLES_PER_POOL, seed=seed, sampler=PoolSampler(pools, name))
        for name in class_names
    }


def judge_pools(judge, samples: dict, class_names) -> dict:
    """For each class: the share of its pool's draws that the judge calls that class."""
    verdicts = {}
    for name, images in samples.items():
        predicted, _ = judge.classify(images)
        verdicts[name] = float(np.mean(predicted == class_names.index(name)))
    return verdicts


# 3. Figures ----------------------------------------------------------------------------------


def save(figure, path: pathlib.Path) -> pathlib.Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def plot_pool_samples(samples: dict, verdicts: dict, path) -> pathlib.Path:
    rows = len(samples)
    figure = new_figure(1.0 * SHOWN_PER_POOL + 1.8, 1.0 * rows + 0.8)
    figure.suptitle("Draws from each class's pool (judge: share recognised as that class)")
    for row, (name, images) in enumerate(samples.items()):
        for column in range(SHOWN_PER_POOL):
            axis = figure.add_subplot(rows, SHOWN_PER_POOL, row * SHOWN_PER_POOL + column + 1)
            show_image(axis, images[column])
            if column == 0:
                axis.set_ylabel(f"{name}\n{verdicts[name]:.0%}", rotation=0, ha="right")
    return save(figure, path)


def plot_reconstructions(images, reconstructions, path) -> pathlib.Path:
    columns = len(images)
    figure = new_figure(1.0 * columns + 1.6, 2.6)
    figure.suptitle("Test pictures (top) and the VAE's reconstructions (bottom)")
    for row, (label, batch) in enumerate((("input", images), ("VAE", reconstructions))):
        for column in range(columns):
            axis = figure.add_subplot(2, columns, row * columns + column + 1)
            show_image(axis, batch[column])
            if column == 0:
                axis.set_ylabel(label, rotation=0, ha="right")
    return save(figure, path)


def plot_latent_space(codes, labels, class_names, path) -> pathlib.Path:
    """The codes on their two principal axes, one colour per class."""
    centred = codes - codes.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes[:2].T if codes.shape[1] > 2 else centred
    figure = new_figure(6.5, 5.5)
    axis = figure.add_subplot(1, 1, 1)
    for index, name in enumerate(class_names):
        chosen = labels == index
        axis.scatter(*projected[chosen].T, s=6, alpha=0.6, label=name)
    axis.set_title("Test codes coloured by class: where a class gathers, its pool is apart")
    axis.set_xlabel("principal axis 1" if codes.shape[1] > 2 else "z[0]")
    axis.set_ylabel("principal axis 2" if codes.shape[1] > 2 else "z[1]")
    axis.legend(markerscale=3, fontsize="small")
    return save(figure, path)


# 4. The story ----------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=pathlib.Path, default=None, help="Default: shapes.")
    parser.add_argument("--image-size", type=int, default=None, help="Default: 32.")
    parser.add_argument("--epochs", type=int, default=15, help="Default: 15.")
    parser.add_argument("--latent-dim", type=int, default=16, help="Default: 16.")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Default: 16.")
    parser.add_argument(
        "--beta", type=float, default=BETA, help="Weight of the KL term. Default: 0.1."
    )
    parser.add_argument("--seed", type=int, default=0, help="Default: 0.")
    parser.add_argument("--output-dir", type=pathlib.Path, default=pathlib.Path("runs/images_vae"))
    args = parser.parse_args(argv)
    for name in ("epochs", "latent_dim", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be >= 1")
    if not args.beta >= 0:
        parser.error(f"argument --beta: must be >= 0; got {args.beta}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    source = keras_vae.resolve_data_source(
        images=image_folder(args), image_size=args.image_size or 32
    )
    train_images, train_labels = source.arrays("train")
    test_images, test_labels = source.arrays("test")
    names = list(source.class_names)
    print(f"Data: {source.description}: {len(train_images)} train, {len(test_images)} test")

    vae = train_vae(train_images, args)
    pools = keras_vae.LatentPools.fit(vae, train_images, np.asarray(names)[train_labels])
    keras_vae.save_model(vae, args.output_dir / "model.keras", overwrite=True)
    pools.save(args.output_dir / "pools.npz", overwrite=True)

    judge = Judge.fit(train_images, train_labels, epochs=8, seed=args.seed)
    test_predictions, _ = judge.classify(test_images)
    samples = draw_from_pools(vae, pools, names, args.seed)
    verdicts = judge_pools(judge, samples, names)
    print(f"Judge accuracy on real test pictures: {np.mean(test_predictions == test_labels):.1%}")
    # A pool is only as good as what the decoder can draw: how many of the VAE's own
    # reconstructions still show their class bounds what its pools can show.
    rebuilt, _ = judge.classify(vae.reconstruct(test_images))
    print(f"Judge accuracy on the VAE's reconstructions: {np.mean(rebuilt == test_labels):.1%}")
    for name, share in verdicts.items():
        print(f"  {name:>12}: {share:.0%} of {SAMPLES_PER_POOL} pool draws recognised as {name}")

    shown, out = test_images[:10], args.output_dir
    codes = vae.encode(test_images)[0]
    files = [
        plot_pool_samples(samples, verdicts, out / "pool_samples.png"),
        plot_reconstructions(shown, vae.reconstruct(shown), out / "reconstructions.png"),
        plot_latent_space(codes, test_labels, names, out / "latent_space.png"),
    ]
    print(f"Wrote {', '.join(str(f) for f in files)} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
