"""The reparameterization trick as a layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_vae")
class Sampling(keras.layers.Layer):
    """Draws `z = z_mean + exp(z_log_var / 2) * eps` with `eps ~ N(0, I)`.

    The noise comes from a `keras.random.SeedGenerator`, so gradients flow through `z_mean`
    and `z_log_var` and a seeded layer gives the same sequence of draws on every run.

    Args:
        seed: int or None. Seed of the layer's `SeedGenerator`. Defaults to `None`.

    Example:
    ```python
    z = keras_vae.Sampling(seed=1)([z_mean, z_log_var])
    ```
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(
            ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator
        )
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    # The generator's state is a variable but not a weight, so Keras would not save it. Saving
    # it makes a reloaded (or resumed) model continue the same sequence of draws.
    def save_own_variables(self, store):
        store["seed_generator_state"] = ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        if "seed_generator_state" in store.keys():
            self.seed_generator.state.assign(store["seed_generator_state"][...])

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
