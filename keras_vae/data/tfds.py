"""TensorFlow Datasets, with a fast, clear failure when the data cannot be downloaded."""

import socket
import urllib.parse

from keras_vae.data.pipeline import DatasetUnavailableError

# TFDS retries a failed download with exponential backoff for minutes; a short connection
# attempt first tells an offline machine apart in seconds.
REACHABILITY_TIMEOUT_S = 5.0


def check_reachable(url: str, timeout: float = REACHABILITY_TIMEOUT_S) -> None:
    """Opens (and closes) a TCP connection to the host of `url`; raises
    `DatasetUnavailableError` naming the host and the reason when that fails.

    Args:
        url: str. The download address whose host is tried.
        timeout: float. Seconds to wait for the connection. Defaults to `5.0`.
    """
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
    except OSError as error:
        raise DatasetUnavailableError(
            f"cannot reach {parsed.hostname}:{port} to download the data ({error})."
        ) from error


def import_tfds(how_to_proceed: str):
    """`tensorflow_datasets`, or `DatasetUnavailableError` when it is not installed."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DatasetUnavailableError(
            f"TensorFlow Datasets is not installed ({error}).", how_to_proceed
        ) from error
    return tfds


def _is_prepared(tfds, name, data_dir) -> bool:
    try:
        return tfds.builder(name, data_dir=data_dir).is_prepared()
    except Exception:  # a builder that cannot even be created will fail again in tfds.load
        return False


def load_tfds(name, split, data_dir, download, how_to_proceed, as_supervised=True):
    """`tfds.load(name, split=split)`, unshuffled; any failure (offline, nothing prepared,
    an unknown name) becomes a `DatasetUnavailableError` saying what failed, followed by
    `how_to_proceed`."""
    tfds = import_tfds(how_to_proceed)
    try:
        if download and not _is_prepared(tfds, name, data_dir):
            builder_class = tfds.builder_cls(name)
            check_reachable(getattr(builder_class, "URL", "https://storage.googleapis.com/"))
        return tfds.load(
            name,
            split=split,
            data_dir=None if data_dir is None else str(data_dir),
            download=download,
            as_supervised=as_supervised,
            shuffle_files=False,
        )
    except Exception as error:
        where = "the default TFDS data directory" if data_dir is None else repr(str(data_dir))
        action = "download and prepare" if download else "find a prepared copy of"
        first_line = str(error).splitlines()[0] if str(error) else ""
        if not isinstance(error, DatasetUnavailableError):
            first_line = f"{type(error).__name__}: {first_line}"
        raise DatasetUnavailableError(
            f"TensorFlow Datasets could not {action} {name!r} in {where}: {first_line}",
            how_to_proceed,
        ) from error
