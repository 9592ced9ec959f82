"""Saving and loading that fail safely: atomic writes, and clear errors for bad files.

`save_model` writes a `.keras` file under a temporary name in the target folder and renames
it into place only once it is complete, so a save interrupted at any point (a crash, a full
disk, the process killed) leaves the previous file, or no file, under the real name, never a
half-written one. It also refuses to save a model whose weights hold NaN or infinity, so a
diverged run cannot overwrite a good model.

`load_model` opens the three kinds of file the package writes: a `.keras` file (in Keras's
`safe_mode`, so no code from lambda layers runs; the package's classes are registered, so
no `custom_objects` are needed), a `.tflite` file (checked by building a LiteRT interpreter)
and a SavedModel folder. Anything that cannot be loaded, a truncated or corrupt file, a
`.keras` file that needs classes of another package, a folder that is not a SavedModel,
raises `ModelFileError` naming the file and what is wrong with it. `resolve_model_path`
turns a run folder into its model file, for the command line and export.

In a fresh process, `keras_vae.load_model(path)` is the one line that loads a saved model:
`keras.saving.load_model` finds the package's classes only once `keras_vae` is imported
(Keras resolves registered names, `keras_vae>VAE`, from packages already loaded).

Example:
<!-- skip: needs an exported decoder_int8.tflite -->
```python
keras_vae.saving.save_model(vae, "runs/vae.keras")
vae = keras_vae.saving.load_model("runs/vae.keras")
interpreter = keras_vae.saving.load_model("export/decoder_int8.tflite")
```
"""

import contextlib
import json
import os
import pathlib
import stat
import tempfile
import zipfile
from collections.abc import Callable

import keras
import numpy as np

from keras_vae_cli.names import MODEL_FILE_NAMES

KERAS_SUFFIX = ".keras"
TFLITE_SUFFIX = ".tflite"
# Every TFLite flatbuffer carries this file identifier at bytes 4 to 8.
_TFLITE_IDENTIFIER = b"TFL3"
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


class ModelFileError(ValueError):
    """A model file or folder that cannot be loaded; the message names it and says why.

    Attributes:
        path: the `pathlib.Path` of the file or folder.
    """

    def __init__(self, path, message: str):
        super().__init__(message)
        self.path = pathlib.Path(path)


# Writing ---------------------------------------------------------------------------------


def _as_path(path, name: str, method: str) -> pathlib.Path:
    if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"{method} expects `{name}` as a str or path; got {path!r}.")
    if not os.fspath(path):
        raise ValueError(f"{method} expects `{name}` as a non-empty path; got ''.")
    return pathlib.Path(path)


def _fsync_directory(directory: pathlib.Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _default_file_mode() -> int:
    # What a plain open() would give under the current umask; Python 3.11 can read the umask
    # only by setting it, so it is set back at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write: Callable[[pathlib.Path], None], suffix: str = "") -> pathlib.Path:
    """Calls `write(temporary_path)`, then renames the temporary file to `path`.

    The temporary file lies in the folder of `path` (a rename is atomic only within one file
    system) and ends with `suffix`, for writers that check the extension. If `write` raises,
    or the process is interrupted, `path` keeps its previous content. Returns `path`.

    Raises:
        OSError: the file system refused (a full disk, a read-only folder, a missing
            permission); the message names `path`, the reason, and says that the previous
            file is untouched. `errno` is that of the original error.
    """
    path = _as_path(path, "path", "atomic_write()")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent
        )
    except OSError as error:
        raise _write_error(path, error, existed) from error
    os.close(descriptor)
    temporary = pathlib.Path(temporary)
    try:
        write(temporary)
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        # mkstemp makes the file readable by its owner only; the result gets the usual mode.
        os.chmod(temporary, _default_file_mode())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(error, OSError):
            raise _write_error(path, error, existed) from error
        raise
    _fsync_directory(path.parent)
    return path


def _write_error(path: pathlib.Path, error: OSError, existed: bool) -> OSError:
    """The file-system error of a failed atomic write, naming the file and what was kept."""
    reason = error.strerror or str(error)
    kept = (
        f"the previous {path.name} is untouched"
        if existed
        else f"no {path.name} was written, and nothing was there before"
    )
    return OSError(error.errno, f"Could not write {path}: {reason}; {kept}.")


def non_finite_variables(model) -> list[str]:
    """Paths of the model's variables that hold NaN or infinity (empty when all are finite)."""
    return [
        variable.path
        for variable in model.variables
        if np.issubdtype(np.dtype(variable.dtype), np.floating)
        and not np.isfinite(keras.ops.convert_to_numpy(variable)).all()
    ]


def save_model(model, path, overwrite: bool = False) -> pathlib.Path:
    """Saves `model` to the `.keras` file `path` atomically; returns the path.

    Args:
        model: a `keras.Model`, e.g. a `VAE`.
        path: str or path ending in `.keras`. Missing parent folders are created.
        overwrite: bool. Whether to replace an existing file. Defaults to `False`.

    Raises:
        ValueError: `path` exists and `overwrite` is False, or is a folder, or the model's
            weights hold NaN or infinity (a diverged model never replaces a good file).
    """
    method = "save_model()"
    if not isinstance(model, keras.Model):
        raise TypeError(f"{method} expects `model` as a keras.Model; got {type(model).__name__}.")
    path = _as_path(path, "path", method)
    if path.suffix != KERAS_SUFFIX:
        raise ValueError(f"{method} expects `path` ending in '.keras'; got {str(path)!r}.")
    if path.is_dir():
        raise ValueError(f"{method} expects `path` as a file; got the folder {path}.")
    if path.exists() and not overwrite:
        raise ValueError(
            f"{method} would replace the existing file {path}; pass overwrite=True to replace it."
        )
    bad = non_finite_variables(model)
    if bad:
        raise ValueError(
            f"{method} refuses to save `model` to {path}: its weights hold NaN or infinity"
            f" ({', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''}). The model has"
            " diverged; the file on disk, if any, is left as it was."
        )

    def write(temporary: pathlib.Path) -> None:
        model.save(temporary, overwrite=True)
        # Reads the archive back once: a write that failed silently never gets renamed in.
        with zipfile.ZipFile(temporary) as archive:
            broken = archive.testzip()
        if broken is not None:
            raise OSError(f"the archive written for {path} is corrupt ({broken}).")

    return atomic_write(path, write, suffix=KERAS_SUFFIX)


# Loading ---------------------------------------------------------------------------------


def load_model(path, compile: bool = True):
    """Loads a `.keras` file, a `.tflite` file or a SavedModel folder, checking it first.

    Args:
        path: str or path of the file or folder.
        compile: bool. For `.keras` files, whether to restore the compiled state (the
            optimizer and its state, to resume training). Defaults to `True`.

    Returns:
        The `keras.Model` for a `.keras` file, a LiteRT `Interpreter` with its tensors
        allocated for a `.tflite` file, or the object `tf.saved_model.load` returns for a
        SavedModel folder.

    Raises:
        FileNotFoundError: nothing exists at `path`.
        ModelFileError: (a `ValueError`) the file or folder cannot be loaded; the message
            names it and says why.
    """
    path = _as_path(path, "path", "load_model()")
    if not path.exists():
        raise FileNotFoundError(f"load_model() found no file or folder at `path` {path}.")
    if path.is_dir():
        return load_saved_model(path)
    if path.suffix == KERAS_SUFFIX:
        return load_keras(path, compile=compile)
    if path.suffix == TFLITE_SUFFIX:
        return load_tflite(path)
    raise ModelFileError(
        path,
        f"load_model() cannot load {path}: expected a '.keras' file, a '.tflite' file or a"
        f" SavedModel folder; got a file ending in {path.suffix or '(no extension)'!r}.",
    )


def resolve_model_path(path) -> pathlib.Path:
    """The `.keras` file that `path` names: a file is itself; a run folder
    (`keras_vae.run_folder`) gives its `model.keras`, else its `vae.keras` (what the example
    wrote before the layout was shared).

    Raises:
        FileNotFoundError: nothing exists at `path`, or the folder holds neither file; the
            message names what was looked for.
    """
    path = _as_path(path, "path", "resolve_model_path()")
    if path.is_dir():
        for name in MODEL_FILE_NAMES:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(
            f"resolve_model_path() found no model in the folder {path}: looked for"
            f" {' and '.join(MODEL_FILE_NAMES)}. Pass the .keras file itself."
        )
    if not path.exists():
        raise FileNotFoundError(f"resolve_model_path() found no file or folder at {path}.")
    return path


def _regular_file(path: pathlib.Path, kind: str) -> None:
    # A FIFO or a device would block or stream forever once opened; refuse before opening.
    if not path.exists():
        raise FileNotFoundError(f"No {kind} file at {path}.")
    if not stat.S_ISREG(path.stat().st_mode):
        raise ModelFileError(path, f"{path} is not a regular file, so it is not a {kind} file.")


def _unregistered_classes(config) -> list[str]:
    """Registered names (`package>Class`) in a saved config that this process cannot resolve."""
    missing = []
    if isinstance(config, dict):
        name = config.get("registered_name")
        if (
            isinstance(name, str)
            and ">" in name
            and "class_name" in config
            and keras.saving.get_registered_object(name) is None
        ):
            missing.append(name)
        for value in config.values():
            missing.extend(_unregistered_classes(value))
    elif isinstance(config, list):
        for value in config:
            missing.extend(_unregistered_classes(value))
    return missing


def load_keras(path, compile: bool = True) -> keras.Model:
    """Loads a `.keras` file in Keras's `safe_mode`; see `load_model`."""
    path = _as_path(path, "path", "load_keras()")
    _regular_file(path, "'.keras'")
    try:
        with zipfile.ZipFile(path) as archive:
            # Checks every member's CRC, so truncation or corruption anywhere shows here.
            broken = archive.testzip()
            if broken is not None:
                raise zipfile.BadZipFile(f"member {broken!r} fails its checksum")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as error:
        raise ModelFileError(
            path,
            f"{path} is not a readable '.keras' file (truncated or corrupt?): {error}.",
        ) from error
    missing = sorted(set(_unregistered_classes(config)))
    if missing:
        packages = sorted({name.split(">")[0] for name in missing})
        raise ModelFileError(
            path,
            f"{path} was saved with classes of another package that are not registered here:"
            f" {', '.join(missing)}. Import the package that defines them"
            f" ({', '.join(packages)}) before loading; keras_vae registers only its own.",
        )
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:
        raise ModelFileError(
            path, f"{path} could not be loaded as a Keras model: {type(error).__name__}: {error}"
        ) from error


def load_tflite(path, **interpreter_kwargs):
    """Builds a LiteRT `Interpreter` for the `.tflite` file `path` and allocates its tensors.

    Raises `ModelFileError` naming the file when it is not a complete TFLite model; the
    interpreter verifies the flatbuffer while building, so a truncated file fails there.
    """
    from ai_edge_litert.interpreter import Interpreter

    path = _as_path(path, "path", "load_tflite()")
    _regular_file(path, "'.tflite'")
    with open(path, "rb") as f:
        header = f.read(8)
    if len(header) < 8 or header[4:8] != _TFLITE_IDENTIFIER:
        raise ModelFileError(
            path,
            f"{path} is not a TFLite model: it lacks the 'TFL3' identifier of a TFLite"
            f" flatbuffer (first bytes {header!r}).",
        )
    try:
        interpreter = Interpreter(model_path=str(path), **interpreter_kwargs)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ModelFileError(
            path, f"{path} is not a valid TFLite model (truncated or corrupt?): {error}"
        ) from error
    return interpreter


def load_saved_model(path):
    """Loads the SavedModel folder `path` with `tf.saved_model.load`, checking it first."""
    import tensorflow as tf

    path = _as_path(path, "path", "load_saved_model()")
    if not path.is_dir():
        raise ModelFileError(path, f"{path} is not a folder, so it is not a SavedModel.")
    if not any((path / name).is_file() for name in _SAVED_MODEL_FILES):
        nested = [p.parent for p in sorted(path.glob("*/saved_model.pb"))]
        hint = f" Did you mean {nested[0]}?" if nested else ""
        raise ModelFileError(
            path,
            f"{path} is not a SavedModel folder: it holds no saved_model.pb.{hint}",
        )
    try:
        return tf.saved_model.load(str(path))
    except Exception as error:
        raise ModelFileError(
            path, f"{path} could not be loaded as a SavedModel: {type(error).__name__}: {error}"
        ) from error
