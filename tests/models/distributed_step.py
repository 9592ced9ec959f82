"""One training step with and without `MirroredStrategy` on two logical CPUs (run as a script).

The logical devices must be configured before TensorFlow initialises, so this runs in its own
process; it prints the largest weight difference and the two reported losses as JSON.
"""

import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_vae import VAE, Decoder  # noqa: E402


def build_model():
    # A near-zero posterior variance (log-variance fixed at -30) makes the sampled z equal the
    # mean, so both runs see the same z whatever the replicas' noise.
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(16, activation="tanh")(keras.layers.Flatten()(inputs))
    z_mean = keras.layers.Dense(2)(hidden)
    z_log_var = keras.layers.Dense(
        2,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(-30.0),
        trainable=False,
    )(hidden)
    encoder = keras.Model(inputs, [z_mean, z_log_var])
    decoder = Decoder(2, conv_filters=(8, 4), dense_units=(16,))
    # N(0, I): the weights compared are one gradient step's, with no refit after it.
    model = VAE(encoder=encoder, decoder=decoder, latent_dim=2, seed=0, prior="standard_normal")
    # Plain SGD: Adam would normalise away a wrong gradient scale.
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05))
    return model


def main():
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(64, 28, 28, 1)) > 0.7).astype("float32")
    keras.utils.set_random_seed(0)
    plain = build_model()
    initial = plain.get_weights()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = build_model()
    mirrored.set_weights(initial)
    loss_plain = plain.fit(x, batch_size=64, epochs=1, shuffle=False, verbose=0).history["loss"]
    loss_mirrored = mirrored.fit(x, batch_size=64, epochs=1, shuffle=False, verbose=0).history[
        "loss"
    ]
    difference = max(
        float(np.abs(a - b).max()) for a, b in zip(plain.get_weights(), mirrored.get_weights())
    )
    change = max(float(np.abs(a - b).max()) for a, b in zip(plain.get_weights(), initial))
    json.dump(
        {
            "replicas": strategy.num_replicas_in_sync,
            "max_weight_difference": difference,
            "max_weight_change": change,
            "loss_plain": loss_plain[0],
            "loss_mirrored": loss_mirrored[0],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
