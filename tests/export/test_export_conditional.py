"""Edge export of a ConditionalVAE decoder: `decode(z, labels)` in the SavedModel and TFLite."""

import runpy

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from export_helpers import RUN_TFLITE, ops_of
from keras_test_case import run_export_test

import keras_vae
from keras_vae import cli, export
from keras_vae.export import targets
from keras_vae.export.inputs import grid_layout
from keras_vae.export.report import ExportReport, psnr
from keras_vae.export.targets import CHOICE_LEVELS
from keras_vae.latent import GaussianMixture
from keras_vae.models.conditional_vae import CLASS_PRIOR_COMPONENTS
from keras_vae.samplers import GaussianMixtureSampler

LATENT_DIM = 2
NUM_CLASSES = 10
# What the small conditional decoder lowers to; all TFLite builtins.
ALLOWED_OPS = {
    "CONCATENATION",
    "CONV_2D",
    "TRANSPOSE_CONV",
    "FULLY_CONNECTED",
    "LOGISTIC",
    "RELU",
    "RESHAPE",
    "SHAPE",
    "STRIDED_SLICE",
    "PACK",
    "QUANTIZE",
    "DEQUANTIZE",
}


def tiny_cvae(seed=2, upsampling="transpose", prior="class_conditional"):
    """A ConditionalVAE with small networks of the default shape: [z, one_hot] -> logits.

    `upsampling` is the package Decoder's; `"upsampling2d"` swaps in Keras's own
    `UpSampling2D`, which converts only with batch 1.
    """
    keras.utils.set_random_seed(seed)
    z = keras.Input((LATENT_DIM,), name="z")
    labels = keras.Input((NUM_CLASSES,), name="labels")
    joined = keras.layers.Concatenate(name="join")([z, labels])
    if upsampling == "upsampling2d":
        body = keras.Sequential(
            [
                keras.layers.Dense(7 * 7 * 4, activation="relu"),
                keras.layers.Reshape((7, 7, 4)),
                keras.layers.UpSampling2D(2),
                keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                keras.layers.UpSampling2D(2),
                keras.layers.Conv2D(1, 3, padding="same"),
            ],
            name="body",
        )
    else:
        body = keras_vae.Decoder(
            latent_dim=LATENT_DIM + NUM_CLASSES,
            conv_filters=(8, 4),
            dense_units=(16,),
            upsampling=upsampling,
            name="body",
        )
    logits = body(joined)
    decoder = keras.Model([z, labels], logits, name="decoder")
    images = keras.Input((28, 28, 1), name="images")
    labels_in = keras.Input((NUM_CLASSES,), name="labels")
    flat = keras.layers.Concatenate(name="join")([keras.layers.Flatten()(images), labels_in])
    hidden = keras.layers.Dense(32, activation="relu")(flat)
    outputs = [keras.layers.Dense(LATENT_DIM, name=n)(hidden) for n in ("z_mean", "z_log_var")]
    encoder = keras.Model([images, labels_in], outputs, name="encoder")
    return keras_vae.ConditionalVAE(
        encoder=encoder,
        decoder=decoder,
        num_classes=NUM_CLASSES,
        latent_dim=LATENT_DIM,
        prior=prior,
        seed=seed,
    )


def balanced_inputs(n, seed):
    z = np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype("float32")
    return z, np.arange(n) % NUM_CLASSES


def one_hot(labels):
    return np.eye(NUM_CLASSES, dtype="float32")[labels]


def run_tflite(path, z, labels):
    runner = Interpreter(model_path=str(path)).get_signature_runner("decode")
    return runner(z=z, labels=one_hot(labels))["image"]


@pytest.fixture(scope="module")
def digits(mnist_sample):
    # The sample is sorted by class: a stride covers all ten digits.
    return mnist_sample[0][::20], mnist_sample[1][::20]


@pytest.fixture(scope="module")
def cvae(digits):
    model = tiny_cvae()
    model.compile()
    model.fit(*digits, epochs=2, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def exported(cvae, tmp_path_factory):
    return export_three_formats(cvae, tmp_path_factory.mktemp("export") / "cvae", samples=40)


def export_three_formats(model, directory, samples, **options):
    """The SavedModel, float32 and int8 files of `model`, verified on `samples` inputs."""
    options = {"batch1_variant": True, "latency_repeats": 2} | options
    return run_export_test(
        model,
        directory,
        formats=("saved_model", "float32", "int8"),
        num_verification_samples=samples,
        num_calibration_samples=samples,
        micro=False,
        verbose=0,
        **options,
    )


def test_files_inputs_and_builtin_ops(exported):
    directory, report = exported
    names = {p.name for p in directory.iterdir()}
    tflite = {f"decoder_{v}.tflite" for v in ("float32", "int8", "float32_batch1", "int8_batch1")}
    assert names == tflite | {"saved_model", "report.json", "report.md", "sample_grids.png"}
    assert report.input_shapes == {"z": [None, LATENT_DIM], "labels": [None, NUM_CLASSES]}
    for name, variant in report.variants.items():
        interpreter, ops = ops_of(directory / f"decoder_{name}.tflite")
        ops = set(ops)
        assert ops <= ALLOWED_OPS, (name, ops - ALLOWED_OPS)
        runner = interpreter.get_signature_runner("decode")
        batch = 1 if name.endswith("_batch1") else -1
        shapes = {k: list(d["shape_signature"]) for k, d in runner.get_input_details().items()}
        assert shapes == {"z": [batch, LATENT_DIM], "labels": [batch, NUM_CLASSES]}
        assert {d["dtype"] for d in runner.get_input_details().values()} == {np.float32}
        assert {t["name"] for t in variant.inputs} == {"z", "labels"}


def test_saved_model_takes_z_and_labels(exported, cvae):
    directory, _ = exported
    decode = tf.saved_model.load(str(directory / "saved_model")).signatures["decode"]
    z, labels = balanced_inputs(6, seed=7)
    images = decode(z=tf.constant(z), labels=tf.constant(one_hot(labels)))["image"].numpy()
    np.testing.assert_allclose(images, cvae.decode(z, labels), atol=1e-5)


def test_variants_match_keras_with_balanced_labels(exported, cvae):
    directory, report = exported
    z, labels = balanced_inputs(50, seed=11)
    expected = cvae.decode(z, labels)
    np.testing.assert_allclose(
        run_tflite(directory / "decoder_float32.tflite", z, labels), expected, atol=1e-5
    )
    int8 = run_tflite(directory / "decoder_int8.tflite", z, labels)
    # Another draw of latents: the reported PSNR is of the same size, and above the gate.
    assert abs(psnr(expected, int8, 1.0) - report.variants["int8"].psnr_db) < 3.0
    assert report.variants["int8"].psnr_db >= 30.0 and report.passed
    # The labels input is live: another digit from the same z moves the Keras output far
    # beyond the float32 tolerance, and the file follows it.
    other = (labels + 5) % NUM_CLASSES
    assert np.abs(cvae.decode(z, other) - expected).max() > 1e-2
    np.testing.assert_allclose(
        run_tflite(directory / "decoder_float32.tflite", z, other),
        cvae.decode(z, other),
        atol=1e-5,
    )
    runner = Interpreter(model_path=str(directory / "decoder_int8_batch1.tflite"))
    single = runner.get_signature_runner("decode")(z=z[:1], labels=one_hot(labels[:1]))["image"]
    assert np.abs(single - expected[:1]).max() < 0.05


def test_report_and_grid_one_row_per_class(exported):
    directory, report = exported
    assert ExportReport.from_json((directory / "report.json").read_text()) == report
    markdown = (directory / "report.md").read_text()
    assert "inputs `z` (None, 2), `labels` (None, 10)" in markdown
    assert report.grid and (directory / "sample_grids.png").read_bytes()[:4] == b"\x89PNG"
    one_hot_labels = one_hot(np.random.default_rng(0).permutation(np.arange(40) % NUM_CLASSES))
    indices, columns = grid_layout(one_hot_labels, 40)
    assert columns == 4 and len(indices) == 40
    rows = one_hot_labels[indices].argmax(axis=1).reshape(NUM_CLASSES, columns)
    np.testing.assert_array_equal(rows, np.repeat(np.arange(NUM_CLASSES)[:, None], columns, 1))


def test_representative_samples_with_labels(cvae, digits, tmp_path):
    options = dict(
        formats=("int8",),
        num_verification_samples=10,
        num_calibration_samples=10,
        latency_repeats=1,
        batch1_variant=False,
        micro=False,
        verbose=0,
    )
    images, labels = digits[0][:6], digits[1][:6]
    report = export.export_decoder(
        cvae, tmp_path / "a", representative_samples=(images, labels), **options
    )
    # 10 prior latents, then 6 posterior means and 6 posterior draws.
    assert report.num_calibration_samples == 22 and report.passed
    latents = np.zeros((3, LATENT_DIM), "float32")
    report = export.export_decoder(cvae, tmp_path / "b", representative_samples=latents, **options)
    assert report.num_calibration_samples == 13
    with pytest.raises(ValueError, match="representative_samples.*without labels"):
        export.export_decoder(cvae, tmp_path / "c", representative_samples=images, **options)
    with pytest.raises(ValueError, match="representative_samples"):
        export.export_decoder(
            cvae, tmp_path / "d", representative_samples=(images, labels[:2]), **options
        )
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_upsampling2d_decoder_falls_back_to_batch1(generator, tmp_path):
    # An untrained model is enough: float32 must follow Keras exactly either way.
    model = tiny_cvae(upsampling="upsampling2d")
    report = export.export_decoder(
        model,
        tmp_path / "resize",
        formats=("float32",),
        num_verification_samples=20,
        latency_repeats=1,
        batch1_variant=False,
        micro=False,
        verbose=0,
    )
    variant = report.variants["float32"]
    assert not variant.dynamic_batch and "batch 1" in variant.notes[0]
    assert {t["name"]: t["shape"] for t in variant.inputs} == {
        "z": [1, LATENT_DIM],
        "labels": [1, NUM_CLASSES],
    }
    assert variant.max_abs_error < 1e-5
    # The reference generator feeds a batch-1 file one example at a time.
    _, runner = generator["load_decoder"](tmp_path / "resize" / "decoder_float32.tflite")
    z, labels = balanced_inputs(3, seed=5)
    images = generator["generate"](runner, z, one_hot(labels))
    np.testing.assert_allclose(images, model.decode(z, labels), atol=1e-5)


def test_encoder_export_refuses_a_conditional_model(cvae, tmp_path):
    with pytest.raises(ValueError, match="ConditionalVAE.*export_decoder"):
        export.export_encoder(cvae, tmp_path / "enc", verbose=0)
    assert not (tmp_path / "enc").exists()


# The reference generator and the command lines --------------------------------------------


@pytest.fixture(scope="module")
def generator():
    return runpy.run_path(str(RUN_TFLITE))


def test_run_tflite_label_draws_that_digit(generator, exported, cvae, tmp_path):
    directory, _ = exported
    for name in ("decoder_float32.tflite", "decoder_float32_batch1.tflite"):
        out = tmp_path / name
        args = [str(directory / name), "--num", "5", "--label", "3", "--npy", f"{out}.npy"]
        assert generator["main"]([*args, "--latents-npy", f"{out}_z.npy"]) == 0
        z = np.load(f"{out}_z.npy")
        np.testing.assert_allclose(np.load(f"{out}.npy"), cvae.decode(z, 3), atol=1e-5)
    # Without --label the classes take turns, as ConditionalVAE.sample does.
    args = [str(directory / "decoder_float32.tflite"), "--num", "12", "--npy", f"{out}.npy"]
    assert generator["main"]([*args, "--latents-npy", f"{out}_z.npy"]) == 0
    z = np.load(f"{out}_z.npy")
    expected = cvae.decode(z, np.arange(12) % NUM_CLASSES)
    np.testing.assert_allclose(np.load(f"{out}.npy"), expected, atol=1e-5)


def test_run_tflite_bad_label(generator, exported, tmp_path, capsys):
    directory, _ = exported
    args = [str(directory / "decoder_int8.tflite"), "--npy", str(tmp_path / "x.npy")]
    assert generator["main"]([*args, "--label", "10"]) == 2
    assert "--label must be in [0, 10); got 10" in capsys.readouterr().err
    assert not (tmp_path / "x.npy").exists()
    _, runner = generator["load_decoder"](directory / "decoder_int8.tflite")
    with pytest.raises(ValueError, match="labels were not given"):
        generator["generate"](runner, np.zeros((2, LATENT_DIM), np.float32))


def test_keras_vae_export_command_on_a_conditional_model(cvae, tmp_path, capsys):
    cvae.save(tmp_path / "model.keras")
    out = tmp_path / "export"
    code = cli.main(
        ["export", "--model", str(tmp_path / "model.keras"), "--output-dir", str(out)]
        + ["--formats", "float32"]
    )
    assert code == 0, capsys.readouterr().err
    assert "inputs `z` (None, 2), `labels` (None, 10)" in capsys.readouterr().out
    interpreter = Interpreter(model_path=str(out / "decoder_float32.tflite"))
    # The model's prior per class travels with it: `generate` draws from p(z | y).
    assert set(interpreter.get_signature_list()) == {"decode", "generate"}
    z, labels = balanced_inputs(4, seed=3)
    images = interpreter.get_signature_runner("decode")(z=z, labels=one_hot(labels))["image"]
    np.testing.assert_allclose(images, cvae.decode(z, labels), atol=1e-5)


# generate(noise, component, choice): the class prior on the device -------------------------


@pytest.fixture(scope="module")
def prior_cvae():
    """A conditional VAE whose class prior has distinct components and unequal weights (the
    default prior has one Gaussian per class at this latent size: this one has several)."""
    prior = keras_vae.ClassConditionalPrior(
        LATENT_DIM, NUM_CLASSES, num_components=CLASS_PRIOR_COMPONENTS, seed=3
    )
    model = tiny_cvae(seed=3, prior=prior)
    prior = model.prior
    c, k = prior.num_classes, prior.num_components
    rng = np.random.default_rng(4)
    prior.set_parameters(
        rng.normal(size=(c, k, LATENT_DIM)) * 2.0,
        rng.normal(size=(c, k, LATENT_DIM)) * 0.3,
        rng.normal(size=(c, k)) * 2.0,
    )
    return model


@pytest.fixture(scope="module")
def prior_exported(prior_cvae, tmp_path_factory):
    directory = tmp_path_factory.mktemp("prior") / "cvae"
    return export_three_formats(
        prior_cvae, directory, 20, sampler=prior_cvae.prior, batch1_variant=False
    )


def prior_draw(model, noise, labels, choice):
    """z from p(z | y) written from the prior's own parameters: the Gaussian whose
    cumulative weight first exceeds choice / CHOICE_LEVELS, then mean + scale * noise."""
    z = []
    for row, label, pick in zip(noise, labels, choice):
        means, scales, weights = model.prior.component_parameters(int(label))
        k = np.searchsorted(np.cumsum(weights), pick / CHOICE_LEVELS, side="right")
        k = min(k, len(weights) - 1)
        z.append(means[k] + scales[k] * row)
    return np.asarray(z, "float32")


def test_generate_draws_the_class_prior(prior_exported, prior_cvae):
    directory, report = prior_exported
    rng = np.random.default_rng(5)
    noise = rng.standard_normal((30, LATENT_DIM)).astype("float32")
    labels = (np.arange(30) % NUM_CLASSES).astype("int32")
    choice = rng.integers(0, CHOICE_LEVELS, 30).astype("int32")
    expected = prior_cvae.decode(prior_draw(prior_cvae, noise, labels, choice), labels)
    loaded = tf.saved_model.load(str(directory / "saved_model"))
    feeds = dict(noise=noise, component=labels, choice=choice)
    np.testing.assert_allclose(
        loaded.signatures["generate"](**feeds)["image"].numpy(), expected, atol=1e-5
    )
    for name in ("float32", "int8"):
        interpreter, ops = ops_of(directory / f"decoder_{name}.tflite")
        assert not [op for op in ops if "FLEX" in op or "CUSTOM" in op], ops
        got = interpreter.get_signature_runner("generate")(**feeds)["image"]
        if name == "float32":
            np.testing.assert_allclose(got, expected, atol=1e-5)
        else:
            assert psnr(expected, got, 1.0) > 30
    assert report.variants["int8"].signatures["generate"]["psnr_db"] > 30
    # Every component of a class is reachable, in proportion to its weight: over the whole
    # range of `choice`, zero noise decodes each component's mean.
    sweep = np.arange(0, CHOICE_LEVELS, 64, dtype="int32")
    zero = np.zeros((len(sweep), LATENT_DIM), "float32")
    seven = np.full(len(sweep), 7, "int32")
    got = loaded.signatures["generate"](noise=zero, component=seven, choice=sweep)["image"]
    means, _, weights = prior_cvae.prior.component_parameters(7)
    decoded = prior_cvae.decode(means, np.full(len(means), 7)).reshape(len(means), -1)
    nearest = np.abs(got.numpy().reshape(len(sweep), 1, -1) - decoded).max(axis=-1).argmin(axis=1)
    np.testing.assert_allclose(
        np.bincount(nearest, minlength=len(means)) / len(sweep), weights, atol=0.01
    )


def test_run_tflite_label_draws_from_the_class_prior(
    generator, prior_exported, prior_cvae, tmp_path
):
    directory, _ = prior_exported
    out = tmp_path / "sevens"
    args = [str(directory / "decoder_float32.tflite"), "--num", "6", "--label", "7", "--seed", "9"]
    assert generator["main"]([*args, "--npy", f"{out}.npy", "--latents-npy", f"{out}_z.npy"]) == 0
    # The script draws the noise, then the choice, from one generator seeded with --seed.
    rng = np.random.default_rng(9)
    noise = rng.standard_normal((6, LATENT_DIM)).astype("float32")
    choice = rng.integers(0, CHOICE_LEVELS, 6)
    np.testing.assert_array_equal(np.load(f"{out}_z.npy"), noise)
    labels = np.full(6, 7)
    expected = prior_cvae.decode(prior_draw(prior_cvae, noise, labels, choice), labels)
    np.testing.assert_allclose(np.load(f"{out}.npy"), expected, atol=1e-5)


def test_generate_of_a_conditional_model_needs_its_class_prior(prior_cvae, tmp_path):
    codes = np.random.default_rng(0).standard_normal((50, LATENT_DIM))
    mixture = GaussianMixtureSampler.fit_codes(codes, 2, seed=0)
    with pytest.raises(ValueError, match="sampler=model.prior.*GaussianMixtureSampler"):
        export.export_decoder(prior_cvae, tmp_path / "x", sampler=mixture, verbose=0)
    assert not (tmp_path / "x").exists()


def test_the_class_mixtures_keep_the_class_priors_numbers(prior_cvae):
    """One GaussianMixture per class, its weights on the grid of `choice`: the exported
    thresholds read back from the mixtures are those of the prior's own weights, and the
    means and scales are the prior's, bit for bit."""
    source = targets.class_mixtures(prior_cvae.prior)
    tables = targets.generate_tables(source)
    assert source.names == tuple(str(y) for y in range(NUM_CLASSES))
    for label, mixture in enumerate(source.mixtures):
        means, scales, weights = prior_cvae.prior.component_parameters(label)
        thresholds = np.round(np.cumsum(weights) * CHOICE_LEVELS).astype("int32")
        thresholds[-1] = CHOICE_LEVELS
        np.testing.assert_array_equal(tables["thresholds"][label], thresholds)
        np.testing.assert_array_equal(mixture.means, means)
        np.testing.assert_array_equal(np.diagonal(mixture.scale_tril, axis1=1, axis2=2), scales)
        np.testing.assert_allclose(mixture.weights, weights, atol=1 / CHOICE_LEVELS)
        on_grid = np.diff(thresholds, prepend=0)
        np.testing.assert_array_equal(mixture.weights * CHOICE_LEVELS, on_grid)


def test_class_mixtures_of_another_shape_are_refused(prior_cvae, tmp_path):
    three = GaussianMixture.standard_normal(LATENT_DIM + 1)
    wrong_size = targets.ClassMixtures(("a",) * NUM_CLASSES, (three,) * NUM_CLASSES)
    with pytest.raises(ValueError, match=f"`sampler` of latent_dim {LATENT_DIM}"):
        export.export_decoder(prior_cvae, tmp_path / "x", sampler=wrong_size, verbose=0)
    one = GaussianMixture.standard_normal(LATENT_DIM)
    too_few = targets.ClassMixtures(("a",), (one,))
    with pytest.raises(
        ValueError, match=f"one mixture and one name per class \\({NUM_CLASSES}\\); got 1"
    ):
        export.export_decoder(prior_cvae, tmp_path / "x", sampler=too_few, verbose=0)
    full = GaussianMixture(np.zeros((1, LATENT_DIM)), [np.tril(np.ones((LATENT_DIM,) * 2))], [1])
    not_diagonal = targets.ClassMixtures(("a",) * NUM_CLASSES, (full,) * NUM_CLASSES)
    with pytest.raises(ValueError, match="diagonal Gaussians per class"):
        export.export_decoder(prior_cvae, tmp_path / "x", sampler=not_diagonal, verbose=0)
    assert not (tmp_path / "x").exists()
