"""The run folder: the one layout that `keras-vae train` and `examples/mnist_vae.py` write and
that every `keras-vae` command (`sample`, `evaluate`, `export`) reads.

    model.keras     the trained model (`keras_vae.load_model`)
    pools.npz       the latent pool of each class (`LatentPools`), when the data has labels
    mixture.json    a Gaussian mixture fitted to the training codes (`GaussianMixtureSampler`)
    history.json    the training history (`History.history`: a list per metric)

A folder may hold more (the example adds its figures, `autoencoder.keras`, TensorBoard logs
and `export/`). Folders written before this layout keep loading: their model may be
`vae.keras` (the example's name until then).

Example:
```python
from keras_vae import run_folder

run_folder.write_pools(vae, images, labels, "runs/vae")
pools = run_folder.read_pools("runs/vae", model=vae)
```
"""

import json
import pathlib

# Defined in the command line's TensorFlow-free half, whose help names them before TensorFlow.
from keras_vae_cli.names import HISTORY_FILE, MIXTURE_FILE, MODEL_FILE, POOLS_FILE

WRITERS = "`keras-vae train` and examples/mnist_vae.py write one"


def model_path(folder) -> pathlib.Path:
    """The model file of the run folder `folder` (see `keras_vae.saving.resolve_model_path`)."""
    from keras_vae import saving

    return saving.resolve_model_path(folder)


def folder_of(path) -> pathlib.Path:
    """The run folder of `path`: itself when it is a folder, else the folder of the file."""
    path = pathlib.Path(path)
    return path if path.is_dir() else path.parent


def write_model(model, folder, overwrite: bool = False) -> pathlib.Path:
    """Saves `model` as the folder's `model.keras`, atomically (`saving.save_model`)."""
    from keras_vae import saving

    return saving.save_model(model, pathlib.Path(folder) / MODEL_FILE, overwrite=overwrite)


def write_pools(
    model, images, labels, folder, class_names=None, overwrite: bool = False
) -> pathlib.Path:
    """Fits the latent pool of each class to `images` and writes `pools.npz`.

    The pools are keyed by `class_names[label]` where the data has names (`--pool dog`) and
    by the labels otherwise (`--pool 7`); a conditional model keeps the labels, which its
    decoder takes.

    Args:
        model: the trained model whose encoder gives the codes.
        images: array `(n, *model.image_shape)`.
        labels: array `(n,)` of int class labels.
        folder: str or path of the run folder.
        class_names: None or a sequence of str, one per class. Defaults to `None`.
        overwrite: bool. Whether to replace an existing `pools.npz`. Defaults to `False`.
    """
    import numpy as np

    from keras_vae.latent import LatentPools

    keys = np.asarray(labels)
    if class_names is not None and not model.is_conditional:
        keys = np.asarray(class_names)[keys]
    path = pathlib.Path(folder) / POOLS_FILE
    LatentPools.fit(model, images, keys).save(path, overwrite=overwrite)
    return path


def write_mixture(mixture, folder, overwrite: bool = False) -> pathlib.Path:
    """Writes the fitted `GaussianMixtureSampler` as the folder's `mixture.json`."""
    return pathlib.Path(mixture.save(pathlib.Path(folder) / MIXTURE_FILE, overwrite=overwrite))


def write_history(history: dict, folder) -> pathlib.Path:
    """Writes `history` (a `History.history`: metric name -> list of numbers) as
    `history.json`, atomically."""
    from keras_vae import saving

    if not isinstance(history, dict):
        raise TypeError(
            f"write_history() expects `history` as a dict of metric -> list (a"
            f" History.history); got {type(history).__name__}."
        )
    record = json.dumps({key: [float(v) for v in values] for key, values in history.items()})
    return saving.atomic_write(
        pathlib.Path(folder) / HISTORY_FILE, lambda path: path.write_text(record)
    )


def _existing(folder, name: str, path=None, option: str | None = None) -> pathlib.Path:
    path = pathlib.Path(path) if path is not None else folder_of(folder) / name
    if not path.is_file():
        kind = name.split(".")[0]
        other = f", or pass {option}" if option else ""
        raise FileNotFoundError(f"no {kind} file at {path}; {WRITERS} ({name}){other}")
    return path


def read_pools(folder, model, path=None):
    """The `LatentPools` of the run folder (or of the file `path`), bound to `model`.

    Raises:
        FileNotFoundError: the folder holds no `pools.npz`; the message names the file,
            what writes it, and the option that names another.
    """
    from keras_vae.latent import LatentPools

    return LatentPools.load(_existing(folder, POOLS_FILE, path, "--pools"), model=model)


def read_mixture(folder, model, path=None):
    """The `GaussianMixtureSampler` of the run folder (or of the file `path`) for `model`'s
    latent size; raises `FileNotFoundError` like `read_pools`."""
    from keras_vae.samplers import load_sampler

    return load_sampler(_existing(folder, MIXTURE_FILE, path, "--mixture"), model.latent_dim)


def read_history(folder) -> dict:
    """The training history of the run folder: metric name -> list of floats."""
    path = _existing(folder, HISTORY_FILE)
    try:
        history = json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not a history file (JSON): {error}") from None
    if not isinstance(history, dict):
        raise ValueError(
            f"{path} is not a history file: expected a JSON object of metric -> list; got"
            f" {type(history).__name__}."
        )
    return history
