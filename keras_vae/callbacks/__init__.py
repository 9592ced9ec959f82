"""Callbacks for `fit`: runs that survive what happens in practice, and what TensorBoard shows.

One callback per module:

- `NaNGuard` (`nan_guard`) stops training at the first NaN or infinite loss, metric or
  weight, with an error naming the epoch and step, before any other callback can save.
- `AtomicCheckpoint` (`atomic_checkpoint`) writes the last and the best model as `.keras`
  files atomically and never writes non-finite weights.
- `ResumableBackup` (`resumable_backup`) is `keras.callbacks.BackupAndRestore` made exact and
  atomic: a run killed at any point resumes at the batch of its last backup and ends with the
  same weights as an uninterrupted run.
- `KLWarmup` (`kl_warmup`) raises the weight of the KL term over the first steps.
- `VAEImageLogger` (`image_logger`) writes reconstructions, prior samples, latent traversals,
  code histograms and the KL per latent dimension to TensorBoard.
- `write_embedding_projector` (`projector`) writes latent codes for TensorBoard's projector.

`reliable_callbacks` builds the first three in the order that makes their guarantees hold;
`set_reproducible` (from `keras_vae.reproducibility`) makes two runs with the same seed give
identical weights.

Example:
<!-- skip: sets process-wide determinism and trains 30 epochs -->
```python
from keras_vae import callbacks

callbacks.set_reproducible(0)
vae = keras_vae.VAE(latent_dim=2, seed=0)
vae.compile()
run = callbacks.reliable_callbacks(
    "runs/backup", last_path="runs/last.keras", best_path="runs/best.keras", save_freq=100
)
vae.fit(x_train, epochs=30, validation_data=x_test, callbacks=run)  # rerun to resume
```
"""

from keras_vae.callbacks.atomic_checkpoint import AtomicCheckpoint
from keras_vae.callbacks.image_logger import VAEImageLogger
from keras_vae.callbacks.kl_warmup import KLWarmup
from keras_vae.callbacks.nan_guard import NaNGuard, NonFiniteLossError
from keras_vae.callbacks.projector import sprite_image, write_embedding_projector
from keras_vae.callbacks.resumable_backup import ResumableBackup
from keras_vae.reproducibility import set_reproducible


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


__all__ = [
    "AtomicCheckpoint",
    "KLWarmup",
    "NaNGuard",
    "NonFiniteLossError",
    "ResumableBackup",
    "VAEImageLogger",
    "reliable_callbacks",
    "set_reproducible",
    "sprite_image",
    "write_embedding_projector",
]
