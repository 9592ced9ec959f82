"""keras_vae.presets: board-sized decoders built from the public constructor arguments."""

import numpy as np
import pytest

import keras_vae
from keras_vae import presets


@pytest.mark.parametrize("preset, most_params", [("micro", 150_000), ("tiny", 8_000)])
def test_preset_vaes_decode_images_with_few_weights(preset, most_params, tmp_path):
    vae = presets.vae(preset, latent_dim=8, seed=0)
    images = vae.decode(np.zeros((2, 8), "float32"))
    assert images.shape == (2, 28, 28, 1) and 0.0 <= images.min() <= images.max() <= 1.0
    assert vae.decoder.count_params() <= most_params
    assert vae.decoder.conv_filters == presets.DECODER_PRESETS[preset]["conv_filters"]
    vae(np.zeros((1, 28, 28, 1), "float32"))
    path = keras_vae.save_model(vae, tmp_path / f"{preset}.keras")
    loaded = keras_vae.load_model(path)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    np.testing.assert_allclose(loaded.decode(z), vae.decode(z), atol=1e-6)


def test_named_helpers_and_unknown_preset():
    assert presets.micro_vae(latent_dim=4).decoder.conv_filters == (32, 16)
    assert presets.tiny_vae(latent_dim=4).decoder.dense_units == ()
    with pytest.raises(ValueError, match="`preset` in \\['micro', 'tiny'\\]; got 'huge'"):
        presets.decoder("huge")


def test_model_presets_are_the_parsers_and_build_their_vaes():
    from keras_vae_cli.parser import PRESETS

    assert PRESETS == presets.MODEL_PRESETS
    tiny = presets.model("tiny", latent_dim=4, prior_components=3, seed=1)
    assert tiny.decoder.conv_filters == (8, 4) and tiny.prior.num_components == 3
    assert not presets.model("micro", latent_dim=4).prior.is_learned
    recommended = presets.model("recommended", latent_dim=4, input_shape=(16, 16, 1))
    assert recommended.prior.num_components == 20
    with pytest.raises(ValueError, match="`preset` in \\('micro', 'tiny', 'recommended'\\)"):
        presets.model("huge")


def test_train_preset_from_the_command_line(tmp_path, capsys):
    from keras_vae_cli import entry

    run = tmp_path / "run"
    argv = ["train", "--dataset", "shapes", "--image-size", "16", "--preset", "tiny"]
    argv += ["--epochs", "1", "--latent-dim", "3", "--prior-components", "2"]
    assert entry.main([*argv, "--output-dir", str(run)]) == 0, capsys.readouterr().err
    model = keras_vae.load_model(run / "model.keras")
    assert model.decoder.conv_filters == (8, 4) and model.prior.num_components == 2
    assert entry.main([*argv, "--model-type", "cvae", "--output-dir", str(tmp_path)]) == 1
    assert "--preset tiny is a VAE configuration" in capsys.readouterr().err


@pytest.mark.parametrize("preset", ["micro", "tiny", "recommended"])
def test_registry_configurations_keep_their_prior_when_the_vae_default_changed(preset):
    """The registry's configurations build what they built before `VAE()`'s default became
    the refit mixture: N(0, I) without `prior_components`, and no refit at the end of fit."""
    from keras_vae import priors

    if preset == "recommended":
        # The registry's entry takes its own 20 components for prior_components=0.
        textbook = keras_vae.recommended_vae(latent_dim=2, prior_components=0, seed=0)
        learned = presets.model(preset, latent_dim=2, prior_components=3, seed=0)
    else:
        textbook = presets.model(preset, prior_components=0, seed=0)
        learned = presets.model(preset, prior_components=3, seed=0)
    assert isinstance(textbook.prior, priors.StandardNormalPrior)
    assert isinstance(learned.prior, priors.MixturePrior) and learned.prior.num_components == 3
    for model in (textbook, learned):
        assert model.refit_prior_after_fit is False
    assert isinstance(presets.vae("tiny", latent_dim=2).prior, priors.StandardNormalPrior)
