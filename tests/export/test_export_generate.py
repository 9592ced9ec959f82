"""export_decoder(..., sampler=...): the `generate(noise, component)` signature."""

import runpy

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from export_helpers import RUN_TFLITE, ops_of, untrained_small_vae
from export_helpers import SMALL as HELPER_SMALL

from keras_vae import export
from keras_vae.export import targets
from keras_vae.latent import LatentPools
from keras_vae.samplers import GaussianMixtureSampler, PoolSampler, PriorSampler

LATENT_DIM = 2
SMALL = dict(HELPER_SMALL, num_verification_samples=12, num_calibration_samples=12)


@pytest.fixture(scope="module")
def vae():
    model = untrained_small_vae(LATENT_DIM, seed=5)
    return model


@pytest.fixture(scope="module")
def sampler():
    codes = np.random.default_rng(0).standard_normal((200, LATENT_DIM)) * [1.0, 0.3]
    return GaussianMixtureSampler.fit_codes(np.concatenate([codes + 3, codes - 3]), 3, seed=0)


@pytest.fixture(scope="module")
def exported(vae, sampler, tmp_path_factory):
    directory = tmp_path_factory.mktemp("generate") / "decoder"
    options = SMALL | dict(formats=("saved_model", "float32", "int8"))
    return directory, export.export_decoder(vae, directory, sampler=sampler, **options)


def expected_images(vae, sampler, noise, component):
    z = sampler.means[component] + np.einsum("bij,bj->bi", sampler.scale_tril[component], noise)
    return vae.decode(z.astype("float32"))


def test_generate_matches_the_mixture_draw_through_keras(exported, vae, sampler):
    directory, report = exported
    noise = np.random.default_rng(3).standard_normal((6, LATENT_DIM)).astype("float32")
    component = np.array([0, 1, 2, 2, 1, 0], "int32")
    expected = expected_images(vae, sampler, noise, component)
    loaded = tf.saved_model.load(str(directory / "saved_model"))
    images = loaded.signatures["generate"](noise=noise, component=component)["image"].numpy()
    np.testing.assert_allclose(images, expected, atol=1e-5)
    runner = Interpreter(model_path=str(directory / "decoder_float32.tflite"))
    got = runner.get_signature_runner("generate")(noise=noise, component=component)["image"]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert report.variants["float32"].signatures["generate"]["max_abs_error"] < 1e-5
    assert report.variants["int8"].signatures["generate"]["psnr_db"] > 30
    # decode stays the primary signature, unchanged.
    assert report.signature == "decode" and report.variants["float32"].max_abs_error < 1e-5


def test_generate_uses_builtin_ops_only(exported):
    directory, _ = exported
    interpreter = Interpreter(model_path=str(directory / "decoder_int8.tflite"))
    assert set(interpreter.get_signature_list()) == {"decode", "generate"}
    for path in directory.glob("*.tflite"):
        _, ops = ops_of(path)
        assert not [op for op in ops if "FLEX" in op or "CUSTOM" in op], ops


def test_run_tflite_pool_and_mixture(exported, vae, sampler, tmp_path):
    directory, _ = exported
    main = runpy.run_path(str(RUN_TFLITE))["main"]
    path = str(directory / "decoder_float32.tflite")
    out = tmp_path / "pool.npy"
    latents = tmp_path / "noise.npy"
    args = [path, "--num", "4", "--pool", "2", "--npy", str(out), "--latents-npy", str(latents)]
    assert main(args) == 0
    noise = np.load(latents)
    expected = expected_images(vae, sampler, noise, np.full(4, 2))
    np.testing.assert_allclose(np.load(out), expected, atol=1e-5)
    assert main([path, "--num", "6", "--mixture", "--npy", str(out)]) == 0
    assert np.load(out).shape == (6, 28, 28, 1)
    assert main([path, "--num", "2", "--pool", "3", "--npy", str(out)]) == 2


def test_a_mixture_a_sampler_and_pools_export_the_same_generate(vae, tmp_path):
    """The mixture is what counts: the same Gaussians given as LatentPools, as the
    GaussianMixture they convert to, or as a sampler holding those tables give byte-equal
    files whose `generate` draws the mixture."""
    rng = np.random.default_rng(2)
    labels = np.arange(120) % 3
    codes = rng.standard_normal((120, LATENT_DIM)) * [0.5, 0.2] + 2.0 * labels[:, None]
    pools = LatentPools.fit_codes(codes, labels)
    mixture = pools.as_mixture()
    tables = (mixture.means, mixture.scale_tril, mixture.weights, mixture.component_names)
    forms = {
        "pools": pools,
        "mixture": mixture,
        "sampler": GaussianMixtureSampler(*tables),
    }
    noise = rng.standard_normal((6, LATENT_DIM)).astype("float32")
    component = np.array([0, 1, 2, 2, 1, 0], "int32")
    expected = expected_images(vae, mixture, noise, component)
    files, images = {}, {}
    for name, sampler in forms.items():
        directory = tmp_path / name
        export.export_decoder(vae, directory, formats=("float32",), sampler=sampler, **SMALL)
        files[name] = (directory / "decoder_float32.tflite").read_bytes()
        runner = Interpreter(model_path=str(directory / "decoder_float32.tflite"))
        images[name] = runner.get_signature_runner("generate")(noise=noise, component=component)
    assert files["pools"] == files["mixture"] == files["sampler"]
    for name in forms:
        np.testing.assert_array_equal(images[name]["image"], images["mixture"]["image"])
    np.testing.assert_allclose(images["mixture"]["image"], expected, atol=1e-5)


def test_the_figure_title_names_what_the_mixture_is():
    vae = untrained_small_vae(LATENT_DIM, seed=5)
    pools = LatentPools.fit_codes(np.random.default_rng(0).standard_normal((40, 2)), [7, 3] * 20)
    cases = {
        "the prior N(0, I)": PriorSampler(LATENT_DIM),
        "the prior N(0, 0.5^2 I)": PriorSampler(LATENT_DIM, temperature=0.5),
        "2 pools (3, 7)": pools,
        "the pool 7": PoolSampler(pools, 7),
        "a mixture of 2 Gaussians": GaussianMixtureSampler(
            pools.means, pools.scale_tril, pools.weights
        ),
    }
    for title, sampler in cases.items():
        source = targets.generate_source(vae, sampler, "export_decoder()")
        assert targets.describe_source(vae, source) == title


def test_sampler_of_another_latent_size_is_refused(vae, tmp_path):
    other = GaussianMixtureSampler.fit_codes(np.random.default_rng(0).standard_normal((50, 3)), 2)
    with pytest.raises(
        ValueError,
        match=r"expects `sampler` of latent_dim 2 \(the model's\); got a GaussianMixtureSampler"
        " of latent_dim 3",
    ):
        export.export_decoder(vae, tmp_path / "x", sampler=other, **SMALL)
    accepted = r"`sampler` as a GaussianMixture or an object with as_mixture\(\)"
    with pytest.raises(TypeError, match=accepted + r".*; got object"):
        export.export_decoder(vae, tmp_path / "x", sampler=object(), **SMALL)
    # The old duck type (bare tables) is no mixture: it names what is accepted.
    with pytest.raises(TypeError, match=accepted + ".*; got dict"):
        export.export_decoder(vae, tmp_path / "x", sampler={"means": [[0.0, 0.0]]}, **SMALL)

    class NotAMixture:
        def as_mixture(self):
            return np.zeros((1, LATENT_DIM))

    with pytest.raises(TypeError, match=r"`sampler.as_mixture\(\)` to give a GaussianMixture"):
        export.export_decoder(vae, tmp_path / "x", sampler=NotAMixture(), **SMALL)
    assert not (tmp_path / "x").exists()
