"""NaN never corrupts a model: training stops with the epoch and step, and the last good
checkpoint, `.keras` file and backup stay intact and usable."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae import callbacks as vae_callbacks
from keras_vae import saving
from keras_vae.callbacks import NonFiniteLossError

BATCH_SIZE = 16


@pytest.fixture
def images(tiny_images):
    return tiny_images[:64]  # 4 batches per epoch


def _vae():
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=5)
    vae.compile()
    return vae


class PoisonWeightsAt(keras.callbacks.Callback):
    """Sets a decoder weight to NaN at a given batch: before it (the default: the run
    diverges right there) or after it (`after=True`: no loss of that epoch sees it).

    The default weight is the output bias, so the logits and the loss become NaN at once."""

    def __init__(self, epoch, batch, variable_index=-1, after=False):
        super().__init__()
        self.at, self.epoch, self.index, self.after = (epoch, batch), None, variable_index, after

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _poison(self, batch):
        if (self.epoch, batch) == self.at:
            variable = self.model.decoder.trainable_variables[self.index]
            variable.assign(np.full(variable.shape, np.nan, "float32"))

    def on_train_batch_begin(self, batch, logs=None):
        if not self.after:
            self._poison(batch)

    def on_train_batch_end(self, batch, logs=None):
        if self.after:
            self._poison(batch)


class RecordFile(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path, self.contents = path, {}

    def on_epoch_end(self, epoch, logs=None):
        self.contents[epoch] = self.path.read_bytes()


def test_nan_loss_stops_naming_epoch_and_step_and_keeps_every_checkpoint(images, tmp_path):
    last, best, backup = tmp_path / "last.keras", tmp_path / "best.keras", tmp_path / "backup"
    callbacks = vae_callbacks.reliable_callbacks(
        backup, last_path=last, best_path=best, save_freq=2, monitor="loss"
    )
    recorder = RecordFile(last)
    vae = _vae()
    with pytest.raises(NonFiniteLossError) as error:
        vae.fit(
            images,
            batch_size=BATCH_SIZE,
            epochs=4,
            verbose=0,
            callbacks=[*callbacks, recorder, PoisonWeightsAt(epoch=1, batch=3)],
        )
    assert (error.value.epoch, error.value.step) == (2, 4)
    message = str(error.value)
    assert "epoch 2, step 4" in message and "`loss`" in message
    assert str(last) in message and str(best) in message and str(backup) in message
    assert saving.non_finite_variables(vae) != []

    # The last good .keras file is byte for byte the one written after epoch 1, and loads.
    assert list(recorder.contents) == [0]
    assert last.read_bytes() == recorder.contents[0]
    for path in (last, best):
        assert saving.non_finite_variables(saving.load_model(path)) == []
    # The backup holds the state after batch 2 of epoch 2 and resumes to a finite model.
    state = json.loads((backup / "state.json").read_text())
    assert (state["epoch"], state["step"]) == (1, 2)
    resumed = _vae()
    backup_callback = vae_callbacks.ResumableBackup(backup)
    resumed.fit(images, batch_size=BATCH_SIZE, epochs=4, verbose=0, callbacks=[backup_callback])
    assert backup_callback.resumed_from == (1, 2)
    assert saving.non_finite_variables(resumed) == []
    assert int(resumed.optimizer.iterations) == 4 * 4  # as many steps as an uninterrupted run
    assert not backup.exists()


def test_nan_weights_hidden_from_the_loss_are_caught_at_the_end_of_the_epoch(images, tmp_path):
    # The weight turns NaN after the epoch's last step, so no loss and no activation ever
    # sees it (whatever the CPU's NaN handling): only the end-of-epoch weight check can.
    last = tmp_path / "last.keras"
    vae = _vae()
    with pytest.raises(NonFiniteLossError, match="end of epoch 2") as error:
        vae.fit(
            images,
            batch_size=BATCH_SIZE,
            epochs=3,
            verbose=0,
            callbacks=[
                *vae_callbacks.reliable_callbacks(tmp_path / "backup", last_path=last),
                PoisonWeightsAt(epoch=1, batch=3, variable_index=0, after=True),
            ],
        )
    assert error.value.name.split()[0] == "weight" and error.value.step is None
    bad = saving.non_finite_variables(vae)
    assert bad == [vae.decoder.trainable_variables[0].path] and error.value.name.split()[1] in bad
    assert saving.non_finite_variables(saving.load_model(last)) == []


def test_nan_in_a_dataset_batch_stops_at_that_step(images, tmp_path):
    poisoned = images.copy()
    poisoned[2 * BATCH_SIZE + 5, 3, 3, 0] = np.nan  # in the third batch
    dataset = tf.data.Dataset.from_tensor_slices(poisoned).batch(BATCH_SIZE)
    last = tmp_path / "last.keras"
    callbacks = vae_callbacks.reliable_callbacks(tmp_path / "backup", last_path=last)
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 3"):
        _vae().fit(dataset, epochs=2, verbose=0, callbacks=callbacks)
    assert not last.exists()  # no epoch completed, so nothing was written


def test_nan_in_array_data_is_reported_with_its_index_before_training(images, tmp_path):
    poisoned = images.copy()
    poisoned[37, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="example 37"):
        _vae().fit(
            poisoned,
            epochs=1,
            verbose=0,
            callbacks=vae_callbacks.reliable_callbacks(
                tmp_path / "backup", tmp_path / "last.keras"
            ),
        )
    assert list(tmp_path.iterdir()) == []


def test_non_finite_validation_loss_stops_at_the_end_of_the_epoch(images, tmp_path):
    poisoned = images[:BATCH_SIZE].copy()
    poisoned[0, 0, 0, 0] = np.nan
    validation = tf.data.Dataset.from_tensor_slices(poisoned).batch(BATCH_SIZE)
    best = tmp_path / "best.keras"
    with pytest.raises(NonFiniteLossError, match="the end of epoch 1") as error:
        _vae().fit(
            images,
            batch_size=BATCH_SIZE,
            validation_data=validation,
            epochs=2,
            verbose=0,
            callbacks=vae_callbacks.reliable_callbacks(tmp_path / "backup", best_path=best),
        )
    assert error.value.name.startswith("val_") and error.value.step is None
    assert not best.exists()


def test_best_checkpoint_is_replaced_only_by_a_better_one_across_runs(images, tmp_path):
    best = tmp_path / "best.keras"
    vae = _vae()
    checkpoint = vae_callbacks.AtomicCheckpoint(best_path=best, monitor="loss")
    vae.fit(images, batch_size=BATCH_SIZE, epochs=2, verbose=0, callbacks=[checkpoint])
    saved, inode = best.read_bytes(), best.stat().st_ino
    record = json.loads((tmp_path / "best.keras.json").read_text())
    assert record["monitor"] == "loss" and record["value"] == checkpoint.best

    # A new run (e.g. after a resume) knows the best so far: a worse epoch leaves the file.
    again = vae_callbacks.AtomicCheckpoint(best_path=best, monitor="loss")
    again.set_model(vae)
    again.on_train_begin()
    again.on_epoch_end(0, {"loss": record["value"] + 1.0})
    assert best.read_bytes() == saved and best.stat().st_ino == inode
    again.on_epoch_end(1, {"loss": record["value"] - 1.0})
    assert best.stat().st_ino != inode  # a new file was renamed into place
    assert json.loads((tmp_path / "best.keras.json").read_text())["value"] == record["value"] - 1


def test_backup_refuses_to_silently_resume_or_load_a_damaged_state(images, tmp_path):
    backup = tmp_path / "backup"
    vae = _vae()
    keep = vae_callbacks.ResumableBackup(backup, delete_checkpoint=False)
    vae.fit(images, batch_size=BATCH_SIZE, epochs=1, verbose=0, callbacks=[keep])
    assert (backup / "state.json").exists()

    with pytest.raises(ValueError, match="--resume"):
        vae_callbacks.ResumableBackup(backup, resume=False)

    other = keras_vae.VAE(latent_dim=3, architecture="dense", seed=5)
    other.compile()
    with pytest.raises(saving.ModelFileError, match="different model") as error:
        other.fit(images, epochs=1, verbose=0, callbacks=[vae_callbacks.ResumableBackup(backup)])
    assert "weights-" in str(error.value)

    (backup / "state.json").write_text('{"epoch": 1')
    with pytest.raises(saving.ModelFileError, match="state.json"):
        _vae().fit(images, epochs=1, verbose=0, callbacks=[vae_callbacks.ResumableBackup(backup)])


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda p: vae_callbacks.ResumableBackup(p, save_freq=0), ValueError, "save_freq"),
        (lambda p: vae_callbacks.ResumableBackup(p, save_freq="batch"), ValueError, "save_freq"),
        (lambda p: vae_callbacks.AtomicCheckpoint(), ValueError, "last_path"),
        (lambda p: vae_callbacks.AtomicCheckpoint(p / "last.h5"), ValueError, "last_path"),
        (lambda p: vae_callbacks.set_reproducible(-1), ValueError, "seed"),
        (lambda p: vae_callbacks.set_reproducible("0"), ValueError, "seed"),
    ],
)
def test_bad_arguments_name_themselves(tmp_path, make, error, match):
    with pytest.raises(error, match=match):
        make(tmp_path)


# The upstream behaviour ResumableBackup relies on: if Keras changes it, these fail first.


def test_keras_starts_at_the_initial_epoch_a_callback_sets(images):
    class StartAtTwo(keras.callbacks.Callback):
        epochs = []

        def on_train_begin(self, logs=None):
            self.model._initial_epoch = 2

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(epoch)

    vae = _vae()
    vae.fit(images, batch_size=BATCH_SIZE, epochs=4, verbose=0, callbacks=[StartAtTwo()])
    assert StartAtTwo.epochs == [2, 3]
    assert int(vae.optimizer.iterations) == 2 * 4


def test_keras_calls_the_train_function_set_in_on_train_begin_once_per_step(images):
    class SkipFirstBatch(keras.callbacks.Callback):
        calls, skipped = 0, None

        def on_train_begin(self, logs=None):
            original = self.model.train_function

            def wrapped(iterator):
                type(self).calls += 1
                if type(self).calls == 1:
                    type(self).skipped = next(iterator)  # drawn, not trained on
                    return {}
                return original(iterator)

            self.model.train_function = wrapped

    vae = _vae()
    vae.fit(images, batch_size=BATCH_SIZE, epochs=2, verbose=0, callbacks=[SkipFirstBatch()])
    assert SkipFirstBatch.calls == 2 * 4
    assert int(vae.optimizer.iterations) == 2 * 4 - 1
    # The iterator yields the batches fit would train on: the first one was drawn.
    assert np.asarray(tf.nest.flatten(SkipFirstBatch.skipped)[0]).shape[0] == BATCH_SIZE


def test_backup_does_not_use_the_private_state_of_keras_backup_and_restore():
    backup = vae_callbacks.ResumableBackup("unused", save_freq=2)
    assert not isinstance(backup, keras.callbacks.BackupAndRestore)
