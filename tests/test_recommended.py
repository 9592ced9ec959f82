"""The recommended configuration: an ordinary VAE with the documented networks."""

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.models.recommended import RECOMMENDED_ACTIVATION, RECOMMENDED_PRIOR_COMPONENTS


def test_recommended_vae_uses_the_documented_networks_and_trains(tiny_images):
    model = keras_vae.recommended_vae(latent_dim=4, seed=0)
    assert isinstance(model, keras_vae.VAE) and model.latent_dim == 4
    assert model.encoder.activation == model.decoder.activation == RECOMMENDED_ACTIVATION
    assert model.decoder.upsampling == "resize"
    kinds = {type(layer).__name__ for layer in model.decoder.hidden_layers}
    assert "Conv2DTranspose" not in kinds
    assert isinstance(model.prior, keras_vae.MixturePrior)
    assert model.prior.num_components == RECOMMENDED_PRIOR_COMPONENTS
    assert model.prior.latent_dim == 4
    assert model.prior.covariance == "full"
    model.compile()
    history = model.fit(tiny_images, epochs=1, batch_size=128, verbose=0).history
    assert np.isfinite(history["loss"][0])


def test_recommended_vae_round_trips_like_any_vae(tiny_images, tmp_path):
    model = keras_vae.recommended_vae(latent_dim=3, seed=1, beta=0.5)
    path = tmp_path / "recommended.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded) is keras_vae.VAE and reloaded.beta == 0.5
    np.testing.assert_array_equal(
        model.reconstruct(tiny_images[:4]), reloaded.reconstruct(tiny_images[:4])
    )
    # The learned prior comes back with it: the same draws.
    assert reloaded.prior.num_components == RECOMMENDED_PRIOR_COMPONENTS
    np.testing.assert_array_equal(model.sample(5, seed=3), reloaded.sample(5, seed=3))


def test_recommended_vae_prior_can_be_the_standard_normal_or_the_users():
    assert keras_vae.recommended_vae(latent_dim=3, prior_components=0).prior is None
    own = keras_vae.MixturePrior(3, num_components=4)
    assert keras_vae.recommended_vae(latent_dim=3, prior=own).prior is own
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="prior_components"):
            keras_vae.recommended_vae(latent_dim=3, prior_components=bad)


@pytest.mark.parametrize("name", ["encoder", "decoder", "architecture"])
def test_recommended_vae_refuses_network_arguments(name):
    with pytest.raises(ValueError, match=name):
        keras_vae.recommended_vae(**{name: None})
