"""Callbacks for training runs that survive what happens in practice.

- `NaNGuard` stops training at the first NaN or infinite loss (or metric) with an error that
  names the epoch and step, before any other callback can save the diverged weights.
- `AtomicCheckpoint` writes the last and the best model as `.keras` files atomically and
  never writes non-finite weights.
- `ResumableBackup` is `keras.callbacks.BackupAndRestore` made exact and atomic: an
  interrupted run, killed at any point, resumes at the batch where its last backup was taken,
  so it ends with the same weights as an uninterrupted run.
- `reliable_callbacks` builds the three in the order that makes those guarantees hold, and
  `set_reproducible` makes two runs with the same seed give identical weights.

Example:
```python
keras_vae.training.set_reproducible(0)
vae = keras_vae.VAE(latent_dim=2, seed=0)
vae.compile()
callbacks = keras_vae.training.reliable_callbacks(
    "runs/backup", last_path="runs/last.keras", best_path="runs/best.keras", save_freq=100
)
vae.fit(x_train, epochs=30, validation_data=x_test, callbacks=callbacks)  # rerun to resume
```
"""

import json
import math
import os
import pathlib
import shutil
import warnings

import keras
import numpy as np

from keras_vae import saving

_STATE_FILE = "state.json"
_WEIGHTS_PREFIX = "weights-"
_WEIGHTS_SUFFIX = ".weights.h5"


def set_reproducible(seed: int) -> None:
    """Seeds every random generator and makes TensorFlow ops deterministic.

    After this call, two runs of the same script on the same machine build the same initial
    weights, draw the same shuffles and the same sampling noise, and end with identical
    weights and samples. It calls:

    - `keras.utils.set_random_seed(seed)`: seeds Python's `random`, NumPy, TensorFlow and
      Keras's global `SeedGenerator` (weight initializers, `fit`'s shuffling).
    - `tf.config.experimental.enable_op_determinism()`: ops with a faster non-deterministic
      kernel (GPU reductions, some convolution algorithms) use a deterministic one, and ops
      with none raise an error instead of varying silently. It can slow training on a GPU
      and holds for the rest of the process.

    Give the model its own `seed` too (`VAE(seed=...)`) so its sampling noise is seeded.
    Results still differ across machines, TensorFlow versions and numbers of threads
    with other float rounding. Note that with a global seed set, Keras shuffles in-memory
    arrays in the same order every epoch.
    """
    import tensorflow as tf

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"set_reproducible() expects `seed` as an int >= 0; got {seed!r}.")
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


class NonFiniteLossError(RuntimeError):
    """Raised when a loss or metric becomes NaN or infinite during training.

    A `RuntimeError`, as `keras.callbacks.TerminateOnNaN(raise_error=True)` raises.

    Attributes:
        epoch: int. The epoch, counted from 1 as the progress bar shows it.
        step: int or None. The step within the epoch, counted from 1; None when the value
            was found at the end of the epoch (e.g. a validation loss).
        name: str. The log entry (e.g. `"loss"`) or variable that is not finite.
        value: float. The value found.
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
    vae.fit(x, epochs=10, callbacks=[keras_vae.training.NaNGuard(), checkpoint])
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
    checkpoint = keras_vae.training.AtomicCheckpoint("last.keras", "best.keras")
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


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that resumes at the exact batch and writes its backups atomically.

    Keras's `BackupAndRestore` records the batch of a mid-epoch backup but restores only the
    epoch, so a run killed mid-epoch replays that epoch's first batches on top of weights that
    have already seen them; and it writes the weights and the epoch number as two files in
    place, so a kill during a save can leave them torn. This subclass writes the weights
    under a new name, then points `state.json` at them with an atomic rename, and on resume
    skips the batches of the interrupted epoch that the backup had already trained on. With
    the same data order (a fixed seed, see `set_reproducible`) the resumed run ends with the
    same weights as an uninterrupted one. Metrics of the resumed epoch average only the
    batches trained after the resume.

    Args:
        backup_dir: str or path. A folder used only by this callback; deleted at the end of
            a completed `fit` unless `delete_checkpoint=False`.
        save_freq: `"epoch"` or int. Back up at the end of each epoch, or every `save_freq`
            batches (and at the end of each epoch). Defaults to `"epoch"`.
        delete_checkpoint: bool. Whether to delete `backup_dir` when `fit` completes.
            Defaults to `True`.
        resume: bool. Whether a backup found in `backup_dir` may be resumed from; when
            `False` and one exists, raises instead of silently continuing an older run.
            Defaults to `True`.

    Example:
    ```python
    backup = keras_vae.training.ResumableBackup("runs/backup", save_freq=100)
    vae.fit(x, epochs=30, callbacks=[backup])  # killed? run the same line again
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, resume=True):
        if isinstance(save_freq, bool) or (isinstance(save_freq, int) and save_freq < 1):
            raise ValueError(
                f"ResumableBackup expects `save_freq` as 'epoch' or an int >= 1; got {save_freq!r}."
            )
        super().__init__(
            os.fspath(backup_dir), save_freq=save_freq, delete_checkpoint=delete_checkpoint
        )
        self.directory = pathlib.Path(backup_dir)
        self.resume = bool(resume)
        self.resumed_from = None
        self._epoch = 0
        self._skip_remaining = 0
        self._original_train_function = None
        if not self.resume:
            self._refuse_existing_backup()

    @property
    def state_path(self) -> pathlib.Path:
        return self.directory / _STATE_FILE

    def _refuse_existing_backup(self):
        if self.state_path.exists():
            raise ValueError(
                f"ResumableBackup found a backup of an interrupted run in `backup_dir`"
                f" {self.directory}; resume it (resume=True, `--resume`) or delete the folder"
                " to start over."
            )

    def _read_state(self) -> dict | None:
        if not self.state_path.exists():
            return None
        try:
            state = json.loads(self.state_path.read_text())
            epoch, step, weights = int(state["epoch"]), int(state["step"]), state["weights"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise saving.ModelFileError(
                self.state_path,
                f"{self.state_path} is not a readable backup state ({error}). Delete"
                f" {self.directory} to start the run over.",
            ) from error
        return {"epoch": epoch, "step": step, "weights": self.directory / weights}

    # Restoring ---------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if not self.resume:
            self._refuse_existing_backup()
        state = self._read_state()
        self.resumed_from = None
        if state is None:
            return
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            # The optimizer's variables must exist for its saved state to load into them.
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(state["weights"])
        except Exception as error:
            raise saving.ModelFileError(
                state["weights"],
                f"{state['weights']} could not be restored into the model"
                f" ({type(error).__name__}: {error}). The backup belongs to a different"
                f" model or is damaged; delete {self.directory} to start over.",
            ) from error
        model._initial_epoch = state["epoch"]
        self._epoch = state["epoch"]
        self.resumed_from = (state["epoch"], state["step"])
        if state["step"] > 0:
            self._skip_batches(state["step"])

    def _skip_batches(self, count):
        # `fit` calls `model.train_function(iterator)` once per step, after `on_train_begin`;
        # wrapping it for the first steps draws those batches from the iterator without
        # training on them, so the data order stays that of the interrupted run.
        model = self.model
        original = model.train_function
        self._original_train_function = original
        self._skip_remaining = count
        steps_per_execution = getattr(model, "steps_per_execution", 1) or 1

        def skipping_train_function(iterator):
            if self._skip_remaining <= 0:
                return original(iterator)
            for _ in range(steps_per_execution):
                next(iterator)
            self._skip_remaining -= steps_per_execution
            if self._skip_remaining <= 0:
                self._restore_train_function()
            return {}

        model.train_function = skipping_train_function

    def _restore_train_function(self):
        if self._original_train_function is not None:
            self.model.train_function = self._original_train_function
            self._original_train_function = None

    # Saving ------------------------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._original_train_function is not None or self._skip_remaining > 0:
            self._last_batch_seen = batch
            return
        steps = (self.params or {}).get("steps")
        if steps is not None and batch + 1 >= steps:
            return  # the end-of-epoch backup follows
        if self._should_save_on_batch(batch):
            self._save(self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0
        self._save(epoch + 1, 0)

    def _save(self, epoch, step):
        bad = saving.non_finite_variables(self.model)
        if bad:
            raise NonFiniteLossError(
                f"ResumableBackup will not back up non-finite weights ({bad[0]}) at epoch"
                f" {epoch + (step > 0)}, step {step}; the backup in {self.directory} is kept"
                " as it was.",
                epoch=epoch + (step > 0),
                step=step,
                name=bad[0],
                value=float("nan"),
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{_WEIGHTS_PREFIX}{epoch:06d}-{step:08d}{_WEIGHTS_SUFFIX}"
        saving.atomic_write(
            self.directory / name,
            lambda path: self.model.save_weights(path, overwrite=True),
            suffix=_WEIGHTS_SUFFIX,
        )
        state = json.dumps({"epoch": epoch, "step": step, "weights": name})
        saving.atomic_write(self.state_path, lambda path: path.write_text(state))
        for old in self.directory.glob(f"{_WEIGHTS_PREFIX}*{_WEIGHTS_SUFFIX}"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        self._restore_train_function()
        if self.delete_checkpoint and self.directory.exists():
            shutil.rmtree(self.directory)


def reliable_callbacks(
    backup_dir,
    last_path=None,
    best_path=None,
    save_freq="epoch",
    monitor: str = "val_loss",
    resume: bool = True,
) -> list:
    """The callbacks of a run that resumes after a kill and never saves a diverged model.

    Returns `[NaNGuard, AtomicCheckpoint, ResumableBackup]` in this order: the guard stops
    at a NaN before anything is saved, and the backup is taken after the checkpoints of the
    same epoch are written. Add your own callbacks (TensorBoard, image loggers) after them.

    Args:
        backup_dir: str or path. Folder for `ResumableBackup`.
        last_path: str, path or None. `.keras` file rewritten after every epoch.
            Defaults to `None`.
        best_path: str, path or None. `.keras` file of the best epoch by `monitor`.
            Defaults to `None`.
        save_freq: `"epoch"` or int. Backup frequency, in batches when an int. Defaults to
            `"epoch"`.
        monitor: str. See `AtomicCheckpoint`. Defaults to `"val_loss"`.
        resume: bool. See `ResumableBackup`. Defaults to `True`.
    """
    kept = [str(path) for path in (last_path, best_path) if path is not None]
    callbacks = [NaNGuard(kept_files=[*kept, f"{backup_dir} (backup to resume from)"])]
    if kept:
        callbacks.append(AtomicCheckpoint(last_path, best_path, monitor=monitor))
    callbacks.append(ResumableBackup(backup_dir, save_freq=save_freq, resume=resume))
    return callbacks
