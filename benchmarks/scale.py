"""Benchmark: one epoch of 60,000 digits against one of 5,000, in time per image and memory.

    python benchmarks/scale.py [--images 60000] [--batch-size 128] [--latent-dim 16]

Trains one epoch on `--images` shifted sample digits between two epochs on the 5,000 sample
digits (after one that traces), recording the resident memory every ten batches: the time per
image should not grow with the data (target <= 1.3x), nor the memory through the large epoch.
Prints the table and writes `benchmarks/results/scale.json` (`harness.write_results`).
`python benchmarks/speed.py --only scale` runs the same. The memory of `log_likelihood` over
many images is measured by `throughput.py` (`--memory-sizes`).
"""

import argparse
import pathlib
import statistics
import sys

import keras

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402
from subjects import build, fit_seconds, shifted_digits  # noqa: E402

from keras_vae import data  # noqa: E402

TARGET_RATIO = 1.3


class ResidentMemory(keras.callbacks.Callback):
    """Records this process's resident memory every `every` training batches."""

    def __init__(self, every=10):
        super().__init__()
        self.every = every
        self.samples = []

    def on_train_batch_end(self, batch, logs=None):
        if batch % self.every == 0:
            self.samples.append(harness.rss_mb())


def scale(big: int, batch_size: int, latent_dim: int) -> dict:
    """Seconds and resident memory of the small, large and small epochs, and their ratio."""
    images, _ = data.load_mnist_sample(binarize="static", seed=0)
    large = shifted_digits(images, big, max_shift=2, seed=0)
    model = build("VAE", latent_dim)
    fit_seconds(model, images, None, batch_size)  # tracing
    timings, memory = {"small": [], "large": []}, {}
    for name, x in (("small", images), ("large", large), ("small", images)):
        monitor = ResidentMemory()
        timings[name].append(fit_seconds(model, x, None, batch_size, [monitor])[0])
        memory[name] = monitor.samples
    per_image_small = statistics.mean(timings["small"]) / len(images)
    per_image_large = timings["large"][0] / big
    trace = memory["large"]
    quarter = trace[len(trace) // 4]
    return {
        "small_images": len(images),
        "large_images": big,
        "seconds": timings,
        "per_image_ratio": per_image_large / per_image_small,
        "rss_mb_large_epoch": {
            "first_quarter": quarter,
            "end": trace[-1],
            "max": max(trace),
            "growth_after_first_quarter": trace[-1] - quarter,
        },
        "rss_mb_small_epoch_max": max(memory["small"]),
    }


def rows(result: dict) -> list:
    rss = result["rss_mb_large_epoch"]
    return [
        {
            "images": result["large_images"],
            "time per image / 5,000-digit epoch's": result["per_image_ratio"],
            "target": f"<= {TARGET_RATIO}x",
            "RSS after a quarter (MB)": rss["first_quarter"],
            "RSS at the end (MB)": rss["end"],
            "RSS max (MB)": rss["max"],
            "5,000-digit epoch's RSS max (MB)": result["rss_mb_small_epoch_max"],
        }
    ]


def run(images, batch_size, latent_dim, settings=None) -> dict:
    """Measures, prints the table and writes `scale.json`; returns the result."""
    result = scale(images, batch_size, latent_dim)
    table = rows(result)
    harness.print_table("One large epoch against the 5,000 sample digits", table)
    harness.write_results(
        "scale",
        table,
        notes=f"Target: the time per image of the large epoch <= {TARGET_RATIO}x that of the"
        " 5,000-digit epochs (their mean, one before and one after).",
        extra={"settings": settings, "machine": harness.machine(), "details": result},
    )
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=16)
    args = parser.parse_args(argv)
    return run(args.images, args.batch_size, args.latent_dim, vars(args))


if __name__ == "__main__":
    main()
