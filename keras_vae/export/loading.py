"""Loading the model to export from a `.keras` file or a training run directory."""

from keras_vae import saving


def load_model_for_export(path):
    """Loads a `.keras` model file, or the model of a run directory (its `model.keras`, else
    `vae.keras`, through `keras_vae.saving.resolve_model_path`), for export.

    Raises `FileNotFoundError` when nothing is there, `ValueError` (a
    `keras_vae.saving.ModelFileError` for unreadable files) naming the path otherwise.

    Args:
        path: str or Path. A `.keras` file or a run folder.
    """
    path = saving.resolve_model_path(path)
    if path.suffix != saving.KERAS_SUFFIX:
        raise ValueError(f"load_model_for_export() expects a Keras `.keras` file; got {path.name}.")
    return saving.load_model(path, compile=False)
