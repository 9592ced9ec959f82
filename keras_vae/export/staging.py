"""Staging and publishing: files appear in the export directory only once all are written."""

import pathlib
import shutil
import tempfile


def prepare_directory(directory, overwrite, method) -> tuple:
    """Creates `directory` (or checks it may be written) and a staging folder inside it.

    Files are written to the staging folder and moved in only at the end, so an export
    that fails halfway leaves what was there untouched. Returns `(directory, staging,
    created)`.
    """
    if not isinstance(directory, str | pathlib.Path):
        raise TypeError(f"{method} expects `directory` as a str or path; got {directory!r}.")
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{method} expects `directory` as a folder; got the file {directory}.")
    created = not directory.exists()
    if not created and any(directory.iterdir()) and not overwrite:
        raise ValueError(
            f"{method} expects an empty or new `directory`; {directory} already holds files."
            " Pass overwrite=True to replace an earlier export there."
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = pathlib.Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
    except OSError as error:
        raise ValueError(
            f"{method} cannot write to `directory` {directory}: {error.strerror or error}."
        ) from None
    return directory, staging, created


def publish(staging: pathlib.Path, directory: pathlib.Path) -> None:
    """Moves everything in `staging` into `directory`, replacing files of the same name."""
    for item in sorted(staging.iterdir()):
        target = directory / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        item.rename(target)


def clean_up(staging: pathlib.Path, directory: pathlib.Path, created: bool) -> None:
    """Removes the staging folder, and `directory` too when the export created it empty."""
    shutil.rmtree(staging, ignore_errors=True)
    if created and directory.exists() and not any(directory.iterdir()):
        directory.rmdir()
