"""`import keras_vae` stays light and refuses backends other than TensorFlow."""

import os
import subprocess
import sys

import pytest

# matplotlib is left out: `import tensorflow` itself imports it.
HEAVY = ("tensorflow_datasets", "ai_edge_litert", "mlxtend")


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env},
    )


@pytest.mark.subprocess
def test_import_loads_no_optional_heavy_module():
    result = run_python(
        f"import sys, keras_vae; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.subprocess
def test_import_with_another_backend_fails_with_a_clear_message():
    result = run_python("import keras_vae", KERAS_BACKEND="numpy")
    assert result.returncode != 0
    assert "requires the TensorFlow backend" in result.stderr
    assert "'numpy'" in result.stderr


@pytest.mark.subprocess
def test_import_changes_no_global_setting():
    # In a fresh process: in this one `keras_vae` was imported long ago by other test modules.
    code = """
import os, sys, keras, matplotlib
def state():
    return (keras.config.floatx(), keras.config.image_data_format(),
            keras.config.dtype_policy().name, matplotlib.get_backend(),
            os.environ.get("TF_CPP_MIN_LOG_LEVEL"))
before = state()
assert "keras_vae" not in sys.modules
import keras_vae, keras_vae.images
print(before == state(), before, state())
"""
    result = run_python(code, MPLBACKEND="svg")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[0] == "True", result.stdout


def test_every_public_keras_class_is_registered_under_the_package_name():
    import keras

    import keras_vae

    classes = [getattr(keras_vae, name) for name in dir(keras_vae) if not name.startswith("_")]
    layers = [c for c in classes if isinstance(c, type) and issubclass(c, keras.layers.Layer)]
    assert len(layers) >= 8  # the layers, the models, the conditional model
    for cls in layers:
        assert keras.saving.get_registered_name(cls) == f"keras_vae>{cls.__name__}", cls
