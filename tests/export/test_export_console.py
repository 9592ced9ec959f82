"""What an export shows: named stages, the converter's and runtime's own lines held back
unless `verbose=2` (real errors still shown), and `sample_grids.png` titled by where its
draws come from: the model's own prior, through `generate` where the files have it."""

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

import keras_vae
from keras_vae import export
from keras_vae.evaluation import Judge
from keras_vae.export import inputs as export_inputs
from keras_vae.export.console import Stages, native_output

LATENT_DIM = 2
FAST = {
    "formats": ("int8",),
    "batch1_variant": False,
    "micro": False,
    "num_verification_samples": 64,
    "num_calibration_samples": 32,
    "latency_repeats": 1,
}


def networks():
    encoder = keras_vae.Encoder(latent_dim=LATENT_DIM, conv_filters=(4,), dense_units=(16,))
    decoder = keras_vae.Decoder(latent_dim=LATENT_DIM, conv_filters=(4,), dense_units=(16,))
    return {"encoder": encoder, "decoder": decoder, "latent_dim": LATENT_DIM, "seed": 0}


def trained(model, images):
    model.compile()
    model.fit(images, epochs=1, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def learned_prior_vae(tiny_images):
    keras.utils.set_random_seed(0)
    prior = keras_vae.MixturePrior(LATENT_DIM, num_components=3, seed=0)
    vae = trained(keras_vae.VAE(prior=prior, **networks()), tiny_images)
    # Components far from the origin: draws of the prior cannot pass for N(0, I) ones.
    prior.set_parameters(np.full((3, LATENT_DIM), 4.0), np.zeros((3, LATENT_DIM)), np.zeros(3))
    return vae


def grid_text(directory) -> tuple:
    info = Image.open(directory / "sample_grids.png").info
    return info["Title"], json.loads(info["Description"])


def test_native_output_holds_back_fd_writes_and_replays_them_on_failure(capfd):
    with native_output(verbose=1):
        os.write(1, b"fully_quantize: 0, inference_type: 6\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert capfd.readouterr() == ("", "")
    with pytest.raises(RuntimeError, match="conversion failed"):
        with native_output(verbose=1):
            os.write(2, b"error: 'tf.Foo' op is neither a custom op nor a flex op\n")
            raise RuntimeError("conversion failed")
    assert "'tf.Foo' op is neither a custom op" in capfd.readouterr().err
    with native_output(verbose=2):
        os.write(2, b"shown when asked\n")
    assert capfd.readouterr().err == "shown when asked\n"


def test_stages_are_named_and_numbered(capsys):
    stages = Stages(2, verbose=1)
    with stages.run("converting int8"):
        pass
    with pytest.raises(ValueError), stages.run("verifying int8 against Keras"):
        raise ValueError("bad")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("  [1/2] converting int8 ... ") and lines[0].endswith(" s")
    assert lines[1] == "  [2/2] verifying int8 against Keras ... failed"
    with Stages(1, verbose=0).run("converting int8"):
        pass
    assert capsys.readouterr().out == ""


def test_a_real_export_is_quiet_unless_asked(learned_prior_vae, tmp_path, capfd):
    export.export_decoder(learned_prior_vae, tmp_path / "quiet", **FAST)
    out, err = capfd.readouterr()
    assert "fully_quantize" not in out + err and "XNNPACK" not in out + err
    assert "  [1/3] converting int8 ... " in out
    assert "  [2/3] verifying int8 against Keras ... " in out
    assert "  [3/3] writing the report and sample_grids.png ... " in out
    export.export_decoder(learned_prior_vae, tmp_path / "loud", verbose=2, **FAST)
    out, err = capfd.readouterr()
    assert "fully_quantize" in out + err
    export.export_decoder(learned_prior_vae, tmp_path / "silent", verbose=0, **FAST)
    assert capfd.readouterr() == ("", "")
    with pytest.raises(ValueError, match="`verbose` as 0, 1 or 2; got 3"):
        export.export_decoder(learned_prior_vae, tmp_path / "bad", verbose=3, **FAST)


def test_the_grid_shows_generate_draws_of_the_learned_prior_with_the_judge(
    learned_prior_vae, tiny_images, mnist_sample, tmp_path
):
    images, labels = mnist_sample[0][::10], mnist_sample[1][::10]
    judge = Judge.fit(images, labels, epochs=1, seed=0)
    sampler = learned_prior_vae.prior_sampler()
    export.export_decoder(
        learned_prior_vae, tmp_path, sampler=sampler, judge=judge, verbose=0, **FAST
    )
    title, captions = grid_text(tmp_path)
    assert title.startswith(
        "Draws from the model's learned prior (3 Gaussians) through generate(noise, component)"
    )
    assert captions["keras"].startswith("judge: ") and "of 64 recognisable" in captions["keras"]
    assert "PSNR" in captions["int8"]
    with pytest.raises(TypeError, match="`judge` as a keras_vae.evaluation.Judge"):
        export.export_decoder(learned_prior_vae, tmp_path / "bad", judge="judge", **FAST)


def test_without_generate_the_grid_decodes_the_models_own_prior(learned_prior_vae, tmp_path):
    # The prior's components sit at 4: its draws, not N(0, I) vectors, are what is decoded.
    z = export_inputs.prior_inputs(learned_prior_vae, 500, np.random.default_rng(0))["z"]
    assert abs(float(z.mean()) - 4.0) < 0.5
    export.export_decoder(learned_prior_vae, tmp_path, verbose=0, **FAST)
    title, _ = grid_text(tmp_path)
    assert title.startswith("Draws from the model's learned prior, decoded by decode(z)")


def test_the_n01_grid_stays_for_models_whose_prior_is_n01(tiny_images, tmp_path):
    vae = trained(keras_vae.VAE(**networks(), prior="standard_normal"), tiny_images)
    z = export_inputs.prior_inputs(vae, 500, np.random.default_rng(0))["z"]
    assert abs(float(z.mean())) < 0.2 and abs(float(z.std()) - 1.0) < 0.1
    export.export_decoder(vae, tmp_path / "vae", verbose=0, **FAST)
    assert grid_text(tmp_path / "vae")[0].startswith("Draws from the model's prior N(0, I)")
    autoencoder = trained(keras_vae.AutoEncoder(latent_dim=LATENT_DIM, seed=0), tiny_images)
    export.export_decoder(autoencoder, tmp_path / "ae", verbose=0, **FAST)
    assert grid_text(tmp_path / "ae")[0].startswith("N(0, I) codes (an autoencoder has no prior")
