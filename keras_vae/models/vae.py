"""The variational autoencoder."""

import keras
from keras import ops

from keras_vae import losses
from keras_vae.models.base import BaseAutoEncoder


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(BaseAutoEncoder):
    """A variational autoencoder trained with `fit()` on the negative ELBO.

    The encoder gives a Gaussian q(z | x) = N(z_mean, exp(z_log_var)); `Sampling` draws z with
    the reparameterization trick; the decoder gives p(x | z). The training objective per
    example is `reconstruction_loss + beta * kl_weight * kl_loss`, where the KL divergence to
    the prior N(0, I) is what lets a random draw from the prior decode to a valid image.
    `fit` reports `loss` (the negative ELBO, weighted by `beta`), `reconstruction_loss` and
    `kl_loss`, in nats per example.

    Args:
        encoder: keras Layer or Model, or None. Maps images to `(z_mean, z_log_var)`.
            Defaults to `Encoder`.
        decoder: keras Layer or Model, or None. Maps `z` to logits (Bernoulli) or means
            (Gaussian). Defaults to `Decoder`.
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"` for the default networks. Defaults to
            `"conv"`.
        beta: float. Weight of the KL term (beta-VAE). Defaults to `1.0`.
        likelihood: str. `"bernoulli"` or `"gaussian"`. Defaults to `"bernoulli"`.
        gaussian_variance: `"learned"` or a positive float, the variance of the Gaussian
            likelihood. Defaults to `"learned"`.
        free_bits: float. A floor, in nats, on the batch-mean KL of each latent dimension in
            the objective (the reported `kl_loss` stays the true KL). Defaults to `0.0`.
        seed: int or None. Seed of the sampling layer. Defaults to `None`.

    Example:
    ```python
    vae = keras_vae.VAE(latent_dim=2, seed=1)
    vae.compile()
    vae.fit(x_train, epochs=10, validation_data=x_test)
    images = vae.sample(16, seed=0)
    ```
    """

    probabilistic = True
    loss_names = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(self, *args, beta=1.0, free_bits=0.0, **kwargs):
        if not isinstance(beta, int | float) or isinstance(beta, bool) or beta < 0:
            raise ValueError(f"VAE expects `beta` as a float >= 0; got {beta!r}.")
        if not isinstance(free_bits, int | float) or isinstance(free_bits, bool) or free_bits < 0:
            raise ValueError(f"VAE expects `free_bits` as a float >= 0; got {free_bits!r}.")
        super().__init__(*args, **kwargs)
        self.beta = float(beta)
        self.free_bits = float(free_bits)

    def build(self, input_shape=None):
        # Scaled by callbacks such as KL warm-up; a variable, so changing it never retraces.
        self.kl_weight = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="kl_weight"
        )
        super().build(input_shape)

    def compute_losses(self, x, training=False):
        z_mean, z_log_var = self.encode_tensors(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        return self.elbo_terms(x, self.decode_tensors(z, training=training), z_mean, z_log_var)

    def elbo_terms(self, images, decoder_output, z_mean, z_log_var):
        """The objective and the per-example ELBO terms, given one posterior sample's decoding.

        Returns `(objective, {"loss", "reconstruction_loss", "kl_loss"})`: the objective is
        the batch mean of `reconstruction + beta * kl_weight * kl` (with the free-bits floor
        on the KL when set); the dict holds per-example values with the true KL.
        """
        reconstruction = -self.reconstruction_log_likelihood(images, decoder_output)
        kl_per_dimension = losses.kl_divergence_per_dimension(z_mean, z_log_var)
        kl = ops.sum(kl_per_dimension, axis=-1)
        if self.free_bits > 0:
            kl_objective = ops.sum(ops.maximum(ops.mean(kl_per_dimension, axis=0), self.free_bits))
        else:
            kl_objective = ops.mean(kl)
        objective = ops.mean(reconstruction) + self.beta * self.kl_weight * kl_objective
        return objective, {
            "loss": reconstruction + self.beta * kl,
            "reconstruction_loss": reconstruction,
            "kl_loss": kl,
        }

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encode_tensors(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.output_mean(self.decode_tensors(z, training=training))

    def encode(self, x, batch_size=256):
        """Encodes images to the posterior parameters `(z_mean, z_log_var)`, each `(n, d)`."""
        return self._batched(
            lambda batch: tuple(self._encode_batch(batch)),
            self.check_images(x),
            batch_size,
            "encode",
        )

    def reconstruct(self, x, batch_size=256):
        """Decodes the posterior mean of each image: the model's reconstruction."""
        x = self.check_images(x, method="reconstruct")
        return self._batched(
            lambda batch: self._decode_batch(self.encode_tensors(batch)[0]),
            x,
            batch_size,
            "reconstruct",
        )

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta, "free_bits": self.free_bits})
        return config
