"""The run folder (keras_vae/run_folder.py): one layout written by `keras-vae train` and the
example, read by every `keras-vae` command; and the quiet console of the command and the
example, checked on the example's `--quick` output in subprocesses."""

import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import keras_vae
from keras_vae import cli, run_folder, saving
from keras_vae.samplers import GaussianMixtureSampler

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "mnist_vae.py"
# TensorFlow's, absl's and the converter's lines that neither the command nor the example may
# show unless asked for.
NOISE = re.compile(
    r"oneDNN custom operations|Could not find cuda drivers|cuInit|absl::InitializeLog"
    r"|cpu_feature_guard|Variant folder|fully_quantize|XNNPACK delegate|^[IWE]\d{4} ",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def trained(mnist_sample):
    images, labels = mnist_sample[0][::10], mnist_sample[1][::10]
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    model.compile()
    history = model.fit(images, epochs=1, batch_size=128, verbose=0)
    return model, images, labels, history.history


def test_write_then_read_every_file(trained, tmp_path):
    model, images, labels, history = trained
    run_folder.write_model(model, tmp_path)
    pools_path = run_folder.write_pools(model, images, labels, tmp_path)
    mixture = GaussianMixtureSampler.fit(model, images, n_components=3, seed=0)
    run_folder.write_mixture(mixture, tmp_path)
    run_folder.write_history(history, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["model.keras", "pools.npz", "mixture.json", "history.json"]
    )
    assert run_folder.model_path(tmp_path) == tmp_path / "model.keras"
    pools = run_folder.read_pools(tmp_path, model)
    assert sorted(pools.labels.tolist()) == sorted(set(labels.tolist()))
    assert pools.generate(int(labels[0]), n=3, seed=0).shape == (3, 28, 28, 1)
    assert run_folder.read_mixture(tmp_path / "model.keras", model).n_components == 3
    assert run_folder.read_history(tmp_path)["loss"] == pytest.approx(history["loss"])
    # Nothing is silently replaced.
    with pytest.raises(FileExistsError):
        run_folder.write_pools(model, images, labels, tmp_path)
    assert pools_path.stat().st_size > 0


def test_class_names_key_the_pools(trained, tmp_path):
    model, images, labels, _ = trained
    names = [f"digit {k}" for k in range(10)]
    run_folder.write_pools(model, images, labels, tmp_path, class_names=names)
    assert "digit 7" in run_folder.read_pools(tmp_path, model).labels.tolist()


def test_missing_files_are_named_with_what_writes_them(trained, tmp_path):
    model = trained[0]
    with pytest.raises(
        FileNotFoundError, match=r"no pools file at .*pools\.npz; `keras-vae train`"
    ):
        run_folder.read_pools(tmp_path, model)
    with pytest.raises(FileNotFoundError, match=r"no mixture file at .*mixture\.json.*--mixture"):
        run_folder.read_mixture(tmp_path, model)
    (tmp_path / "history.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        run_folder.read_history(tmp_path)
    with pytest.raises(TypeError, match="History.history"):
        run_folder.write_history([1.0], tmp_path)


def test_a_folder_of_the_earlier_example_keeps_loading(trained, tmp_path, capsys):
    # Before the shared layout the example wrote vae.keras and mixture.json, and no pools.
    model, images, _, _ = trained
    saving.save_model(model, tmp_path / "vae.keras")
    GaussianMixtureSampler.fit(model, images, n_components=3, seed=0).save(
        tmp_path / "mixture.json"
    )
    out = tmp_path / "drawn"
    argv = ["sample", "--model", str(tmp_path), "--sampler", "mixture", "--n", "4"]
    assert cli.main([*argv, "--output-dir", str(out)]) == 0
    assert np.load(out / "samples.npy").shape == (4, 28, 28, 1)
    argv = ["sample", "--model", str(tmp_path), "--pool", "7", "--output-dir", str(out / "7")]
    assert cli.main(argv) == 1
    assert "no pools file at" in capsys.readouterr().err


def _environment(**extra) -> dict:
    # This worktree's package, and no log level of ours: the quiet start is under test.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env | extra


def keras_vae_command(*argv, **extra):
    code = "import sys; from keras_vae_cli.entry import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, argv)],
        capture_output=True,
        text=True,
        env=_environment(**extra),
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The example's `--quick` run in a fresh process, as `make demo` starts it."""
    out = tmp_path_factory.mktemp("demo") / "run"
    argv = ["--quick", "--quiet", "--dataset", "sample", "--output-dir", str(out)]
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *argv],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return out, done


@pytest.mark.large
@pytest.mark.subprocess
def test_the_example_writes_the_run_folder_of_train_quietly(demo_run):
    out, done = demo_run
    for name in ("model.keras", "pools.npz", "mixture.json", "history.json"):
        assert (out / name).stat().st_size > 0, name
    assert keras_vae.load_model(out / "model.keras").prior is not None
    assert set(json.loads((out / "history.json").read_text())) >= {"loss", "kl_loss"}
    assert not NOISE.search(done.stderr), done.stderr
    assert not NOISE.search(done.stdout), done.stdout
    # The export's named stages instead of anonymous steps.
    assert "converting int8 ..." in done.stdout
    assert "verifying int8 against Keras ..." in done.stdout


@pytest.mark.large
@pytest.mark.subprocess
def test_every_verb_reads_the_example_run_folder_quietly(demo_run):
    out, _ = demo_run
    sevens = keras_vae_command(
        "sample", "--model", out, "--pool", "7", "--n", "16", "--output-dir", out / "7"
    )
    assert sevens.returncode == 0, sevens.stderr
    assert np.load(out / "7" / "samples.npy").shape == (16, 28, 28, 1)
    evaluated = keras_vae_command(
        "evaluate", "--model", out, "--dataset", "sample", "--limit", "50", "--num-samples", "2"
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert "negative ELBO" in evaluated.stdout
    exported = keras_vae_command(
        "export", "--model", out, "--output-dir", out / "again", "--formats", "int8"
    )
    assert exported.returncode == 0, exported.stderr
    assert "generate" in (out / "again" / "report.md").read_text()
    for done in (sevens, evaluated, exported):
        assert not NOISE.search(done.stderr), done.stderr
        assert not NOISE.search(done.stdout), done.stdout


@pytest.mark.large
@pytest.mark.subprocess
def test_errors_still_show_and_the_user_can_ask_for_everything(demo_run, tmp_path):
    missing = keras_vae_command("sample", "--model", tmp_path / "nowhere", "--output-dir", tmp_path)
    assert missing.returncode == 1
    assert "keras-vae sample: error:" in missing.stderr and "nowhere" in missing.stderr
    assert not NOISE.search(missing.stderr), missing.stderr
    # The user's own log level, or --verbose, shows TensorFlow as it prints (the CUDA probe
    # or the CPU-feature line, whichever this machine gives).
    out, _ = demo_run
    argv = ["export", "--model", out, "--formats", "int8"]
    loud = keras_vae_command(*argv, "--output-dir", tmp_path / "loud", "--verbose")
    assert loud.returncode == 0, loud.stderr
    assert "fully_quantize" in loud.stderr + loud.stdout
    own = keras_vae_command(*argv, "--output-dir", tmp_path / "own", TF_CPP_MIN_LOG_LEVEL="0")
    assert own.returncode == 0, own.stderr
    assert re.search(r"^[IWE]\d{4} ", own.stderr, re.MULTILINE), own.stderr
