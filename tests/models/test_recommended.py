"""The recommended configuration: an ordinary VAE with the documented networks."""

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.models.recommended import (
    RECOMMENDED_ACTIVATION,
    RECOMMENDED_EMA_MOMENTUM,
    RECOMMENDED_PRIOR_COMPONENTS,
)


def test_recommended_vae_uses_the_documented_networks_and_trains(tiny_images):
    model = keras_vae.recommended_vae(latent_dim=4, seed=0)
    assert isinstance(model, keras_vae.VAE) and model.latent_dim == 4
    assert model.encoder.activation == model.decoder.activation == RECOMMENDED_ACTIVATION
    assert model.decoder.upsampling == "resize"
    assert model.encoder.residual and model.decoder.residual
    kinds = {type(layer).__name__ for layer in model.decoder.hidden_layers}
    assert "Conv2DTranspose" not in kinds and "ResidualBlock" in kinds
    assert isinstance(model.prior, keras_vae.MixturePrior)
    assert model.prior.num_components == RECOMMENDED_PRIOR_COMPONENTS
    assert model.prior.latent_dim == 4
    assert model.prior.covariance == "full"
    model.compile(optimizer=keras_vae.recommended_optimizer(RECOMMENDED_EMA_MOMENTUM))
    history = model.fit(tiny_images, epochs=1, batch_size=128, verbose=0).history
    assert np.isfinite(history["loss"][0])


def test_recommended_vae_without_residual_blocks():
    model = keras_vae.recommended_vae(latent_dim=4, seed=0, residual=False)
    assert not model.encoder.residual and not model.decoder.residual
    for network in (model.encoder, model.decoder):
        kinds = {type(layer).__name__ for layer in network.hidden_layers}
        assert "ResidualBlock" not in kinds
    # Everything else is the recommended configuration.
    assert model.decoder.activation == RECOMMENDED_ACTIVATION
    assert model.decoder.upsampling == "resize"
    assert model.prior.num_components == RECOMMENDED_PRIOR_COMPONENTS
    assert model.prior.covariance == "full"


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
    assert not keras_vae.recommended_vae(latent_dim=3, prior_components=0).prior.is_learned
    own = keras_vae.MixturePrior(3, num_components=4)
    assert keras_vae.recommended_vae(latent_dim=3, prior=own).prior is own
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="prior_components"):
            keras_vae.recommended_vae(latent_dim=3, prior_components=bad)


@pytest.mark.parametrize("name", ["encoder", "decoder", "architecture"])
def test_recommended_vae_refuses_network_arguments(name):
    with pytest.raises(ValueError, match=name):
        keras_vae.recommended_vae(**{name: None})


def test_recommended_optimizer_ends_fit_with_the_moving_average_of_the_weights(tiny_images):
    momentum = 0.6
    # N(0, I): a refit at the end of `fit` would move the prior's weights off the average.
    model = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0, prior="standard_normal")
    model.compile(optimizer=keras_vae.recommended_optimizer(ema_momentum=momentum))
    steps = []  # the raw weights after every step, as Adam left them

    def record(batch, logs):
        steps.append([w.numpy().copy() for w in model.trainable_weights])

    model.fit(
        tiny_images,
        epochs=1,
        batch_size=64,
        shuffle=False,
        verbose=0,
        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=record)],
    )
    assert len(steps) == 4
    # The closed form: the first step's weights, then a = m a + (1 - m) w at every step.
    average = steps[0]
    for weights in steps[1:]:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, weights)]
    for expected, final in zip(average, model.trainable_weights):
        np.testing.assert_allclose(final.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not all(
        np.allclose(final.numpy(), last) for final, last in zip(model.trainable_weights, steps[-1])
    )


def test_recommended_optimizer_without_momentum_is_plain_adam():
    optimizer = keras_vae.recommended_optimizer()
    assert isinstance(optimizer, keras.optimizers.Adam) and not optimizer.use_ema
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, True, "0.9"])
def test_recommended_optimizer_refuses_a_momentum_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"`ema_momentum` as a float in \(0, 1\).*got"):
        keras_vae.recommended_optimizer(ema_momentum=bad)
