"""The plain-Keras reference: a VAE written by hand in the style of the keras-io example.

Convolutional encoder (32 and 64 filters, 3x3, stride 2, relu), a dense layer of 16 units,
two linear heads; a decoder that projects z to a 7x7x64 map and upsamples with
`Conv2DTranspose` 64-32 to a sigmoid `Conv2DTranspose` with one channel; a `keras.Model`
subclass with its own `train_step` (binary cross-entropy summed over pixels plus the closed-form
KL). Nothing from `keras_vae` is used to train it, so it is the loop a user would write by hand.

`as_package_networks()` turns a trained reference into networks that `keras_vae.evaluation`
can score: the same encoder without its sampling output, and the decoder followed by the
inverse sigmoid of its clipped probabilities, so the likelihood evaluated is exactly the
clipped Bernoulli likelihood that the reference trained on.
"""

import keras
import tensorflow as tf
from keras import ops

# keras.losses.binary_crossentropy clips probabilities to [eps, 1 - eps] with this epsilon.
CLIP_EPSILON = keras.config.epsilon()


class ReferenceSampling(keras.layers.Layer):
    """z = z_mean + exp(z_log_var / 2) * eps, as in the keras-io example."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def reference_encoder(latent_dim: int, with_sampling: bool = True, seed=None) -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = keras.layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(16, activation="relu")(x)
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(x)
    if not with_sampling:
        return keras.Model(inputs, [z_mean, z_log_var], name="reference_encoder")
    z = ReferenceSampling(seed=seed)([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="reference_encoder")


def reference_decoder(latent_dim: int, output_activation: str | None = "sigmoid") -> keras.Model:
    """The keras-io decoder; `output_activation=None` gives logits (for the package's VAE)."""
    inputs = keras.Input((latent_dim,))
    x = keras.layers.Dense(7 * 7 * 64, activation="relu")(inputs)
    x = keras.layers.Reshape((7, 7, 64))(x)
    x = keras.layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = keras.layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = keras.layers.Conv2DTranspose(1, 3, activation=output_activation, padding="same")(x)
    return keras.Model(inputs, outputs, name="reference_decoder")


class ReferenceVAE(keras.Model):
    """The keras-io style VAE: custom `train_step`, loss written inline."""

    def __init__(self, latent_dim: int = 2, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = reference_encoder(latent_dim, seed=seed)
        self.decoder = reference_decoder(latent_dim)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs)[0])

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


class ProbabilitiesToLogits(keras.layers.Layer):
    """logit(clip(p)): the Bernoulli with these logits is the one the reference's loss used."""

    def call(self, probabilities):
        p = ops.clip(probabilities, CLIP_EPSILON, 1.0 - CLIP_EPSILON)
        return ops.log(p) - ops.log1p(-p)


def as_package_networks(reference: ReferenceVAE) -> tuple[keras.Model, keras.Model]:
    """(encoder -> (z_mean, z_log_var), decoder -> logits) sharing the reference's weights."""
    encoder = keras.Model(
        reference.encoder.input, reference.encoder.outputs[:2], name="reference_encoder_eval"
    )
    z = keras.Input((reference.decoder.input.shape[-1],))
    logits = ProbabilitiesToLogits()(reference.decoder(z))
    decoder = keras.Model(z, logits, name="reference_decoder_eval")
    return encoder, decoder
