"""`NaNGuard`: stop at the first non-finite loss, metric or weight, before anything is saved."""

import math

import keras
import numpy as np

from keras_vae import saving


class NonFiniteLossError(RuntimeError):
    """Raised when a loss or metric becomes NaN or infinite during training.

    A `RuntimeError`, as `keras.callbacks.TerminateOnNaN(raise_error=True)` raises.

    Attributes:
        epoch: int. The epoch, counted from 1 as the progress bar shows it.
        step: int or None. The step within the epoch, counted from 1; None when the value
            was found at the end of the epoch (e.g. a validation loss).
        name: str. The log entry (e.g. `"loss"`) or variable that is not finite.
        value: float. The value found.

    Args:
        message: str. The error message.
        epoch: int. The epoch at which the value became non-finite.
        step: int or None. The step within that epoch.
        name: str. The loss or metric that became non-finite.
        value: float. Its value (NaN or infinite).
    """

    def __init__(self, message, epoch, step, name, value):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.name = name
        self.value = value


def _first_non_finite(logs) -> tuple | None:
    for name, value in (logs or {}).items():
        try:
            number = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number):
            return name, number
    return None


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """Stops training at the first NaN or infinite loss with an error naming epoch and step.

    `keras.callbacks.TerminateOnNaN` watches `loss` after each batch; this guard watches every
    logged value (each loss term of the VAE), the epoch's logs (validation losses) and, at the
    end of each epoch, the weights themselves (a NaN gradient can spoil the weights one batch
    before it shows in a loss). It always raises `NonFiniteLossError`, as
    `TerminateOnNaN(raise_error=True)` does, rather than setting `stop_training`: a graceful
    stop still runs every callback's `on_epoch_end` and `on_train_end`, which would save the
    diverged weights over the last good checkpoint and delete the backup needed to resume.
    Put it first in the callback list, so it runs before any callback that saves.

    Args:
        kept_files: list of paths. The checkpoints the message says are kept intact.
            Defaults to `()`.

    Example:
    ```python
    checkpoint = keras_vae.callbacks.AtomicCheckpoint(last_path="last.keras")
    vae.fit(x, epochs=10, callbacks=[keras_vae.callbacks.NaNGuard(), checkpoint])
    ```
    """

    def __init__(self, kept_files=()):
        super().__init__(raise_error=True)
        self.kept_files = [str(path) for path in kept_files]
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        found = _first_non_finite(logs)
        if found is not None:
            self._stop(*found, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        found = _first_non_finite(logs)
        if found is None:
            bad = saving.non_finite_variables(self.model)
            if bad:
                found = (f"weight {bad[0]}", float("nan"))
        if found is not None:
            self._stop(*found, step=None)

    def _stop(self, name, value, step):
        self.model.stop_training = True
        epoch = self._epoch + 1
        where = f"epoch {epoch}, step {step}" if step is not None else f"the end of epoch {epoch}"
        kept = (
            f" The last good checkpoints are kept intact: {', '.join(self.kept_files)}."
            if self.kept_files
            else ""
        )
        raise NonFiniteLossError(
            f"Training stopped: `{name}` became {value} at {where} (counted from 1). The"
            f" weights in memory are no longer finite; nothing was saved after this"
            f" point.{kept} Lower the learning rate or check the data, then resume.",
            epoch=epoch,
            step=step,
            name=name,
            value=value,
        )
