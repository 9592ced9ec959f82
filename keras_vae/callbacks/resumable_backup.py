"""`ResumableBackup`: an interrupted run resumes at the exact batch of its last backup."""

import json
import os
import pathlib
import shutil

import keras

from keras_vae import saving
from keras_vae.callbacks.nan_guard import NonFiniteLossError

_STATE_FILE = "state.json"
_WEIGHTS_PREFIX = "weights-"
_WEIGHTS_SUFFIX = ".weights.h5"


class ResumableBackup(keras.callbacks.Callback):
    """A backup to resume from that restarts at the exact batch and is written atomically.

    It does what `keras.callbacks.BackupAndRestore` does, with two differences. Keras's
    callback records the batch of a mid-epoch backup but restores only the epoch, so a run
    killed mid-epoch replays that epoch's first batches on top of weights that have already
    seen them; and it writes the weights and the epoch number as two files in place, so a kill
    during a save can leave them torn. This one writes the weights (model and optimizer)
    under a new name, then points `state.json` at them with an atomic rename, and on resume
    skips the batches of the interrupted epoch that the backup had already trained on. With
    the same data order (a fixed seed, see `keras_vae.callbacks.set_reproducible`) the resumed
    run ends with the same weights as an uninterrupted one. Metrics of the resumed epoch
    average only the batches trained after the resume.

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
    <!-- skip: trains 30 epochs -->
    ```python
    backup = keras_vae.callbacks.ResumableBackup("runs/backup", save_freq=100)
    vae.fit(x, epochs=30, callbacks=[backup])  # killed? run the same line again
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, resume=True):
        super().__init__()
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                f"ResumableBackup expects `save_freq` as 'epoch' or an int >= 1; got {save_freq!r}."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.directory = pathlib.Path(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self.resume = bool(resume)
        self.resumed_from = None
        self._epoch = 0
        self._last_saved_step = 0
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
        # Private, and kept: `fit` reads `model._initial_epoch` after `on_train_begin` to
        # choose its first epoch, the hook Keras's own BackupAndRestore sets; no public
        # way lets a callback move the start. tests/callbacks/test_training_reliability.py
        # (test_keras_starts_at_the_initial_epoch_a_callback_sets) fails if that changes.
        model._initial_epoch = state["epoch"]
        self._epoch = state["epoch"]
        self.resumed_from = (state["epoch"], state["step"])
        if state["step"] > 0:
            self._skip_batches(state["step"])

    def _skip_batches(self, count):
        # `fit` builds `model.train_function` before `on_train_begin` and then calls it once
        # per step with the data iterator; a callback has no other way to draw a batch without
        # training on it. Wrapping it for the first steps keeps the data order of the
        # interrupted run. tests/callbacks/test_training_reliability.py
        # (test_keras_calls_the_train_function_set_in_on_train_begin_once_per_step) fails if
        # `fit` stops doing so.
        model = self.model
        original = model.train_function
        self._original_train_function = original
        self._skip_remaining = count
        self._last_saved_step = count
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
        if self._skip_remaining <= 0:
            self._last_saved_step = 0

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the index of the epoch's last batch trained so far (several per call
        # with `steps_per_execution` > 1).
        if self.save_freq == "epoch" or self._original_train_function is not None:
            return
        step = batch + 1
        steps = (self.params or {}).get("steps")
        if steps is not None and step >= steps:
            return  # the end-of-epoch backup follows
        if step - self._last_saved_step >= self.save_freq:
            self._save(self._epoch, step)
            self._last_saved_step = step

    def on_epoch_end(self, epoch, logs=None):
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
