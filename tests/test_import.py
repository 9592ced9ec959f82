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


def test_import_changes_no_global_keras_setting():
    import keras

    before = (keras.config.floatx(), keras.config.image_data_format())
    import keras_vae  # noqa: F401

    assert (keras.config.floatx(), keras.config.image_data_format()) == before
