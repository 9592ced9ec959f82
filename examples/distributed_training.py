"""Training a VAE on several machines with `tf.distribute.MultiWorkerMirroredStrategy`.

Every worker runs this same script. TensorFlow learns the cluster from the `TF_CONFIG`
environment variable, which differs between workers only in `task.index`:

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                "task": {"type": "worker", "index": 0}}' python distributed_training.py

The strategy keeps one copy of the weights per worker, broadcasts the chief's initial
values, and all-reduces the gradients after every step, so all copies stay identical. Each
worker reads its own shard of every global batch. Worker 0 (the chief) saves the model.

To try it on one machine, `--local-workers 2` starts two workers on loopback ports:

    python examples/distributed_training.py --local-workers 2 --epochs 2
"""

import argparse
import json
import os
import socket
import subprocess
import sys


def free_loopback_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def spawn_local_workers(count: int, argv: list[str]) -> int:
    """Starts `count` copies of this script, each with its own TF_CONFIG, and waits."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_loopback_ports(count)]}
    workers = []
    for index in range(count):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        workers.append(subprocess.Popen([sys.executable, __file__, *argv], env=env))
    return max(worker.wait() for worker in workers)


def train(args) -> None:
    import tensorflow as tf

    import keras_vae
    from keras_vae import data, saving

    # Created first: it reads TF_CONFIG and connects to the other workers.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    is_chief = task["index"] == 0

    images, _ = data.load_mnist_sample(binarize="static")
    global_batch = args.batch_size * strategy.num_replicas_in_sync
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=0)
    dataset = dataset.batch(global_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    # The data lives in memory, not in files: shard it element-wise across workers.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)

    with strategy.scope():
        vae = keras_vae.VAE(latent_dim=args.latent_dim, seed=0, prior="standard_normal")
        vae.compile()
    vae.fit(dataset, epochs=args.epochs, verbose=2 if is_chief else 0)
    if is_chief:
        # Atomic: a worker killed mid-save leaves the previous file, not a torn one.
        saving.save_model(vae, args.output, overwrite=True)
        print(f"worker 0 saved {args.output} ({strategy.num_replicas_in_sync} replicas)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-workers", type=int, default=0, help="start N local workers")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="per worker")
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--output", default="distributed_vae.keras")
    args = parser.parse_args()
    if args.local_workers:
        forwarded = ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
        forwarded += ["--latent-dim", str(args.latent_dim), "--output", args.output]
        return spawn_local_workers(args.local_workers, forwarded)
    if "TF_CONFIG" not in os.environ:
        parser.error("set TF_CONFIG on every worker (see the docstring) or pass --local-workers N")
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
