"""The firmware built against TensorFlow Lite for Microcontrollers and run on QEMU's
mps2-an386 board (Cortex-M4): equal to the Python TFLM interpreter byte for byte, and its
errors. Needs the TFLM tree at ../shared/tflm and the Arm toolchain + QEMU (`.ci/run`
installs them); TFLM's library is built once into build/tflm (about 5 minutes)."""

import json
import pathlib
import shutil

import numpy as np
import pytest
from export_helpers import untrained_small_vae

from keras_vae.export import firmware, micro
from keras_vae.samplers import GaussianMixtureSampler

ROOT = pathlib.Path(__file__).resolve().parents[2]
TFLM_DIR = ROOT.parent / "shared" / "tflm"
CACHE = ROOT / "build" / "tflm"
LATENT_DIM = 3
SHAPE = (28, 28, 1)


def _missing() -> str | None:
    if not (TFLM_DIR / "Makefile").is_file():
        return f"no TFLM tree at {TFLM_DIR}"
    try:
        firmware.check_toolchain()
    except firmware.FirmwareError as error:
        return str(error)
    if not micro.available():
        return f"TFLM's Python interpreter missing: {micro.INSTALL}"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def _mixture():
    rng = np.random.default_rng(5)
    tril = np.tril(0.4 * rng.standard_normal((3, LATENT_DIM, LATENT_DIM)))
    tril[:, np.arange(LATENT_DIM), np.arange(LATENT_DIM)] = [0.3, 0.6, 1.0]
    return GaussianMixtureSampler(
        rng.standard_normal((3, LATENT_DIM)) * 2.0, tril, [0.2, 0.3, 0.5], ["two", "five", "x"]
    )


@pytest.fixture(scope="module")
def vae():
    # N(0, I): the command's board then draws from the one component "prior".
    model = untrained_small_vae(LATENT_DIM, seed=7, prior="standard_normal")
    rng = np.random.default_rng(7)
    for weight in model.decoder.weights:
        weight.assign(weight + 0.05 * rng.standard_normal(weight.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def built(vae, tmp_path_factory):
    out = tmp_path_factory.mktemp("firmware")
    result = firmware.make_firmware(
        vae, _mixture(), TFLM_DIR, out, kernels="ref", cache=CACHE, num_verification_samples=12
    )
    return out, result


def test_firmware_json_holds_the_measured_numbers(built):
    out, result = built
    saved = json.loads((out / firmware.FIRMWARE_FILE).read_text())
    assert saved == json.loads(json.dumps(result))
    assert (out / "decoder_ref.elf").is_file()
    assert saved["kernels"] == "ref" and saved["components"] == ["two", "five", "x"]
    content = next((out / "export").glob("decoder_int8_batch1.tflite")).read_bytes()
    assert saved["model_bytes"] == len(content)
    assert saved["flash_bytes"] == saved["text_bytes"] + saved["data_bytes"] > len(content)
    assert saved["ram_bytes"] >= saved["arena_bytes"] >= saved["arena_bytes_used"] > 0
    # The 32-bit board's arena use is at most what the 64-bit host's bisection found.
    assert saved["arena_bytes_used"] <= saved["python_tflm_arena_bytes"]
    counts = saved["instructions_counted"]
    assert len(counts) == 4 and min(counts) > 10_000
    assert saved["ms_per_image"] == pytest.approx(
        saved["instructions_per_image"] / firmware.CLOCK_HZ * 1000
    )
    report = (out / "report.md").read_text()
    assert f"| {saved['instructions_per_image']:,} |" in report
    assert "Python TFLM check (host)" in report


@pytest.mark.parametrize("pool,seed", [(-1, 0), (-1, 12345), (0, 3), (2, 4294967295)])
def test_board_z_and_images_equal_python_byte_for_byte(built, pool, seed):
    out, result = built
    table = firmware.mixture_arrays(_mixture(), LATENT_DIM)
    board = firmware.run(out / result["elf"], pool, seed, 5, SHAPE, print_z=True)
    components, z = firmware.reference_draws(table, pool, seed, 5)
    assert board["components"] == components.tolist()
    np.testing.assert_array_equal(np.stack(board["z"]).view(np.uint32), z.view(np.uint32))
    header = (out / "src" / "decoder_mixture_table.h").read_text()
    scale = float(header.split("kMixtureInputScale = ")[1].split("f;")[0])
    zero_point = int(header.split("kMixtureInputZeroPoint = ")[1].split(";")[0])
    np.testing.assert_array_equal(np.stack(board["q"]), firmware.quantize(z, scale, zero_point))
    content = (out / "export" / "decoder_int8_batch1.tflite").read_bytes()
    expected = firmware.pixel_levels(micro.run(content, [z]))
    np.testing.assert_array_equal(np.stack(board["images"]), expected)
    if pool >= 0:
        assert set(components.tolist()) == {pool}


def test_pool_draws_sit_around_their_mean(built):
    table = firmware.mixture_arrays(_mixture(), LATENT_DIM)
    _, z = firmware.reference_draws(table, 1, 0, 400)
    np.testing.assert_allclose(z.mean(axis=0), table["means"][1], atol=0.2)
    covariance = table["scale_tril"][1] @ table["scale_tril"][1].T
    np.testing.assert_allclose(np.cov(z.T), covariance, atol=0.15)


@pytest.mark.parametrize(
    "arguments,message",
    [
        ([3, 0, 1], "error pool 3: expected -1 (the whole mixture) or a component 0..2"),
        ([-2, 0, 1], "error pool -2"),
        ([0, -1, 1], "error seed -1"),
        ([0, 0, 0], "error n 0"),
        ([0, "x", 1], "error seed x"),
        ([0, 0], "error usage: decoder POOL SEED N [z]"),
    ],
)
def test_bad_arguments_print_one_error_line(built, arguments, message):
    out, result = built
    done = firmware.run_board(out / result["elf"], arguments)
    assert done.returncode != 0
    assert done.stdout.splitlines() == [done.stdout.splitlines()[0]]
    assert done.stdout.startswith(message)


def test_arena_too_small_is_one_error_line(built, vae, tmp_path):
    out, result = built
    variant = json.loads((out / "export" / "report.json").read_text())["variants"]["int8_batch1"]
    content = (out / "export" / "decoder_int8_batch1.tflite").read_bytes()
    table = firmware.mixture_arrays(_mixture(), LATENT_DIM)
    small = firmware.build(
        content,
        out / "export",
        table,
        variant["quantization"]["input z"],
        variant["micro"]["resolver"],
        TFLM_DIR,
        tmp_path,
        kernels="ref",
        cache=CACHE,
        arena_bytes=result["arena_bytes_used"] // 2,
    )
    done = firmware.run_board(small["elf"], [0, 0, 1])
    assert done.returncode != 0
    assert done.stdout.splitlines() == [
        f"error tensor arena of {result['arena_bytes_used'] // 2} bytes is too small for this"
        " model (TFLM could not allocate its tensors); rebuild with a larger arena"
        " (keras-vae firmware --arena-bytes)"
    ]


def test_a_table_for_another_model_is_refused(built, tmp_path):
    out, result = built
    variant = json.loads((out / "export" / "report.json").read_text())["variants"]["int8_batch1"]
    content = (out / "export" / "decoder_int8_batch1.tflite").read_bytes()
    table = firmware.mixture_arrays(_mixture(), LATENT_DIM)
    arrays = tmp_path / "arrays"
    shutil.copytree(out / "export", arrays)
    elf = firmware.build(
        content[:-1] + bytes([content[-1] ^ 1]),  # the table is made for another model
        arrays,
        table,
        variant["quantization"]["input z"],
        variant["micro"]["resolver"],
        TFLM_DIR,
        tmp_path / "fw",
        kernels="ref",
        cache=CACHE,
    )["elf"]
    done = firmware.run_board(elf, [0, 0, 1])
    assert done.returncode != 0
    line = done.stdout.strip()
    assert line.startswith("error mixture table was written for model")
    assert f"the model array is {firmware.model_hash(content):08x}" in line


def test_wrong_tflm_dir_and_missing_ops_name_the_fix(tmp_path):
    with pytest.raises(firmware.FirmwareError, match="no such folder"):
        firmware.resolve_tflm_dir(tmp_path / "nowhere")
    with pytest.raises(firmware.FirmwareError, match="lacks Makefile"):
        firmware.resolve_tflm_dir(tmp_path)
    assert firmware.missing_ops(TFLM_DIR, ["resolver.AddConv2D();"]) == []
    assert firmware.missing_ops(TFLM_DIR, ["resolver.AddDiffusion();"]) == [
        "resolver.AddDiffusion();"
    ]


def test_missing_toolchain_names_the_packages(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(firmware.FirmwareError, match="apt-get install gcc-arm-none-eabi"):
        firmware.check_toolchain()


def test_mixture_of_another_latent_size_is_refused():
    expected = (
        r"`mixture` of latent_dim 8 \(the model's\); got a GaussianMixtureSampler of latent_dim 3"
    )
    with pytest.raises(ValueError, match=expected):
        firmware.mixture_arrays(_mixture(), 8)


def test_the_table_is_the_mixture_whatever_form_it_comes_in():
    from keras_vae.latent import LatentPools

    rng = np.random.default_rng(1)
    pools = LatentPools.fit_codes(rng.standard_normal((60, LATENT_DIM)), np.arange(60) % 3)
    table = firmware.mixture_arrays(pools, LATENT_DIM)
    mixture = pools.as_mixture()
    for name in ("means", "scale_tril", "weights"):
        np.testing.assert_array_equal(table[name], getattr(mixture, name))
    assert table["names"] == ["0", "1", "2"]
    with pytest.raises(TypeError, match="`mixture` as a GaussianMixture or an object with"):
        firmware.mixture_arrays(object(), LATENT_DIM)


def test_command_builds_runs_and_writes_a_grid(vae, tmp_path, capsys, monkeypatch):
    from keras_vae_cli import entry

    run = tmp_path / "run"
    run.mkdir()
    vae.save(run / "model.keras")
    out = tmp_path / "out"
    argv = ["firmware", str(run), "--out", str(out), "--kernels", "ref", "--no-count"]
    argv += ["--cache-dir", str(CACHE), "--run", "--pool", "0", "--seed", "9", "-n", "4"]
    monkeypatch.setenv("TFLM_DIR", str(TFLM_DIR))
    assert entry.main(argv) == 0
    saved = json.loads((out / "firmware.json").read_text())
    assert saved["components"] == ["prior"] and saved["instructions_per_image"] is None
    assert (out / "board_pool0_seed9.png").is_file()
    monkeypatch.delenv("TFLM_DIR")
    assert entry.main(argv) == 1
    assert "error: no TFLM folder: pass --tflm-dir DIR or set TFLM_DIR" in capsys.readouterr().err
    bad_pool = argv[:-6] + ["--tflm-dir", str(TFLM_DIR), "--run", "--pool", "5"]
    assert entry.main(bad_pool) == 1
    assert "error pool 5: expected -1 (the whole mixture) or a component 0..0" in (
        capsys.readouterr().err
    )
