"""Benchmark: `compile(jit_compile=True)` against the default, for training and decoding.

    python benchmarks/xla.py [--epochs 4] [--batch-size 128] [--latent-dim 16]

Trains `VAE`, `AutoEncoder` and `ConditionalVAE` with and without XLA, the epochs of all six
interleaved (`harness.interleaved_rounds`; the first epoch, which holds tracing and XLA
compilation, is left out of the rates), with the loss curves side by side; then decodes
`--decode-latents` codes with `model.sample`, `model.decode`, the decoder in a
`tf.function` and the same with XLA. Prints the table and writes `benchmarks/results/xla.json`
(`harness.write_results`). `python benchmarks/speed.py --only xla` runs the same.
"""

import argparse
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402
from subjects import (  # noqa: E402
    KINDS,
    build,
    condition_for,
    decoder_function,
    fit_seconds,
    sample_split,
    time_batches,
)


def xla(epochs: int, batch_size: int, latent_dim: int, decode_n: int) -> dict:
    """Per model kind: images per second with and without XLA, the losses, the decode rates."""
    (train, labels), _ = sample_split()
    configs = [(kind, jit) for kind in KINDS for jit in (False, True)]
    models = {c: build(c[0], latent_dim, jit_compile=c[1]) for c in configs}
    errors = {}

    def epoch_of(config):
        def timer():
            if config in errors:
                return None
            try:
                return fit_seconds(models[config], train, labels, batch_size)
            except Exception as error:  # noqa: BLE001 - the benchmark reports what XLA refused
                message = str(error).strip().splitlines()[0][:200]
                errors[config] = f"{type(error).__name__}: {message}"
                return None

        return timer

    per_round = harness.interleaved_rounds(
        {config: epoch_of(config) for config in configs}, epochs, warm_up=False
    )
    runs = {c: [r[c] for r in per_round if r[c] is not None] for c in configs}
    z = np.random.default_rng(0).normal(size=(decode_n, latent_dim)).astype("float32")
    return {
        kind: _kind_result(
            runs[(kind, False)], runs[(kind, True)], errors.get((kind, True)), len(train)
        )
        | {"decode": _decode_rates(models[(kind, False)], z, batch_size=256)}
        for kind in KINDS
    }


def _kind_result(default, jit, error, images) -> dict:
    # Epoch 0 holds tracing and XLA compilation; later epochs alternate order.
    entry = {
        "default_images_per_second": _rate(images, [s for s, _ in default[1:]]),
        "default_losses": [loss for _, loss in default],
        "xla_losses": [loss for _, loss in jit],
    }
    if error:
        entry["xla_error"] = error
    elif len(jit) > 1:
        entry["xla_images_per_second"] = _rate(images, [s for s, _ in jit[1:]])
        entry["xla_speedup"] = statistics.median(
            d / x for (d, _), (x, _) in zip(default[1:], jit[1:], strict=False)
        )
        final_default, final_jit = default[-1][1], jit[-1][1]
        entry["final_loss_relative_difference"] = (final_jit - final_default) / abs(final_default)
    return entry


def _rate(images: int, seconds: list) -> float | None:
    return images / statistics.median(seconds) if seconds else None


def _decode_rates(model, z, batch_size) -> dict:
    condition = condition_for(model, len(z))
    labels = None if condition is None else np.argmax(condition, axis=1)
    functions = {
        "sample": lambda: model.sample(len(z), seed=0),
        "decode": lambda: (
            model.decode(z, labels, batch_size) if labels is not None else model.decode(z)
        ),
    }
    rates = {}
    for jit in (False, True):
        name = f"tf.function(jit_compile={jit})"
        try:
            function = decoder_function(model, jit)
            time_batches(function, z[:batch_size], _head(condition, batch_size), batch_size)
        except Exception as error:  # noqa: BLE001
            rates[name] = f"{type(error).__name__}"
            continue
        functions[name] = lambda function=function: time_batches(function, z, condition, batch_size)
    timers = {name: _images_per_second(call, len(z)) for name, call in functions.items()}
    per_round = harness.interleaved_rounds(timers, 3, progress=False)
    rates.update(harness.median_over_rounds(per_round))
    return rates


def _images_per_second(call, n):
    def timer():
        start = time.perf_counter()
        call()
        return n / (time.perf_counter() - start)

    return timer


def _head(condition, n):
    return None if condition is None else condition[:n]


def rows(result: dict) -> list:
    """One table row per model kind."""
    table = []
    for kind, entry in result.items():
        row = {
            "model": kind,
            "default fit (img/s)": entry["default_images_per_second"],
            "jit_compile=True fit (img/s)": entry.get("xla_images_per_second", "-"),
            "XLA speedup": entry.get("xla_speedup", "-"),
            "final loss, default": entry["default_losses"][-1],
            "final loss, XLA": entry["xla_losses"][-1] if entry["xla_losses"] else "-",
        }
        if "xla_error" in entry:
            row["jit_compile=True fit (img/s)"] = f"fails: {entry['xla_error'][:80]}"
        row.update({f"decode img/s: {name}": rate for name, rate in entry["decode"].items()})
        table.append(row)
    return table


def run(epochs, batch_size, latent_dim, decode_latents, settings=None) -> dict:
    """Measures, prints the table and writes `xla.json`; returns the result."""
    result = xla(epochs, batch_size, latent_dim, decode_latents)
    table = rows(result)
    harness.print_table("XLA against the default (epochs interleaved)", table)
    harness.write_results(
        "xla",
        table,
        notes="Images per second: the median over epochs after the first (tracing, XLA"
        " compilation); decode rates: the median of three interleaved rounds.",
        extra={"settings": settings, "machine": harness.machine(), "details": result},
    )
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--decode-latents", type=int, default=2048)
    args = parser.parse_args(argv)
    return run(args.epochs, args.batch_size, args.latent_dim, args.decode_latents, vars(args))


if __name__ == "__main__":
    main()
