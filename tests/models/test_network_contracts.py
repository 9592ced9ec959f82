"""The contracts a user's networks must meet, checked at construction where users go wrong
(found porting the keras-io VAE example), and training under XLA (`jit_compile=True`)."""

import warnings

import keras
import numpy as np
import pytest

import keras_vae

LATENT = 2


def _keras_io_encoder(outputs=3):
    """The keras-io example's encoder shape: images -> [z_mean, z_log_var, z] (or more)."""
    images = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(images))
    heads = [keras.layers.Dense(LATENT, name=f"head_{i}")(hidden) for i in range(outputs)]
    return keras.Model(images, heads)


def _decoder(final_activation=None):
    z = keras.Input((LATENT,))
    flat = keras.layers.Dense(784, activation=final_activation)(z)
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(flat))


def test_encoder_returning_z_mean_z_log_var_and_z_is_taken_as_its_first_two():
    model = keras_vae.VAE(encoder=_keras_io_encoder(3), decoder=_decoder(), latent_dim=LATENT)
    images = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype("float32")
    z_mean, z_log_var = model.encode(images)
    heads = [keras.ops.convert_to_numpy(t) for t in model.encoder(images)]
    np.testing.assert_allclose(z_mean, heads[0], rtol=1e-6)
    np.testing.assert_allclose(z_log_var, heads[1], rtol=1e-6)
    model.compile()
    history = model.fit(images, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_wrong_number_of_encoder_outputs_names_the_count_and_the_contract():
    with pytest.raises(ValueError, match=r"2 outputs, \(z_mean, z_log_var\).*got 4 outputs"):
        keras_vae.VAE(encoder=_keras_io_encoder(4), decoder=_decoder(), latent_dim=LATENT)
    with pytest.raises(ValueError, match=r"2 outputs.*got 1 output\."):
        keras_vae.VAE(encoder=_keras_io_encoder(1), decoder=_decoder(), latent_dim=LATENT)
    with pytest.raises(ValueError, match=r"1 output, the code z.*got 2 outputs.*VAE"):
        keras_vae.AutoEncoder(encoder=_keras_io_encoder(2), decoder=_decoder(), latent_dim=LATENT)


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_decoder_ending_in_a_probability_activation_is_refused_with_the_fix(activation):
    with pytest.raises(ValueError, match=rf"applies a {activation}.*return logits.*sigmoid"):
        keras_vae.VAE(encoder=_keras_io_encoder(2), decoder=_decoder(activation), latent_dim=LATENT)
    # The Gaussian likelihood takes means, which may well be in [0, 1]: no complaint.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras_vae.VAE(
            encoder=_keras_io_encoder(2),
            decoder=_decoder("sigmoid"),
            latent_dim=LATENT,
            likelihood="gaussian",
        )


def test_decoder_whose_outputs_look_like_probabilities_gets_a_warning():
    class Squashed(keras.layers.Layer):
        """A user's layer: its last step is hidden from inspection, only its range shows."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(784)

        def call(self, z):
            return keras.ops.reshape(keras.ops.sigmoid(self.dense(z)), (-1, 28, 28, 1))

    with pytest.warns(UserWarning, match=r"all lie in \[0, 1\].*return logits"):
        keras_vae.VAE(encoder=_keras_io_encoder(2), decoder=Squashed(), latent_dim=LATENT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras_vae.VAE(latent_dim=LATENT)  # the default decoder gives logits


@pytest.mark.parametrize("name", ["VAE", "AutoEncoder", "ConditionalVAE"])
def test_one_training_step_under_xla(name):
    """The default decoder's nearest-neighbour resize had no XLA gradient on CPU
    (ResizeNearestNeighborGrad); its gradient is now a reshape and a sum."""
    keras.utils.set_random_seed(0)
    model = getattr(keras_vae, name)(latent_dim=LATENT, seed=0)
    model.compile(jit_compile=True)
    images = np.random.default_rng(0).uniform(size=(16, 28, 28, 1)).astype("float32")
    args = (images, np.arange(16) % 10) if model.is_conditional else (images,)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(*args, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_transpose_decoder_trains_under_xla():
    decoder = keras_vae.Decoder(latent_dim=LATENT, upsampling="transpose")
    model = keras_vae.VAE(decoder=decoder, latent_dim=LATENT, seed=0)
    model.compile(jit_compile=True)
    images = np.random.default_rng(0).uniform(size=(16, 28, 28, 1)).astype("float32")
    assert np.isfinite(model.fit(images, epochs=1, batch_size=16, verbose=0).history["loss"][0])


def test_upsampling_gradient_is_the_block_sum():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32"))
    weights = tf.constant(np.random.default_rng(1).normal(size=(2, 6, 8, 5)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(keras_vae.NearestUpsampling(2)(x) * weights)
    gradient = tape.gradient(total, x).numpy()
    expected = weights.numpy().reshape(2, 3, 2, 4, 2, 5).sum(axis=(2, 4))
    np.testing.assert_allclose(gradient, expected, rtol=1e-6)
