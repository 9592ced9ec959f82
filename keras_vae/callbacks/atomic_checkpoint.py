"""`AtomicCheckpoint`: the last and the best model as `.keras` files, never torn, never NaN."""

import json
import math
import pathlib
import warnings

import keras
import numpy as np

from keras_vae import saving


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the last and the best model as `.keras` files at the end of each epoch.

    Each file is written to a temporary name and renamed into place (see
    `keras_vae.saving.save_model`), so a crash during a save leaves the previous file
    intact; a model whose weights are not finite is never written. The best value of
    `monitor` is kept in a small JSON file beside `best_path`, so a resumed run replaces the
    best model only with a better one.

    Args:
        last_path: str, path or None. Rewritten after every epoch. Defaults to `None`.
        best_path: str, path or None. Rewritten when `monitor` improves. Defaults to `None`.
        monitor: str. The log entry to minimise; when the epoch logs lack it (no validation
            data), `"loss"` is used. Defaults to `"val_loss"`.

    Example:
    ```python
    checkpoint = keras_vae.callbacks.AtomicCheckpoint("last.keras", "best.keras")
    ```
    """

    def __init__(self, last_path=None, best_path=None, monitor: str = "val_loss"):
        super().__init__()
        if last_path is None and best_path is None:
            raise ValueError("AtomicCheckpoint expects `last_path` or `best_path`; got neither.")
        for name, path in (("last_path", last_path), ("best_path", best_path)):
            if path is not None and not str(path).endswith(saving.KERAS_SUFFIX):
                raise ValueError(
                    f"AtomicCheckpoint expects `{name}` ending in '.keras'; got {path!r}."
                )
        if not isinstance(monitor, str):
            raise TypeError(f"AtomicCheckpoint expects `monitor` as a str; got {monitor!r}.")
        self.last_path = None if last_path is None else pathlib.Path(last_path)
        self.best_path = None if best_path is None else pathlib.Path(best_path)
        self.monitor = monitor
        self.best = math.inf
        self._warned = False

    @property
    def _best_record(self) -> pathlib.Path:
        return self.best_path.with_name(self.best_path.name + ".json")

    def on_train_begin(self, logs=None):
        self.best = math.inf
        if self.best_path is not None and self.best_path.exists() and self._best_record.exists():
            try:
                record = json.loads(self._best_record.read_text())
                if record.get("monitor") == self.monitor:
                    self.best = float(record["value"])
            except (OSError, ValueError, KeyError, TypeError):
                warnings.warn(
                    f"AtomicCheckpoint could not read {self._best_record}; the next epoch's"
                    f" model replaces {self.best_path}.",
                    stacklevel=2,
                )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.last_path is not None:
            saving.save_model(self.model, self.last_path, overwrite=True)
        if self.best_path is None:
            return
        monitor = self.monitor if self.monitor in logs else "loss"
        if monitor != self.monitor and not self._warned:
            self._warned = True
            warnings.warn(
                f"AtomicCheckpoint found no {self.monitor!r} in the logs; keeping the model"
                " with the lowest 'loss' instead.",
                stacklevel=2,
            )
        value = float(np.asarray(logs.get(monitor, math.nan)))
        if math.isfinite(value) and value < self.best:
            self.best = value
            saving.save_model(self.model, self.best_path, overwrite=True)
            record = json.dumps({"monitor": self.monitor, "value": value, "epoch": epoch + 1})
            saving.atomic_write(self._best_record, lambda path: path.write_text(record))
