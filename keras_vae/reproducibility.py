"""`set_reproducible`: two runs with the same seed give identical weights and samples."""

import keras
import numpy as np


def set_reproducible(seed: int) -> None:
    """Seeds every random generator and makes TensorFlow ops deterministic.

    After this call, two runs of the same script on the same machine build the same initial
    weights, draw the same shuffles and the same sampling noise, and end with identical
    weights and samples. It calls:

    - `keras.utils.set_random_seed(seed)`: seeds Python's `random`, NumPy, TensorFlow and
      Keras's global `SeedGenerator` (weight initializers, `fit`'s shuffling).
    - `tf.config.experimental.enable_op_determinism()`: ops with a faster non-deterministic
      kernel (GPU reductions, some convolution algorithms) use a deterministic one, and ops
      with none raise an error instead of varying silently. It can slow training on a GPU
      and holds for the rest of the process.

    Give the model its own `seed` too (`VAE(seed=...)`) so its sampling noise is seeded.
    Results still differ across machines, TensorFlow versions and numbers of threads
    with other float rounding. Note that with a global seed set, Keras shuffles in-memory
    arrays in the same order every epoch.

    Args:
        seed: int >= 0.

    Example:
    <!-- skip: changes process-wide state (op determinism) -->
    ```python
    keras_vae.set_reproducible(0)
    vae = keras_vae.VAE(latent_dim=2, seed=0)
    ```
    """
    import tensorflow as tf

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"set_reproducible() expects `seed` as an int >= 0; got {seed!r}.")
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()
