"""Exported files under TensorFlow Lite for Microcontrollers and Arm NN, and the C array."""

import json
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
from export_helpers import untrained_small_vae

from keras_vae import export
from keras_vae.export import micro

LATENT_DIM = 2
SMALL = dict(num_verification_samples=12, num_calibration_samples=12, latency_repeats=1, verbose=0)
needs_tflm = pytest.mark.skipif(not micro.available(), reason=f"TFLM missing: {micro.INSTALL}")


@pytest.fixture(scope="module")
def vae():
    model = untrained_small_vae(LATENT_DIM, seed=4)
    # Non-zero biases, as after training: the converter drops an all-zero bias, leaving an
    # optional input that Debian's Arm NN 20.08 parser refuses.
    rng = np.random.default_rng(4)
    for weight in model.decoder.weights:
        weight.assign(weight + 0.05 * rng.standard_normal(weight.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def exported(vae, tmp_path_factory):
    if not micro.available():
        pytest.skip(f"TFLM missing: {micro.INSTALL}")
    directory = tmp_path_factory.mktemp("micro") / "decoder"
    report = export.export_decoder(vae, directory, c_array=True, **SMALL)
    return directory, report


@needs_tflm
def test_tflm_accepts_float32_and_int8_and_says_why_not_the_others(exported):
    _, report = exported
    assert report.micro.startswith("ran with tflite-micro")
    for name, variant in report.variants.items():
        result = variant.micro
        if name.startswith(("float32", "int8")):
            assert result["accepted"], (name, result["reason"])
            assert result["flash_bytes"] == variant.size_bytes
        else:
            assert not result["accepted"]
    assert "DEQUANTIZE" in report.variants["float16"].micro["reason"]
    assert "FULLY_CONNECTED" in report.variants["dynamic_range"].micro["reason"]
    int8 = report.variants["int8_batch1"].micro
    # The same kernels as LiteRT up to rounding: at most a few output quantization steps apart.
    assert int8["max_error_vs_litert"] <= 4 / 256
    assert int8["psnr_vs_keras_db"] > 30
    float32 = report.variants["float32_batch1"].micro
    assert float32["max_error_vs_keras"] < 1e-5


@needs_tflm
def test_arena_is_the_smallest_that_runs(exported):
    directory, report = exported
    content = (directory / "decoder_int8_batch1.tflite").read_bytes()
    arena = report.variants["int8_batch1"].micro["arena_bytes"]
    row = [np.zeros((1, LATENT_DIM), np.float32)]
    assert micro._runs(content, arena, row)
    assert not micro._runs(content, arena - 16, row)
    # The feature maps alone: two 14x14x8 int8 maps alive at once need at least this much.
    assert arena > 14 * 14 * 8


@needs_tflm
def test_a_tflm_crash_is_reported_and_spares_the_caller(exported):
    # A 16-byte arena makes TFLM's allocator dereference past its end: a segmentation fault
    # that, in the child process, becomes a reason instead of killing this process.
    directory, _ = exported
    content = (directory / "decoder_int8_batch1.tflite").read_bytes()
    row = [np.zeros((1, LATENT_DIM), np.float32)]
    with pytest.raises(RuntimeError, match="crashed: TFLM exited with signal 11") as caught:
        micro._child(content, row, 16)
    assert micro._reason(caught.value) == "crashed: TFLM exited with signal 11"
    assert not micro._runs(content, 16, row)


@needs_tflm
def test_resolver_lines_cover_the_ops(exported):
    _, report = exported
    result = report.variants["int8_batch1"].micro
    assert "resolver.AddConv2D();" in result["resolver"]
    assert "resolver.AddResizeNearestNeighbor();" in result["resolver"]
    assert len(result["resolver"]) == len(result["ops"])
    assert micro.resolver_lines(["DEPTHWISE_CONV_2D", "FULLY_CONNECTED"]) == [
        "resolver.AddDepthwiseConv2D();",
        "resolver.AddFullyConnected();",
    ]
    markdown = (report.directory + "/report.md").replace("//", "/")
    text = open(markdown).read()
    assert "TFLM: accepted; tensor arena" in text and "TFLM: rejected" in text


@needs_tflm
def test_c_array_holds_the_int8_file_byte_for_byte(exported):
    directory, report = exported
    source = (directory / "decoder_int8_data.cc").read_text()
    header = (directory / "decoder_int8_data.h").read_text()
    assert report.c_array == "decoder_int8_data.cc"
    assert "alignas(16) const unsigned char g_decoder_int8_model[]" in source
    values = bytes(int(v, 16) for v in re.findall(r"0x([0-9a-f]{2})", source))
    expected = (directory / "decoder_int8_batch1.tflite").read_bytes()
    assert values == expected
    assert f"g_decoder_int8_model_len = {len(expected)};" in source
    arena = report.variants["int8_batch1"].micro["arena_bytes"]
    assert f"kTensorArenaSize = {-(-arena // 16) * 16};" in header
    scale = report.variants["int8_batch1"].quantization["input z"]["scale"]
    assert f"kInputZScale = {scale!r}f;" in header
    assert "kOutputImageZeroPoint = -128;" in header


def test_c_array_needs_int8(vae, tmp_path):
    with pytest.raises(ValueError, match="int8"):
        export.export_decoder(vae, tmp_path / "x", formats=("float32",), c_array=True, **SMALL)
    assert not (tmp_path / "x").exists()


def test_without_tflm_the_report_says_how_to_enable_it(vae, tmp_path):
    report = export.export_decoder(
        vae, tmp_path / "off", formats=("float32",), batch1_variant=False, micro=False, **SMALL
    )
    assert report.micro == "not run (micro=False)"
    assert report.variants["float32"].micro is None
    status, runner = micro.status(None)
    if not micro.available():
        assert status == f"skipped: {micro.INSTALL}" and runner is None


# Arm NN, in the system Python (Debian's python3-pyarmnn) --------------------------------------

SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin")
RUN_ARMNN = pathlib.Path(__file__).resolve().parents[2] / "keras_vae" / "export" / "run_armnn.py"


def _armnn_available() -> bool:
    if SYSTEM_PYTHON is None:
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import pyarmnn"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(
    not _armnn_available(), reason="Arm NN missing: apt-get install -y python3-pyarmnn"
)
def test_batch1_files_run_in_armnn_like_in_litert(exported, tmp_path):
    directory, _ = exported
    z = np.random.default_rng(9).standard_normal((6, LATENT_DIM)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    for name in ("float32_batch1", "int8_batch1"):
        path = directory / f"decoder_{name}.tflite"
        done = subprocess.run(
            [
                SYSTEM_PYTHON,
                str(RUN_ARMNN),
                str(path),
                str(tmp_path / "z.npy"),
                str(tmp_path / "o"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]
        assert json.loads(done.stdout.strip().splitlines()[-1])["ok"]
        armnn = np.load(tmp_path / "o.npy").reshape(6, 28, 28, 1)
        runner = export.litert.interpreter(path).get_signature_runner("decode")
        litert = np.concatenate([runner(z=z[i : i + 1])["image"] for i in range(6)])
        tolerance = 1e-5 if name.startswith("float32") else 1 / 256 + 1e-6
        np.testing.assert_allclose(armnn, litert, atol=tolerance, err_msg=name)


@needs_tflm
def test_firmware_table_registers_every_op_of_the_int8_file(exported):
    from keras_vae.export import firmware

    _, report = exported
    resolver = report.variants["int8_batch1"].micro["resolver"]
    table = {
        "means": np.zeros((1, LATENT_DIM), "float32"),
        "scale_tril": np.eye(LATENT_DIM, dtype="float32")[None],
        "weights": np.ones(1, "float32"),
        "names": ["prior"],
    }
    header = firmware.mixture_table(table, b"model", {"scale": 0.1, "zero_point": 0}, resolver)
    for line in resolver:
        assert line.replace("resolver.", "(resolver).") in header, line
    assert f"#define KERAS_VAE_OP_COUNT {len(resolver)}" in header
    source = firmware.SOURCE.read_text()
    assert "MicroMutableOpResolver<KERAS_VAE_OP_COUNT>" in source
    assert "g_decoder_int8_model" in source and "kTensorArenaSize" in source
