"""examples/images_vae.py on a small folder: the model, the pools and the figures it writes."""

import importlib.util
import pathlib

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.data import write_shapes_folder

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "images_vae.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("images_vae", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.large
def test_the_example_trains_pools_and_draws_each_class(example, tmp_path, capsys):
    folder = write_shapes_folder(tmp_path / "pictures", 60, image_size=12, formats=("png", "jpeg"))
    out = tmp_path / "run"
    argv = ["--images", str(folder), "--image-size", "12", "--epochs", "1", "--latent-dim", "2"]
    assert example.main([*argv, "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Judge accuracy on real test pictures" in printed
    assert "Judge accuracy on the VAE's reconstructions" in printed
    assert printed.count("pool draws recognised as") == 6
    model = keras_vae.load_model(out / "model.keras")
    assert model.image_shape == (12, 12, 3)
    pools = keras_vae.LatentPools.load(out / "pools.npz")
    assert sorted(pools.labels.tolist()) == sorted(p.name for p in folder.iterdir())
    figure = keras.utils.img_to_array(keras.utils.load_img(out / "pool_samples.png"))
    # Six rows of ten draws, in colour: the figure is wider than tall and not blank.
    assert figure.shape[1] > figure.shape[0] and figure.std() > 10
    assert np.isfinite(figure).all()


def test_bad_numbers_are_usage_errors(example, capsys):
    with pytest.raises(SystemExit):
        example.main(["--epochs", "0"])
    assert "--epochs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        example.main(["--beta", "-1"])
    assert "--beta: must be >= 0; got -1.0" in capsys.readouterr().err
