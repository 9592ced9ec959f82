"""The deterministic baseline: what a VAE improves on."""

import keras
from keras import ops

from keras_vae.models.base import BaseAutoEncoder


@keras.saving.register_keras_serializable(package="keras_vae")
class AutoEncoder(BaseAutoEncoder):
    """A plain autoencoder trained on reconstruction loss alone.

    The encoder returns one code `z` per image and nothing pulls the codes towards a known
    distribution, so `sample()` (decoding random N(0, I) vectors) shows where this model
    fails: nobody knows where in latent space its digits live. It is the baseline that
    `VAE` is compared with. `encode`, `decode`, `reconstruct` and `sample(n, *, seed=None,
    sampler=None, labels=None, temperature=1.0)` are the base class's, the same calls as a
    `VAE`'s (`sample` draws N(0, I) codes, or from a fitted `sampler`).

    Args:
        encoder: keras Layer or Model, or None. Maps images to `z`. Defaults to a
            deterministic `Encoder`.
        decoder: keras Layer or Model, or None. Maps `z` to logits. Defaults to `Decoder`.
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"` for the default networks. Defaults to
            `"conv"`.
        likelihood: str. `"bernoulli"` (binary cross-entropy) or `"gaussian"`. Defaults to
            `"bernoulli"`.
        gaussian_variance: `"learned"` (one variance), `"learned_per_channel"` or a positive
            float. Defaults to `"learned"`.
        seed: int or None. Seed of the random draws of `sample()`. Defaults to `None`.

    Example:
    <!-- skip: trains for minutes -->
    ```python
    ae = keras_vae.AutoEncoder(latent_dim=2)
    ae.compile()
    ae.fit(x_train, epochs=10)
    codes = ae.encode(x_test)
    ```
    """

    probabilistic = False
    loss_names = ("loss", "reconstruction_loss")

    def compute_losses(self, x, training=False, condition=None):
        z = self.encode_tensors(x, condition, training=training)
        reconstruction = -self.reconstruction_log_likelihood(
            x, self.decode_tensors(z, condition, training=training)
        )
        return ops.mean(reconstruction), {
            "loss": reconstruction,
            "reconstruction_loss": reconstruction,
        }

    def call(self, inputs, training=False):
        images, condition = self.split_inputs(inputs)
        z = self.encode_tensors(images, condition, training=training)
        return self.output_mean(self.decode_tensors(z, condition, training=training))
