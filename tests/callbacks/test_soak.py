"""Soak test: many short epochs with the image logger, TensorBoard and checkpointing on; the
process memory stays flat and every TensorBoard event file stays readable."""

import numpy as np
import psutil
import pytest
import tensorflow as tf

import keras_vae
from keras_vae import callbacks as vae_callbacks
from keras_vae import saving
from keras_vae.callbacks import VAEImageLogger

EPOCHS = 40
WARM_UP = 10  # tracing, allocator pools and first writes settle in the first epochs
# Resident memory may grow by at most this much over the epochs after the warm-up; a leak
# of one image batch, model copy or retraced function per epoch exceeds it.
MAX_GROWTH_MB = 40.0


def _events(folder):
    """Every (tag, step) in the event files under `folder`, read back with TensorFlow."""
    found = set()
    for path in folder.rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.add((value.tag, event.step))
    return found


@pytest.mark.large
def test_memory_stays_flat_and_logs_stay_readable_over_many_epochs(tiny_images, tmp_path):
    import keras

    process = psutil.Process()
    rss = []

    class RecordMemory(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            rss.append(process.memory_info().rss / 2**20)

    train, validation = tiny_images[:64], tiny_images[64:128]
    log_dir = tmp_path / "logs"
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    vae.compile()
    callbacks = [
        *vae_callbacks.reliable_callbacks(
            tmp_path / "backup",
            last_path=tmp_path / "last.keras",
            best_path=tmp_path / "best.keras",
            save_freq=1,
        ),
        keras.callbacks.TensorBoard(str(log_dir)),
        VAEImageLogger(log_dir, validation, num_samples=4),
        RecordMemory(),
    ]
    history = vae.fit(
        train,
        validation_data=validation,
        batch_size=32,
        epochs=EPOCHS,
        verbose=0,
        callbacks=callbacks,
    )

    assert np.isfinite(history.history["loss"]).all()
    settled = rss[WARM_UP:]
    growth = np.median(settled[-5:]) - np.median(settled[:5])
    assert growth < MAX_GROWTH_MB, f"RSS grew by {growth:.1f} MB: {np.round(rss, 1)}"

    events = _events(log_dir)
    for epoch in range(EPOCHS):
        assert ("epoch_loss", epoch) in events
        assert ("reconstructions", epoch) in events and ("prior_samples", epoch) in events
    for path in (tmp_path / "last.keras", tmp_path / "best.keras"):
        assert saving.non_finite_variables(saving.load_model(path)) == []
    assert not (tmp_path / "backup").exists()  # the completed run needs no backup
