"""Atomic saves and safe loading: every bad file fails with a clear error naming it."""

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae import saving
from keras_vae.saving import ModelFileError


@pytest.fixture(scope="module")
def vae(tiny_images):
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=3)
    model.compile()
    model.fit(tiny_images[:64], batch_size=64, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def keras_bytes(vae, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "vae.keras"
    saving.save_model(vae, path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def tflite_bytes():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_save_and_load_round_trip_without_custom_objects(vae, tmp_path, tiny_images):
    path = saving.save_model(vae, tmp_path / "nested" / "vae.keras")
    assert path == tmp_path / "nested" / "vae.keras"
    assert _leftovers(path.parent) == []
    reloaded = saving.load_model(path)
    assert isinstance(reloaded, keras_vae.VAE)
    np.testing.assert_array_equal(
        reloaded.reconstruct(tiny_images[:4]), vae.reconstruct(tiny_images[:4])
    )


def test_saved_file_gets_the_mode_of_a_plain_write(vae, tmp_path):
    # The temporary file is created owner-only; the saved model must not stay that way.
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    path = saving.save_model(vae, tmp_path / "vae.keras")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_save_never_overwrites_unless_asked(vae, tmp_path):
    path = tmp_path / "vae.keras"
    path.write_bytes(b"the user's file")
    with pytest.raises(ValueError, match="overwrite=True") as error:
        saving.save_model(vae, path)
    assert str(path) in str(error.value)
    assert path.read_bytes() == b"the user's file"
    saving.save_model(vae, path, overwrite=True)
    assert isinstance(saving.load_model(path), keras_vae.VAE)


@pytest.mark.parametrize(
    "path, error, match",
    [("model.h5", ValueError, "'.keras'"), (42, TypeError, "`path`"), ("", ValueError, "`path`")],
)
def test_save_rejects_bad_paths(vae, tmp_path, path, error, match):
    with pytest.raises(error, match=match):
        saving.save_model(vae, tmp_path / path if isinstance(path, str) and path else path)


def test_save_rejects_a_folder_and_a_non_model(vae, tmp_path):
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ValueError, match="folder"):
        saving.save_model(vae, tmp_path / "dir.keras")
    with pytest.raises(TypeError, match="`model`"):
        saving.save_model("not a model", tmp_path / "x.keras")


def test_failed_save_keeps_the_previous_file(vae, tmp_path):
    path = tmp_path / "model.keras"
    saving.save_model(vae, path)
    before = path.read_bytes()

    class FailsWhileSaving(keras.layers.Layer):
        def call(self, x):
            return x

        def save_own_variables(self, store):
            raise OSError("disk full")

    inputs = keras.Input((2,))
    broken = keras.Model(inputs, FailsWhileSaving()(inputs))
    with pytest.raises(OSError, match="disk full"):
        saving.save_model(broken, path, overwrite=True)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_diverged_model_never_replaces_a_good_file(tmp_path):
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=1)
    path = tmp_path / "good.keras"
    saving.save_model(model, path)
    before = path.read_bytes()
    variable = model.decoder.trainable_variables[0]
    variable.assign(np.full(variable.shape, np.nan, "float32"))
    with pytest.raises(ValueError, match="NaN or infinity") as error:
        saving.save_model(model, path, overwrite=True)
    assert variable.path in str(error.value) and str(path) in str(error.value)
    assert path.read_bytes() == before


@pytest.mark.large
@pytest.mark.subprocess
def test_killed_save_loop_never_leaves_a_half_written_file(tmp_path):
    path = tmp_path / "model.keras"
    script = textwrap.dedent(
        f"""
        import keras_vae
        from keras_vae import saving
        model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
        while True:
            saving.save_model(model, {str(path)!r}, overwrite=True)
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    process = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not path.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert path.exists(), process.stderr.read().decode()[-2000:] if process.poll() else ""
        time.sleep(1.0)  # several more saves, the kill lands in one of them
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert isinstance(saving.load_model(path), keras_vae.VAE)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -22])
def test_truncated_keras_file_fails_naming_it(keras_bytes, tmp_path, keep):
    path = tmp_path / "truncated.keras"
    end = int(len(keras_bytes) * keep) if isinstance(keep, float) else keep
    path.write_bytes(keras_bytes[:end])
    with pytest.raises(ModelFileError, match="truncated or corrupt") as error:
        saving.load_model(path)
    assert str(path) in str(error.value) and error.value.path == path


def test_corrupt_keras_file_fails_naming_it(keras_bytes, tmp_path):
    data = bytearray(keras_bytes)
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path = tmp_path / "corrupt.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=str(path)):
        saving.load_model(path)


@pytest.mark.large
@pytest.mark.subprocess
def test_keras_file_of_another_package_fails_naming_the_classes(tmp_path):
    path = tmp_path / "foreign.keras"
    script = textwrap.dedent(
        f"""
        import keras

        @keras.saving.register_keras_serializable(package="other_package")
        class Doubling(keras.layers.Layer):
            def call(self, x):
                return 2 * x

        inputs = keras.Input((2,))
        keras.Model(inputs, Doubling()(inputs)).save({str(path)!r})
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    with pytest.raises(ModelFileError, match="other_package>Doubling") as error:
        saving.load_model(path)
    assert str(path) in str(error.value)


def test_lambda_layers_are_refused_without_running_their_code(tmp_path):
    marker = tmp_path / "code_ran"
    inputs = keras.Input((2,))
    marker_name = str(marker)
    layer = keras.layers.Lambda(lambda x: (open(marker_name, "w").close(), x + 1)[1])
    model = keras.Model(inputs, layer(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink()  # building the model ran the lambda once; loading must not run it
    with pytest.raises(ModelFileError, match="safe_mode") as error:
        saving.load_model(path)
    assert str(path) in str(error.value)
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 6, 8, 100, 0.5, -8])
def test_truncated_tflite_fails_naming_it(tflite_bytes, tmp_path, keep):
    path = tmp_path / "decoder.tflite"
    end = int(len(tflite_bytes) * keep) if isinstance(keep, float) else keep
    path.write_bytes(tflite_bytes[:end])
    with pytest.raises(ModelFileError, match="TFLite") as error:
        saving.load_model(path)
    assert str(path) in str(error.value)


def test_complete_tflite_loads_and_runs(tflite_bytes, tmp_path):
    path = tmp_path / "decoder.tflite"
    path.write_bytes(tflite_bytes)
    interpreter = saving.load_model(path)
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.ones(detail["shape"], "float32"))
    interpreter.invoke()
    output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert output.shape[-1] == 3 and np.isfinite(output).all()


def test_folder_that_is_not_a_saved_model_fails_naming_it(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    with pytest.raises(ModelFileError, match="not a SavedModel") as error:
        saving.load_model(folder)
    assert str(folder) in str(error.value)

    (folder / "saved_model").mkdir()
    (folder / "saved_model" / "saved_model.pb").write_bytes(b"\x00garbage\xff" * 10)
    with pytest.raises(ModelFileError, match="Did you mean"):
        saving.load_model(folder)
    with pytest.raises(ModelFileError, match="could not be loaded as a SavedModel") as error:
        saving.load_model(folder / "saved_model")
    assert str(folder / "saved_model") in str(error.value)


def test_saved_model_folder_loads(tmp_path):
    module = tf.Module()
    module.scale = tf.Variable(2.0)
    module.double = tf.function(lambda x: module.scale * x, input_signature=[tf.TensorSpec([])])
    tf.saved_model.save(module, str(tmp_path / "sm"))
    loaded = saving.load_model(tmp_path / "sm")
    assert float(loaded.double(tf.constant(3.0))) == 6.0


def test_missing_unknown_and_special_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        saving.load_model(tmp_path / "missing.keras")
    (tmp_path / "weights.h5").write_bytes(b"x")
    with pytest.raises(ModelFileError, match="'.h5'"):
        saving.load_model(tmp_path / "weights.h5")
    fifo = tmp_path / "pipe.keras"
    os.mkfifo(fifo)  # opening a FIFO would block: it must be refused before opening
    with pytest.raises(ModelFileError, match="not a regular file"):
        saving.load_model(fifo)


# File-system failures name the path and say what was kept ---------------------------------


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 32 MB tmpfs of its own (needs root: mount); skips where it cannot be mounted."""
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def _make_read_only(folder):
    """Read-only for whoever runs the test: a read-only remount as root (root ignores
    permission bits), the permission bits otherwise."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        folder.chmod(0o555)


@pytest.fixture
def writable_then_read_only(tmp_path, request):
    if os.geteuid() == 0:
        return request.getfixturevalue("small_tmpfs")
    folder = tmp_path / "plain"
    folder.mkdir()
    request.addfinalizer(lambda: folder.chmod(0o755))
    return folder


def test_save_into_a_read_only_folder_names_the_path_and_keeps_the_file(
    vae, writable_then_read_only
):
    path = writable_then_read_only / "model.keras"
    saving.save_model(vae, path)
    before = path.read_bytes()
    _make_read_only(writable_then_read_only)
    with pytest.raises(OSError) as error:
        saving.save_model(vae, path, overwrite=True)
    message = str(error.value)
    assert f"Could not write {path}:" in message
    assert "the previous model.keras is untouched" in message
    assert error.value.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    assert path.read_bytes() == before


def test_save_to_a_full_disk_names_the_path_and_keeps_the_file(vae, small_tmpfs):
    path = small_tmpfs / "model.keras"
    saving.save_model(vae, path)
    before = path.read_bytes()
    # Leaves less free space than one more copy of the model needs.
    free = os.statvfs(small_tmpfs).f_bavail * os.statvfs(small_tmpfs).f_frsize
    (small_tmpfs / "filler").write_bytes(b"\0" * max(free - len(before) // 2, 0))
    with pytest.raises(OSError) as error:
        saving.save_model(vae, path, overwrite=True)
    assert error.value.errno == errno.ENOSPC
    assert f"Could not write {path}: No space left on device;" in str(error.value)
    assert "the previous model.keras is untouched" in str(error.value)
    assert path.read_bytes() == before
    assert _leftovers(small_tmpfs) == []


def test_a_new_file_that_cannot_be_written_says_nothing_was_there(vae, writable_then_read_only):
    _make_read_only(writable_then_read_only)
    path = writable_then_read_only / "run" / "model.keras"
    with pytest.raises(OSError, match="nothing was there before") as error:
        saving.save_model(vae, path)
    assert str(path) in str(error.value) and not path.exists()


# resolve_model_path: one rule for a run folder ----------------------------------------------


def test_resolve_model_path_prefers_model_keras_then_vae_keras(tmp_path):
    (tmp_path / "vae.keras").write_bytes(b"x")
    (tmp_path / "last.keras").write_bytes(b"x")
    assert saving.resolve_model_path(tmp_path) == tmp_path / "vae.keras"
    (tmp_path / "model.keras").write_bytes(b"x")
    assert saving.resolve_model_path(tmp_path) == tmp_path / "model.keras"
    assert saving.resolve_model_path(tmp_path / "last.keras") == tmp_path / "last.keras"


def test_resolve_model_path_names_what_it_looked_for(tmp_path):
    (tmp_path / "last.keras").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="looked for model.keras and vae.keras"):
        saving.resolve_model_path(tmp_path)
    with pytest.raises(FileNotFoundError, match="no file or folder at"):
        saving.resolve_model_path(tmp_path / "nope.keras")


@pytest.mark.subprocess
def test_keras_vae_load_model_is_the_one_line_in_a_fresh_process(vae, tmp_path, tiny_images):
    path = saving.save_model(vae, tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", tiny_images[:4])
    code = f"""
import numpy as np, keras_vae
model = keras_vae.load_model({str(path)!r})
np.save({str(tmp_path / "z.npy")!r}, model.encode(np.load({str(tmp_path / "x.npy")!r}))[0])
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    expected = vae.encode(tiny_images[:4])[0]
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), expected, rtol=1e-5, atol=1e-6)
