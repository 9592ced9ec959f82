"""Models saved by earlier code (tests/fixtures/models/, written by make_fixtures.py at the
commit each `.npz` records) load and give the outputs they gave when they were saved."""

import pathlib

import keras
import numpy as np
import pytest

import keras_vae

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "models"
NAMES = sorted(path.stem for path in FIXTURES.glob("*.keras"))


def test_every_kind_of_model_has_a_fixture():
    assert NAMES == [
        "cvae_class_1",
        "cvae_class_2",
        "vae_mixture_diagonal",
        "vae_mixture_full",
        "vae_standard_normal",
        "vae_vamp",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_old_file_loads_with_identical_outputs(name):
    model = keras.saving.load_model(FIXTURES / f"{name}.keras")
    expected = dict(np.load(FIXTURES / f"{name}.npz"))
    z, images = expected["z"], expected["images"]
    labels = expected.get("labels")
    condition = None
    if labels is not None:
        condition = model.condition_from_labels(labels, len(labels))
    np.testing.assert_array_equal(model.decode(z, labels=labels), expected["decoded"])
    z_mean, z_log_var = model.encode(images, labels=labels)
    np.testing.assert_array_equal(z_mean, expected["z_mean"])
    np.testing.assert_array_equal(z_log_var, expected["z_log_var"])
    np.testing.assert_array_equal(
        model.reconstruct(images, labels=labels), expected["reconstructed"]
    )
    np.testing.assert_array_equal(model.sample(5, seed=3, labels=labels), expected["sampled"])
    np.testing.assert_array_equal(
        model.prior_latents(5, seed=3, labels=labels), expected["prior_latents"]
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.prior_log_density(z, condition)),
        expected["prior_log_density"],
        rtol=1e-6,
        atol=1e-6,
    )


def test_standard_normal_fixture_keeps_its_none_prior_in_the_config():
    # Saved with `"prior": None`: it still loads as the standard normal.
    model = keras.saving.load_model(FIXTURES / "vae_standard_normal.keras")
    assert isinstance(model, keras_vae.VAE)
    assert model.get_config()["prior"] is None
