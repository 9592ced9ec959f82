"""One worker of a two-worker `MultiWorkerMirroredStrategy` run (started by test_multiworker).

Usage: `multiworker_worker.py INDEX PORT0,PORT1 OUT.npz`. The cluster is described to
TensorFlow the standard way, through `TF_CONFIG`, which must be set before the strategy is
created. Each worker trains the same small VAE for a few steps on its shard of the data and
saves its final weights, so the test can check that the replicas stayed in sync.
"""

import json
import os
import sys


def main():
    index = int(sys.argv[1])
    ports = sys.argv[2].split(",")
    out = sys.argv[3]
    os.environ["TF_CONFIG"] = json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
            "task": {"type": "worker", "index": index},
        }
    )

    import keras
    import numpy as np
    import tensorflow as tf

    from keras_vae import VAE, Decoder, Encoder

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    # Different seeds per worker: identical weights afterwards must come from the strategy
    # (initial values broadcast from the chief, gradients all-reduced), not from luck.
    keras.utils.set_random_seed(index)
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(128, 28, 28, 1)) > 0.7).astype("float32")
    global_batch = 32
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(global_batch, drop_remainder=True)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)

    with strategy.scope():
        model = VAE(
            encoder=Encoder(2, conv_filters=(4, 8), dense_units=(16,)),
            decoder=Decoder(2, conv_filters=(8, 4), dense_units=(16,)),
            latent_dim=2,
            seed=index,
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
    initial = [w.copy() for w in model.get_weights()]
    history = model.fit(dataset, epochs=2, verbose=0)
    weights = model.get_weights()
    change = max(float(np.abs(a - b).max()) for a, b in zip(weights, initial))
    np.savez(out, *weights)
    print(
        json.dumps(
            {
                "index": index,
                "replicas": strategy.num_replicas_in_sync,
                "loss": history.history["loss"],
                "max_weight_change": change,
            }
        )
    )


if __name__ == "__main__":
    main()
