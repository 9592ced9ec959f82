"""Edge export: files, op sets, fidelity against the Keras decoder, the gate, bad input."""

import json
import pathlib

import keras
import matplotlib.image
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from export_helpers import SMALL, ops_of
from keras_test_case import run_export_test

import keras_vae
from keras_vae import export
from keras_vae.export.report import ExportReport, psnr

LATENT_DIM = 2
# Every op the default and "resize" decoders/encoders lower to; all are TFLite builtins.
ALLOWED_OPS = {
    "CONV_2D",
    "TRANSPOSE_CONV",
    "FULLY_CONNECTED",
    "LOGISTIC",
    "RELU",
    "RESHAPE",
    "SHAPE",
    "STRIDED_SLICE",
    "PACK",
    "TILE",
    "CONCATENATION",
    "QUANTIZE",
    "DEQUANTIZE",
    "MUL",
    "ROUND",
    "CAST",
    "MINIMUM",
    "MAXIMUM",
    "RELU_0_TO_1",
    "EXPAND_DIMS",
}


def tiny_vae(images, upsampling="transpose", seed=3):
    keras.utils.set_random_seed(seed)
    encoder = keras_vae.Encoder(
        latent_dim=LATENT_DIM, conv_filters=(4, 8), dense_units=(16,), name="encoder"
    )
    decoder = keras_vae.Decoder(
        latent_dim=LATENT_DIM,
        conv_filters=(8, 4),
        dense_units=(16,),
        upsampling=upsampling,
        name="decoder",
    )
    # N(0, I): the export's verification latents are then standard normal rows.
    vae = keras_vae.VAE(
        encoder=encoder, decoder=decoder, latent_dim=LATENT_DIM, seed=seed, prior="standard_normal"
    )
    vae.compile()
    vae.fit(images, epochs=1, batch_size=64, verbose=0)
    return vae


def run_tflite(path, z):
    runner = Interpreter(model_path=str(path)).get_signature_runner("decode")
    ((name, details),) = runner.get_output_details().items()
    out = runner(z=z)[name]
    scale, zero_point = details["quantization"]
    if out.dtype == np.uint8:
        return (out.astype(np.float32) - zero_point) * scale if scale else out / 255.0
    return out


@pytest.fixture(scope="module")
def vae(tiny_images):
    return tiny_vae(tiny_images)


@pytest.fixture(scope="module")
def exported(vae, tmp_path_factory):
    directory = tmp_path_factory.mktemp("export") / "decoder"
    return run_export_test(
        vae,
        directory,
        num_verification_samples=64,
        num_calibration_samples=64,
        batch1_variant=True,
        latency_repeats=3,
        micro=False,
        verbose=0,
    )


def test_writes_every_file(exported):
    directory, report = exported
    names = {p.name for p in directory.iterdir()}
    expected = {f"decoder_{f}.tflite" for f in export.TFLITE_FORMATS}
    expected |= {f"decoder_{f}_batch1.tflite" for f in export.TFLITE_FORMATS}
    assert names == expected | {"saved_model", "report.json", "report.md", "sample_grids.png"}
    assert set(report.variants) == {p[:-7].removeprefix("decoder_") for p in expected}
    for variant in report.variants.values():
        assert variant.size_bytes == pathlib.Path(variant.path).stat().st_size


def test_only_builtin_ops_and_no_random_op(exported):
    directory, _ = exported
    for path in directory.glob("*.tflite"):
        _, ops = ops_of(path)
        assert set(ops) <= ALLOWED_OPS, (path.name, set(ops) - ALLOWED_OPS)
        assert not [op for op in ops if "FLEX" in op.upper() or "RANDOM" in op.upper()]


def test_int8_is_full_integer(exported):
    directory, _ = exported
    interpreter, _ = ops_of(directory / "decoder_int8.tflite")
    tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
    for op in interpreter._get_ops_details():
        if op["op_name"] in ("CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED"):
            dtypes = {tensors[i]["dtype"] for i in op["inputs"] if i >= 0}
            # int8 activations and weights, int32 biases, output shape as int32
            assert dtypes <= {np.int8, np.int32}, (op["op_name"], dtypes)
            assert np.int8 in dtypes
    (input_details,) = interpreter.get_input_details()
    (output_details,) = interpreter.get_output_details()
    assert input_details["dtype"] == np.float32 and output_details["dtype"] == np.float32


def test_saved_model_decode_signature_matches_keras(exported, vae):
    directory, _ = exported
    loaded = tf.saved_model.load(str(directory / "saved_model"))
    decode = loaded.signatures["decode"]
    z = np.random.default_rng(7).standard_normal((5, LATENT_DIM)).astype("float32")
    images = decode(z=tf.constant(z))["image"].numpy()
    np.testing.assert_allclose(images, vae.decode(z), atol=1e-5)
    graph = decode.graph.as_graph_def()
    graph_ops = {node.op for node in graph.node}
    graph_ops |= {node.op for f in graph.library.function for node in f.node_def}
    assert "Conv2DBackpropInput" in graph_ops  # the traced decoder body is visible
    assert not {op for op in graph_ops if "Random" in op}


def test_variants_match_keras_decoder_on_new_latents(exported, vae):
    directory, report = exported
    z = np.random.default_rng(11).standard_normal((64, LATENT_DIM)).astype("float32")
    expected = vae.decode(z)
    np.testing.assert_allclose(
        run_tflite(directory / "decoder_float32.tflite", z), expected, atol=1e-5
    )
    # The export's own verification latents: seed 0, the 64 calibration rows drawn first.
    rng = np.random.default_rng(0)
    rng.standard_normal((64, LATENT_DIM))
    verification = rng.standard_normal((64, LATENT_DIM)).astype("float32")
    for name in ("float16", "dynamic_range", "int8"):
        got = run_tflite(directory / f"decoder_{name}.tflite", z)
        independent = psnr(expected, got, 1.0)
        # Same model, another draw of latents: the reported PSNR is of the same size.
        assert abs(independent - report.variants[name].psnr_db) < 3.0, name
        # On the export's own latents the reported errors are exactly what the file gives.
        error = np.abs(
            run_tflite(directory / f"decoder_{name}.tflite", verification)
            - vae.decode(verification)
        )
        assert report.variants[name].max_abs_error == pytest.approx(error.max(), rel=1e-5)
        assert report.variants[name].mean_abs_error == pytest.approx(error.mean(), rel=1e-4)
    assert report.variants["int8"].psnr_db >= 30.0
    assert report.passed


def test_dynamic_batch_and_fixed_batch1(exported, vae):
    directory, report = exported
    for batch in (1, 7, 33):
        z = np.random.default_rng(batch).standard_normal((batch, LATENT_DIM)).astype("float32")
        assert run_tflite(directory / "decoder_float32.tflite", z).shape == (batch, 28, 28, 1)
    interpreter = Interpreter(model_path=str(directory / "decoder_int8_batch1.tflite"))
    assert list(interpreter.get_input_details()[0]["shape_signature"]) == [1, LATENT_DIM]
    assert (
        report.variants["int8"].dynamic_batch and not report.variants["int8_batch1"].dynamic_batch
    )
    assert report.variants["int8_batch1"].latency_ms_batch32 is None
    assert report.variants["int8"].latency_ms_batch32 > 0


def test_quantized_files_are_smaller(exported):
    _, report = exported
    sizes = {name: v.size_bytes for name, v in report.variants.items()}
    assert sizes["int8"] < sizes["float16"] < sizes["float32"]
    assert sizes["dynamic_range"] < sizes["float16"]


def test_report_json_round_trip_and_markdown(exported):
    directory, report = exported
    loaded = ExportReport.from_json((directory / "report.json").read_text())
    assert loaded == report
    markdown = (directory / "report.md").read_text()
    assert "| int8 |" in markdown and "Fidelity gate: passed" in markdown
    assert json.loads((directory / "report.json").read_text())["variants"]["int8"]["ops"]


def test_psnr_closed_form():
    reference = np.zeros((4, 3))
    assert psnr(reference, np.full((4, 3), 0.1), 1.0) == pytest.approx(20.0)
    assert psnr(reference, np.full((4, 3), 0.1), 2.0) == pytest.approx(20.0 + 20 * np.log10(2))
    assert psnr(reference, reference, 1.0) is None


def test_sample_grids_dark_on_light_with_every_panel(exported):
    directory, report = exported
    image = matplotlib.image.imread(directory / "sample_grids.png")
    # keras + 8 files in two rows of up to 5 panels, 2.8 inches at 100 dpi each.
    assert image.shape[1] == 5 * 280 and image.shape[0] > 2 * 200
    grey = image[..., :3].mean(axis=-1)
    # A white page with white gaps between tiles; the barely trained decoder's mid-grey
    # images fill the panels.
    assert (grey == 1.0).mean() > 0.25
    assert ((grey > 0.3) & (grey < 0.7)).mean() > 0.2
    assert report.grid == str(directory / "sample_grids.png")


def test_report_lists_int8_quantization_of_the_integer_ends(exported):
    directory, report = exported
    interpreter, _ = ops_of(directory / "decoder_int8.tflite")
    tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    first = next(op for op in ops if op["op_name"] == "QUANTIZE")
    last = next(op for op in reversed(ops) if op["op_name"] == "DEQUANTIZE")
    scale_in, zero_in = tensors[first["outputs"][0]]["quantization"]
    scale_out, zero_out = tensors[last["inputs"][0]]["quantization"]
    quantization = report.variants["int8"].quantization
    assert quantization["input z"]["scale"] == pytest.approx(scale_in)
    assert quantization["input z"]["zero_point"] == zero_in
    # A sigmoid output in int8: TFLite fixes its scale at 1/256 and zero point at -128.
    assert quantization["output image"] == {"scale": 1 / 256, "zero_point": -128, "dtype": "int8"}
    assert zero_out == -128 and scale_out == pytest.approx(1 / 256)
    assert report.variants["float32"].quantization == {}
    markdown = (directory / "report.md").read_text()
    assert f"scale {scale_in:.6g}, zero point {zero_in}" in markdown
    saved = json.loads((directory / "report.json").read_text())
    assert saved["variants"]["int8_batch1"]["quantization"]["input z"]["zero_point"] == zero_in


def test_private_upstream_apis_still_behave(exported):
    """Canaries for the private TensorFlow/LiteRT attributes the export relies on."""
    from keras_vae.export import conversion

    directory, _ = exported
    converter = tf.lite.TFLiteConverter.from_saved_model(str(directory / "saved_model"))
    assert hasattr(converter, conversion.PER_CHANNEL_DENSE_SWITCH)
    interpreter, ops = ops_of(directory / "decoder_int8.tflite")
    tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
    for op in interpreter._get_ops_details():
        assert {"op_name", "inputs", "outputs"} <= set(op)
        if op["op_name"] == "FULLY_CONNECTED":
            weights = tensors[op["inputs"][1]]
            # The switch took effect: one scale for the whole Dense kernel.
            assert len(weights["quantization_parameters"]["scales"]) == 1
    assert "FULLY_CONNECTED" in ops


def test_fidelity_gate_raises_and_keeps_the_report(vae, tmp_path):
    with pytest.raises(export.FidelityError, match="int8 has a PSNR") as info:
        export.export_decoder(
            vae,
            tmp_path / "gated",
            formats=("float32", "int8"),
            psnr_thresholds={"int8": 500.0},
            **SMALL,
        )
    report = info.value.report
    assert not report.passed and [v.name for v in report.failures()] == ["int8"]
    shares = report.variants["int8"].error_by_op_type
    assert shares and abs(sum(shares.values()) - 1.0) < 1e-3
    assert set(shares) <= ALLOWED_OPS
    assert "error added by op type" in str(info.value)
    saved = json.loads((tmp_path / "gated" / "report.json").read_text())
    assert saved["passed"] is False


def test_uint8_output(vae, tmp_path):
    report = export.export_decoder(
        vae,
        tmp_path / "u8",
        formats=("saved_model", "float32", "int8"),
        uint8_output=True,
        **SMALL,
    )
    z = np.random.default_rng(5).standard_normal((8, LATENT_DIM)).astype("float32")
    expected = vae.decode(z)
    for name in ("float32", "int8"):
        assert report.variants[name].outputs[0]["dtype"] == "uint8"
    runner = Interpreter(model_path=str(tmp_path / "u8" / "decoder_float32.tflite"))
    pixels = runner.get_signature_runner("decode")(z=z)["image"]
    np.testing.assert_array_equal(pixels, np.round(np.clip(expected, 0, 1) * 255).astype("uint8"))
    int8 = run_tflite(tmp_path / "u8" / "decoder_int8.tflite", z)
    assert np.abs(int8 - expected).max() < 0.1


def test_representative_images_and_latents(vae, tiny_images, tmp_path):
    options = SMALL | dict(formats=("int8",), num_verification_samples=8, num_calibration_samples=8)
    report = export.export_decoder(
        vae, tmp_path / "a", representative_samples=tiny_images[:10], **options
    )
    # 8 prior latents, then 10 posterior means and 10 posterior draws.
    assert report.num_calibration_samples == 28
    latents = np.zeros((5, LATENT_DIM), "float32")
    report = export.export_decoder(vae, tmp_path / "b", representative_samples=latents, **options)
    assert report.num_calibration_samples == 13
    with pytest.raises(ValueError, match="representative_samples"):
        export.export_decoder(
            vae, tmp_path / "c", representative_samples=np.zeros((4, 5)), **options
        )
    assert not (tmp_path / "c").exists()


def test_encoder_export_matches_encoder_mean(vae, tmp_path):
    report = export.export_encoder(
        vae,
        tmp_path / "enc",
        formats=("float32", "int8"),
        **SMALL,
    )
    images = vae.sample(4, seed=2)
    runner = Interpreter(model_path=str(tmp_path / "enc" / "encoder_float32.tflite"))
    z_mean = runner.get_signature_runner("encode")(images=images)["z_mean"]
    np.testing.assert_allclose(z_mean, vae.encode(images)[0], atol=1e-4)
    for path in (tmp_path / "enc").glob("*.tflite"):
        assert set(ops_of(path)[1]) <= ALLOWED_OPS
    assert report.grid is None and report.signature == "encode"


def test_autoencoder_decoder_export(tiny_images, tmp_path):
    model = keras_vae.AutoEncoder(latent_dim=LATENT_DIM)
    _, report = run_export_test(
        model,
        tmp_path / "ae",
        **(SMALL | dict(formats=("float32",), num_verification_samples=8)),
    )
    assert report.variants["float32"].max_abs_error < 1e-5


@pytest.mark.large
def test_default_resize_decoder_exports_with_a_dynamic_batch(tiny_images, tmp_path):
    vae = tiny_vae(tiny_images[:64], upsampling="resize")
    _, report = run_export_test(
        vae,
        tmp_path / "resize",
        formats=("float32", "int8"),
        **SMALL,
    )
    for name, variant in report.variants.items():
        assert variant.dynamic_batch, name
        assert not any("batch 1" in note for note in variant.notes), name
        assert "RESIZE_NEAREST_NEIGHBOR" in variant.ops, name
    assert report.variants["float32"].max_abs_error < 1e-5


def test_a_users_upsampling2d_decoder_falls_back_to_batch1(tiny_images, tmp_path):
    keras.utils.set_random_seed(0)
    decoder = keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            keras.layers.Dense(7 * 7 * 4, activation="relu"),
            keras.layers.Reshape((7, 7, 4)),
            keras.layers.UpSampling2D(2),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.UpSampling2D(2),
            keras.layers.Conv2D(1, 3, padding="same"),
        ]
    )
    encoder = keras_vae.Encoder(LATENT_DIM, conv_filters=(4,), dense_units=(8,))
    vae = keras_vae.VAE(encoder=encoder, decoder=decoder, latent_dim=LATENT_DIM, seed=0)
    report = export.export_decoder(
        vae,
        tmp_path / "upsampling2d",
        formats=("float32", "int8"),
        **SMALL,
    )
    # Keras UpSampling2D loses the static height for a dynamic batch; the export notes it
    # and writes fixed batch-1 files that still match the decoder.
    for variant in report.variants.values():
        assert not variant.dynamic_batch and variant.notes
        assert variant.inputs[0]["shape"] == [1, LATENT_DIM]
    assert report.variants["float32"].max_abs_error < 1e-5


# Bad input -----------------------------------------------------------------------------------


class _Unbuilt(keras.Model):
    def __init__(self):
        super().__init__()
        self.decoder = keras_vae.Decoder(latent_dim=LATENT_DIM)
        self.latent_dim = LATENT_DIM

    def output_mean(self, x):
        return x


def test_bad_models(tmp_path):
    with pytest.raises(ValueError, match="unbuilt"):
        export.export_decoder(_Unbuilt(), tmp_path / "x", verbose=0)
    no_decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="`decoder`"):
        export.export_decoder(no_decoder, tmp_path / "x", verbose=0)
    with pytest.raises(TypeError, match="`model`"):
        export.export_decoder("vae.keras", tmp_path / "x", verbose=0)
    assert not (tmp_path / "x").exists()


def test_bad_arguments(vae, tmp_path):
    with pytest.raises(ValueError, match="`formats`"):
        export.export_decoder(vae, tmp_path / "x", formats=("int4",), verbose=0)
    with pytest.raises(ValueError, match="`psnr_thresholds`"):
        export.export_decoder(vae, tmp_path / "x", psnr_thresholds={"int4": 3}, verbose=0)
    with pytest.raises(ValueError, match="num_verification_samples"):
        export.export_decoder(vae, tmp_path / "x", num_verification_samples=0, verbose=0)
    assert not (tmp_path / "x").exists()


def test_one_options_object_serves_both_exports(vae, tmp_path):
    options = export.ExportOptions(
        formats=("float32",), num_verification_samples=4, latency_repeats=1, micro=False, verbose=0
    )
    decoder = export.export_decoder(vae, tmp_path / "d", options=options, batch1_variant=False)
    encoder = export.export_encoder(vae, tmp_path / "e", options=options, batch1_variant=False)
    assert set(decoder.variants) == set(encoder.variants) == {"float32"}
    assert decoder.num_verification_samples == encoder.num_verification_samples == 4
    with pytest.raises(TypeError, match="num_samples"):
        export.export_decoder(vae, tmp_path / "x", options=options, num_samples=3)
    with pytest.raises(ValueError, match="uint8_output"):
        export.export_encoder(vae, tmp_path / "x", options=options, uint8_output=True)
    with pytest.raises(ValueError, match="c_array"):
        export.export_decoder(vae, tmp_path / "x", options=options, c_array=True)
    assert not (tmp_path / "x").exists()


def test_a_train_run_directory_exports_model_keras(vae, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    other = keras_vae.VAE(latent_dim=LATENT_DIM + 1)
    other(np.zeros((1, 28, 28, 1), "float32"))
    # `keras-vae train` writes model.keras next to last.keras, which sorts first.
    keras_vae.save_model(vae, run / "model.keras")
    keras_vae.save_model(other, run / "last.keras")
    assert export.load_model_for_export(run).latent_dim == LATENT_DIM


def test_existing_directory_is_not_overwritten(vae, tmp_path):
    directory = tmp_path / "taken"
    directory.mkdir()
    (directory / "decoder_float32.tflite").write_bytes(b"mine")
    (directory / "notes.txt").write_text("keep")
    options = SMALL | dict(formats=("float32",), num_verification_samples=4)
    with pytest.raises(ValueError, match="overwrite=True"):
        export.export_decoder(vae, directory, **options)
    assert (directory / "decoder_float32.tflite").read_bytes() == b"mine"
    assert sorted(p.name for p in directory.iterdir()) == ["decoder_float32.tflite", "notes.txt"]
    export.export_decoder(vae, directory, overwrite=True, **options)
    assert (directory / "decoder_float32.tflite").read_bytes()[4:8] == b"TFL3"
    assert (directory / "notes.txt").read_text() == "keep"
    assert not [p for p in directory.iterdir() if p.name.startswith(".export-")]


def test_unwritable_directory(vae, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ValueError, match="cannot write to `directory`"):
        export.export_decoder(vae, blocker / "sub", formats=("float32",), verbose=0)
    with pytest.raises(ValueError, match="as a folder"):
        export.export_decoder(vae, blocker, formats=("float32",), verbose=0)
    assert blocker.read_text() == "a file, not a folder"


# Command line ---------------------------------------------------------------------------------


def test_keras_vae_export_refuses_bad_files_in_one_line(vae, tmp_path, capsys):
    # `keras-vae export` (which replaced export/export_decoder.py) names the file and what is
    # wrong with it, and writes nothing.
    from keras_vae import cli

    def export_to(model, out):
        return cli.main(["export", "--model", str(model), "--output-dir", str(tmp_path / out)])

    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip archive")
    text = tmp_path / "model.h5"
    text.write_text("weights")
    empty_run = tmp_path / "empty_run"
    empty_run.mkdir()
    cases = [
        (corrupt, "corrupt.keras"),
        (text, "model.h5 is not a readable '.keras' file"),
        (tmp_path / "missing.keras", "found no file or folder"),
        (empty_run, "model.keras and vae.keras"),
    ]
    for index, (model, expected) in enumerate(cases, start=1):
        capsys.readouterr()
        assert export_to(model, f"o{index}") == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 5))
