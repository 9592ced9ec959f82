"""Steps the commands share: the data, the one model loader, the output folder, one-line
errors."""

import pathlib

from keras_vae import data as vae_data
from keras_vae import run_folder, saving


class CommandError(Exception):
    """A problem the user can fix, reported as one line without a traceback."""


def resolve_data(args) -> vae_data.DataSource:
    """The data source of `--dataset`, `--data-dir`, and of `--images`, `--image-size` and
    `--color-mode` where the command has them; `auto` prints its one fallback line."""
    options = {}
    if hasattr(args, "images"):
        options = {
            "images": args.images,
            "image_size": args.image_size,
            "color_mode": args.color_mode,
        }
    try:
        return vae_data.resolve_data_source(args.dataset, args.data_dir, **options)
    except (vae_data.DatasetUnavailableError, ImportError) as error:
        raise CommandError(" ".join(str(error).split())) from None


def load_model(path):
    """The model of `--model`: a `.keras` file, or a run folder (`saving.resolve_model_path`),
    loaded by `keras_vae.saving.load_keras`; any failure is a `CommandError` naming the file.

    Args:
        path: str or Path. A `.keras` file or a run folder.
    """
    try:
        return saving.load_keras(saving.resolve_model_path(path), compile=False)
    except (FileNotFoundError, saving.ModelFileError) as error:
        raise CommandError(" ".join(str(error).split())) from None


def prepare_output(directory, names, overwrite: bool) -> pathlib.Path:
    """Creates `directory`; refuses when it holds any of `names` and `overwrite` is off.

    Args:
        directory: str or Path. The output folder, created if missing.
        names: iterable of str. The files the command will write.
        overwrite: bool. Whether existing files of `names` may be replaced.
    """
    directory = pathlib.Path(directory)
    existing = [name for name in names if (directory / name).exists()]
    if existing and not overwrite:
        raise CommandError(
            f"{directory} already holds {', '.join(existing)}; pass --overwrite to replace them"
        )
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def read_mixture(args, model, folder: pathlib.Path):
    """The Gaussian mixture of `--mixture`, else the run folder's (`keras_vae.run_folder`)."""
    try:
        return run_folder.read_mixture(folder, model, path=args.mixture)
    except FileNotFoundError as error:
        raise CommandError(str(error)) from None


def read_pools(args, model, folder: pathlib.Path):
    """The latent pools of `--pools`, else the run folder's, bound to the model."""
    try:
        return run_folder.read_pools(folder, model, path=args.pools)
    except FileNotFoundError as error:
        raise CommandError(str(error)) from None
