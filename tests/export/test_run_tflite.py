"""keras_vae/export/run_tflite.py: the numpy + LiteRT reference generator, and its
hand-written PNG."""

import ast
import runpy
import struct
import subprocess
import sys
import zlib

import keras
import matplotlib.image
import numpy as np
import pytest
from export_helpers import RUN_TFLITE

import keras_vae
from keras_vae import export


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(RUN_TFLITE))


@pytest.fixture(scope="module")
def decoder_files(tmp_path_factory):
    keras.utils.set_random_seed(1)
    decoder = keras_vae.Decoder(latent_dim=3, conv_filters=(4, 4), dense_units=(8,), name="decoder")
    vae = keras_vae.VAE(decoder=decoder, latent_dim=3, seed=1)
    directory = tmp_path_factory.mktemp("run_tflite")
    export.export_decoder(
        vae,
        directory,
        formats=("float32", "int8"),
        num_verification_samples=8,
        num_calibration_samples=8,
        batch1_variant=True,
        latency_repeats=1,
        micro=False,
        verbose=0,
    )
    return vae, directory


def third_party_imports(path):
    """The top-level modules outside the standard library that `path` imports, anywhere."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def test_imports_only_numpy_litert_and_stdlib():
    # Nothing of keras_vae either, though the file lies in keras_vae/export/: it runs alone.
    assert third_party_imports(RUN_TFLITE) == {"numpy", "ai_edge_litert"}


def test_the_arm_nn_runner_imports_only_numpy_and_pyarmnn():
    # The system Python that runs it has Debian's pyarmnn and numpy, not keras_vae.
    assert third_party_imports(RUN_TFLITE.with_name("run_armnn.py")) == {"numpy", "pyarmnn"}


def read_png(data: bytes):
    """Decodes an 8-bit grayscale/RGB PNG with filter 0, checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 2: 3}[color]
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert depth == 8 and (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(height, width, channels)


@pytest.mark.parametrize("channels", [1, 3])
def test_png_bytes_round_trip(script, tmp_path, channels):
    image = np.random.default_rng(channels).uniform(size=(5, 7, channels)).astype("float32")
    data = script["png_bytes"](image)
    expected = np.round(image * 255).astype(np.uint8)
    np.testing.assert_array_equal(read_png(data), expected)
    (tmp_path / "x.png").write_bytes(data)
    decoded = matplotlib.image.imread(tmp_path / "x.png")  # an independent PNG reader
    decoded = decoded[..., None] if decoded.ndim == 2 else decoded
    np.testing.assert_allclose(decoded, expected / 255.0, atol=1e-6)


def test_generate_matches_the_keras_decoder(script, decoder_files):
    vae, directory = decoder_files
    z = np.random.default_rng(4).standard_normal((6, 3)).astype("float32")
    for name in ("decoder_float32.tflite", "decoder_float32_batch1.tflite"):
        _, runner = script["load_decoder"](directory / name)
        np.testing.assert_allclose(script["generate"](runner, z), vae.decode(z), atol=1e-5)
    _, runner = script["load_decoder"](directory / "decoder_int8.tflite")
    assert np.abs(script["generate"](runner, z) - vae.decode(z)).max() < 0.1


def test_to_unit_range_dequantizes(script):
    to_unit_range = script["to_unit_range"]
    values = np.array([0, 128, 255], np.uint8)
    np.testing.assert_allclose(to_unit_range(values, {"quantization": (0.0, 0)}), values / 255.0)
    np.testing.assert_allclose(
        to_unit_range(values, {"quantization": (1 / 256, 0)}), values / 256.0
    )


@pytest.mark.subprocess
def test_command_line_without_tensorflow(decoder_files, tmp_path):
    _, directory = decoder_files
    # Blocks TensorFlow and Keras, so the script runs only if it truly needs neither.
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None;"
        f"sys.argv = ['run_tflite.py'] + sys.argv[1:]; import runpy;"
        f"runpy.run_path({str(RUN_TFLITE)!r}, run_name='__main__')"
    )
    args = [
        str(directory / "decoder_int8.tflite"),
        "--num",
        "10",
        "--columns",
        "5",
        "--png",
        str(tmp_path / "grid.png"),
        "--npy",
        str(tmp_path / "images.npy"),
        "--latents-npy",
        str(tmp_path / "z.npy"),
    ]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    images = np.load(tmp_path / "images.npy")
    assert images.shape == (10, 28, 28, 1) and images.min() >= 0 and images.max() <= 1
    assert np.load(tmp_path / "z.npy").shape == (10, 3)
    assert read_png((tmp_path / "grid.png").read_bytes()).shape == (56, 140, 1)


def test_bad_model_file(script, tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer")
    assert script["main"]([str(bad), "--png", str(tmp_path / "g.png")]) == 2
    assert "cannot load" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


def test_label_needs_a_conditional_decoder(script, decoder_files, tmp_path, capsys):
    _, directory = decoder_files
    args = [str(directory / "decoder_float32.tflite"), "--png", str(tmp_path / "g.png")]
    assert script["main"]([*args, "--label", "3"]) == 2
    assert "--label needs a conditional decoder" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()
    _, runner = script["load_decoder"](directory / "decoder_float32.tflite")
    assert script["num_classes"](runner) is None
    with pytest.raises(ValueError, match="labels were given"):
        script["generate"](runner, np.zeros((2, 3), np.float32), np.eye(10, dtype=np.float32)[:2])
