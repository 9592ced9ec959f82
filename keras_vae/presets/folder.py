"""Preset folders: what `model.save_to_preset(directory)` writes and `from_preset` reads.

    config.json        the class, its Keras config, the versions that wrote it, the files of
                       the folder and free metadata (how the model was trained)
    model.weights.h5   the weights (`Model.save_weights` of an uncompiled twin: no optimizer)
    mixture.json       the fitted sampler, when one was saved (`keras_vae.samplers`)
    pools.npz          the latent pool of each class, when saved (`keras_vae.LatentPools`)

The shape is keras-hub's: the config rebuilds the model, then the weights load into it, so a
preset is readable without unpickling anything, and the class named in `config.json` must be
the calling class or one of its subclasses (`BaseAutoEncoder.from_preset` reads any model).
"""

import copy
import datetime
import json
import os
import pathlib
import shutil
import tempfile

import keras

from keras_vae import run_folder
from keras_vae.presets import configurations
from keras_vae.presets.registry import PRESETS, preset_directory, preset_entry

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
SAMPLER_FILE = run_folder.MIXTURE_FILE
POOLS_FILE = run_folder.POOLS_FILE
FORMAT = "keras_vae.preset"
FORMAT_VERSION = 1


def _set_preset_attributes(model, sampler=None, pools=None, metadata=None) -> None:
    # Plain attributes, outside Keras's tracking: they are not part of the model's state and
    # must not change what `model.save()` writes.
    object.__setattr__(model, "preset_sampler", sampler)
    object.__setattr__(model, "preset_pools", pools)
    object.__setattr__(model, "preset_metadata", dict(metadata or {}))


# Saving --------------------------------------------------------------------------------------


def _check_destination(directory, overwrite: bool, owner: str) -> pathlib.Path:
    if not isinstance(directory, str | os.PathLike):
        raise TypeError(
            f"{owner} expects `directory` as a str or path; got {type(directory).__name__}."
        )
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{owner} expects `directory` as a folder; {directory} is a file.")
    if directory.is_dir() and any(directory.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{owner} will not write into {directory}: the folder is not empty. Pass"
            " overwrite=True to replace it, or choose a new folder."
        )
    return directory


def _check_sampler(model, sampler, owner: str):
    if sampler is None:
        return None
    latent_dim = getattr(sampler, "latent_dim", None)
    if not callable(getattr(sampler, "save", None)) or latent_dim is None:
        raise ValueError(
            f"{owner} expects `sampler` as a keras_vae sampler or GaussianMixture (with"
            f" `latent_dim` and `save(path)`); got {type(sampler).__name__}."
        )
    if int(latent_dim) != model.latent_dim:
        raise ValueError(
            f"{owner} expects `sampler` of latent_dim {model.latent_dim} (the model's); got a"
            f" {type(sampler).__name__} of latent_dim {latent_dim}."
        )
    return sampler


def _check_pools(model, pools, owner: str):
    from keras_vae.latent import LatentPools

    if pools is None:
        return None
    if not isinstance(pools, LatentPools):
        raise ValueError(
            f"{owner} expects `pools` as a keras_vae.LatentPools or None; got"
            f" {type(pools).__name__}."
        )
    if pools.latent_dim != model.latent_dim:
        raise ValueError(
            f"{owner} expects `pools` of latent_dim {model.latent_dim} (the model's); got pools"
            f" of latent_dim {pools.latent_dim}."
        )
    return pools


def _check_metadata(metadata, owner: str) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ValueError(
            f"{owner} expects `metadata` as a dict of JSON values; got {type(metadata).__name__}."
        )
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{owner} expects `metadata` of JSON values; {error}.") from None
    return dict(metadata)


def _serialized_model(model) -> dict:
    serialized = keras.saving.serialize_keras_object(model)
    # A preset is a model to use or fine-tune: the caller compiles it as they like.
    serialized.pop("compile_config", None)
    return serialized


def _write_weights(model, serialized: dict, path: pathlib.Path, owner: str) -> None:
    # `save_weights` of a compiled model also writes the optimizer's slots (three times the
    # file for Adam); an uncompiled twin built from the same config holds the weights only,
    # and building it proves now that the config rebuilds the model, as `from_preset` will.
    try:
        twin = keras.saving.deserialize_keras_object(copy.deepcopy(serialized))
    except Exception as error:
        raise ValueError(
            f"{owner} needs a model that rebuilds from its config (registered classes, a"
            f" complete get_config); rebuilding {type(model).__name__} failed: {error}"
        ) from error
    twin.set_weights(model.get_weights())
    twin.save_weights(path)


# Over our 60-line habit only by its docstring, the public reference of every argument;
# the code itself is short.
def save_to_preset(
    model, directory, sampler=None, pools=None, metadata=None, overwrite: bool = False
) -> pathlib.Path:
    """Writes `model` as a preset folder that `from_preset(directory)` reads back.

    The folder is written beside its destination and renamed into place when complete, so an
    interrupted save leaves no half-written preset.

    Args:
        model: a `keras_vae` model (`VAE`, `ConditionalVAE`, `AutoEncoder`, ...).
        directory: str or path. The folder to write; new or empty unless `overwrite=True`.
        sampler: a `keras_vae.samplers` sampler, a `GaussianMixture`, or None. Written as
            `mixture.json`; `from_preset` gives it back as `model.preset_sampler`.
            Defaults to `None`.
        pools: `keras_vae.LatentPools` or None. Written as `pools.npz`. Defaults to `None`.
        metadata: dict of JSON values or None: how the model was trained (command, seed,
            epochs, measured quality). Kept in `config.json`. Defaults to `None`.
        overwrite: bool. Whether to replace a non-empty folder. Defaults to `False`.

    Returns:
        The path of the folder.
    """
    import keras_vae

    owner = f"{type(model).__name__}.save_to_preset()"
    directory = _check_destination(directory, overwrite, owner)
    sampler = _check_sampler(model, sampler, owner)
    pools = _check_pools(model, pools, owner)
    user_metadata = _check_metadata(metadata, owner)
    serialized = _serialized_model(model)
    files = {"weights": WEIGHTS_FILE}
    if sampler is not None:
        files["sampler"] = SAMPLER_FILE
    if pools is not None:
        files["pools"] = POOLS_FILE
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class_name": type(model).__name__,
        "registered_name": serialized.get("registered_name"),
        "keras_vae_version": keras_vae.__version__,
        "keras_version": keras.__version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "parameter_count": int(model.count_params()),
        "files": files,
        "metadata": user_metadata,
        "model": serialized,
    }
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        _write_weights(model, serialized, staging / WEIGHTS_FILE, owner)
        if sampler is not None:
            sampler.save(staging / SAMPLER_FILE)
        if pools is not None:
            pools.save(staging / POOLS_FILE)
        (staging / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")
        _publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def _publish(staging: pathlib.Path, directory: pathlib.Path) -> None:
    """Renames the complete `staging` folder to `directory`, replacing what was there."""
    staging.chmod(0o755)  # mkdtemp's 0o700 would hide the preset from other users.
    if directory.exists():
        retired = directory.with_name(f".{directory.name}.replaced-{os.getpid()}")
        directory.rename(retired)
        staging.rename(directory)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(directory)


# Loading -------------------------------------------------------------------------------------


def _required_file(directory: pathlib.Path, name: str, owner: str) -> pathlib.Path:
    path = directory / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{owner} found no {name} in the preset folder {directory}; a preset folder holds"
            f" {CONFIG_FILE} and the files it lists (save_to_preset() writes them)."
        )
    return path


def _read_document(directory: pathlib.Path, owner: str) -> dict:
    path = _required_file(directory, CONFIG_FILE, owner)
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{owner}: {path} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ValueError(
            f"{owner} expects {path} to be a keras_vae preset config (format {FORMAT!r}, written"
            f" by save_to_preset()); got format {found!r}."
        )
    if document.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{owner} reads preset format version {FORMAT_VERSION}; {path} has version"
            f" {document['format_version']}, from a newer keras_vae"
            f" ({document.get('keras_vae_version')}). Upgrade keras_vae."
        )
    return document


def _check_class(cls, document: dict, path: pathlib.Path, owner: str) -> None:
    registered = document.get("registered_name")
    found = keras.saving.get_registered_object(registered) if registered else None
    if found is None:
        raise ValueError(
            f"{owner}: {path} holds a {document.get('class_name')!r} ({registered!r}), a class"
            " keras_vae does not know; import the module that registers it first."
        )
    if not (isinstance(found, type) and issubclass(found, cls)):
        raise ValueError(
            f"{owner} expects a preset of {cls.__name__} or a subclass; {path} holds a"
            f" {found.__name__}. Call {found.__name__}.from_preset() (or"
            f" keras_vae.BaseAutoEncoder.from_preset() for any model)."
        )


def _with_overrides(serialized: dict, overrides: dict, path: pathlib.Path, owner: str) -> dict:
    serialized = copy.deepcopy(serialized)
    config = serialized["config"]
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(
            f"{owner} expects overrides among the saved config's keys {sorted(config)} ({path});"
            f" got {', '.join(f'`{name}`' for name in unknown)}."
        )
    config.update(overrides)
    return serialized


def _weight_shapes(path) -> dict:
    """Dataset path -> shape of every model array in a Keras `.weights.h5` file (an
    optimizer's slots, which a compiled model's `save_weights` adds, are not the model's)."""
    import h5py

    shapes = {}

    def record(name, item):
        if isinstance(item, h5py.Dataset) and not name.startswith("optimizer/"):
            shapes[name] = tuple(item.shape)

    with h5py.File(path, "r") as file:
        file.visititems(record)
    return shapes


def _check_weights(model, path: pathlib.Path, owner: str) -> None:
    """Raises a `ValueError` naming the first arrays of the file that do not fit `model`."""
    with tempfile.TemporaryDirectory() as scratch:
        expected_path = pathlib.Path(scratch) / WEIGHTS_FILE
        model.save_weights(expected_path)
        expected = _weight_shapes(expected_path)
    try:
        found = _weight_shapes(path)
    except OSError as error:
        raise ValueError(f"{owner}: {path} is not a Keras weights file: {error}") from None
    if found == expected:
        return
    problems = []
    for name in sorted(set(expected) | set(found)):
        if expected.get(name) != found.get(name):
            want = expected.get(name, "nothing")
            got = found.get(name, "nothing")
            problems.append(f"{name}: expected {want}, got {got}")
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    shown = "; ".join(problems[:3]) + more
    raise ValueError(
        f"{owner}: {path} does not hold the weights of this {type(model).__name__} (latent_dim"
        f" {model.latent_dim}, {len(expected)} arrays expected from {CONFIG_FILE}; the file has"
        f" {len(found)}): {shown}."
    )


def _read_sampler(model, path: pathlib.Path, owner: str):
    from keras_vae.samplers import load_sampler

    try:
        return load_sampler(path, model.latent_dim)
    except ValueError as error:
        message = f"{owner}: the preset's {path.name} ({path}) does not fit: {error}"
        raise ValueError(message) from None


def load_preset_folder(cls, directory, overrides: dict, owner: str):
    """The trained model of the preset folder `directory`, with its sampler and pools."""
    from keras_vae.latent import LatentPools

    directory = pathlib.Path(directory)
    document = _read_document(directory, owner)
    config_path = directory / CONFIG_FILE
    _check_class(cls, document, config_path, owner)
    files = document.get("files", {})
    paths = {role: _required_file(directory, name, owner) for role, name in files.items()}
    if "weights" not in paths:
        raise ValueError(f"{owner}: {config_path} lists no weights file; got files {files}.")
    serialized = _with_overrides(document["model"], overrides, config_path, owner)
    try:
        model = keras.saving.deserialize_keras_object(serialized)
    except Exception as error:
        changed = f" with the overrides {sorted(overrides)}" if overrides else ""
        raise ValueError(
            f"{owner} could not build the {document.get('class_name')} of {config_path}"
            f"{changed}: {error}"
        ) from error
    _check_weights(model, paths["weights"], owner)
    model.load_weights(paths["weights"])
    sampler = _read_sampler(model, paths["sampler"], owner) if "sampler" in paths else None
    pools = LatentPools.load(paths["pools"], model=model) if "pools" in paths else None
    metadata = {
        key: document.get(key)
        for key in ("keras_vae_version", "keras_version", "date_saved", "parameter_count")
    }
    metadata.update(document.get("metadata", {}), directory=str(directory))
    _set_preset_attributes(model, sampler, pools, metadata)
    return model


def from_preset(cls, preset, **overrides):
    """`cls.from_preset(preset, **overrides)`: see `keras_vae.BaseAutoEncoder.from_preset`."""
    shown = os.fspath(preset) if isinstance(preset, str | os.PathLike) else preset
    owner = f"{cls.__name__}.from_preset({shown!r})"
    if not (isinstance(preset, str) and preset in PRESETS):
        if isinstance(preset, str | os.PathLike) and pathlib.Path(preset).is_dir():
            return load_preset_folder(cls, preset, overrides, owner)
        if isinstance(preset, os.PathLike) or (isinstance(preset, str) and os.sep in preset):
            raise FileNotFoundError(
                f"{owner} found no preset folder at {os.fspath(preset)}; the known presets are"
                f" {list(PRESETS)}."
            )
    entry = preset_entry(preset, owner)  # an unknown name raises, listing the known ones
    if "directory" in entry:
        model = load_preset_folder(cls, preset_directory(preset), overrides, owner)
        model.preset_metadata["preset"] = preset
        return model
    model = configurations.build(preset, owner, **overrides)
    if not isinstance(model, cls):
        raise ValueError(
            f"{owner} expects a preset of {cls.__name__}; the configuration {preset!r} builds a"
            f" {type(model).__name__}. Call {type(model).__name__}.from_preset()."
        )
    _set_preset_attributes(model, metadata={"preset": preset, "description": entry["description"]})
    return model
