"""Benchmark: the default `VAE` against the same networks in plain PyTorch.

    python benchmarks/torch_race.py [--rounds 5] [--torch-threads N] [--torch-passive-wait]

`torch_reference.py` holds the same layers, initialisation, optimiser, batch size and data.
Training and decoding images per second in interleaved rounds (`harness.interleaved_rounds`,
after one warm-up epoch each), and the test -ELBO after the same epochs. Skipped with one
line when torch is not installed. Prints the table and writes
`benchmarks/results/torch_race.json` (`harness.write_results`).
`python benchmarks/speed.py --only race` runs the same.
"""

import argparse
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402
from subjects import build, decoder_function, fit_seconds, sample_split, time_batches  # noqa: E402

from keras_vae import evaluation  # noqa: E402

TORCH_INSTALL = (
    "PyTorch race skipped: torch is not installed. Install the CPU build with"
    " `pip install torch --index-url https://download.pytorch.org/whl/cpu`"
    " (or `pip install -e .[bench]`, which on Linux pulls the larger CUDA build)."
)


def race(rounds, batch_size, latent_dim, decode_n, torch_threads=None, passive_wait=False):
    """The race's measures, or None (after one line) where torch is not installed."""
    if passive_wait:
        # OpenMP threads that spin while waiting lose their time slice on a shared machine.
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        import torch
        import torch_reference
    except ImportError:
        print(TORCH_INSTALL)
        return None
    if torch_threads:
        torch.set_num_threads(torch_threads)
    (train, _), (test, _) = sample_split()
    keras_model = build("VAE", latent_dim)
    torch.manual_seed(0)
    torch_model = torch_reference.TorchVAE(latent_dim)
    timers = _timers(keras_model, torch_model, train, latent_dim, decode_n, batch_size)
    # The warm-up is tracing, and one training epoch for both.
    per_round = harness.interleaved_rounds(timers, rounds)
    keras_elbo = float(np.mean(evaluation.elbo(keras_model, test, seed=0)["loss"]))
    torch.manual_seed(1)
    torch_elbo = torch_reference.negative_elbo(torch_model, torch_reference.to_nchw(test))
    return {
        "epochs": rounds + 1,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "parameters": {
            "keras": int(sum(np.prod(w.shape) for w in keras_model.trainable_weights)),
            "torch": torch_reference.parameter_count(torch_model),
        },
        "images_per_second": harness.median_over_rounds(per_round),
        "train_ratio": harness.median_ratio(per_round, "keras/train", "torch/train"),
        "decode_ratio": harness.median_ratio(per_round, "keras/decode", "torch/decode"),
        "decode_compiled_ratio": harness.median_ratio(
            per_round, "keras/decode_compiled", "torch/decode"
        ),
        "test_negative_elbo": {"keras": keras_elbo, "torch": torch_elbo},
        "elbo_ratio": torch_elbo / keras_elbo,
        "rounds": per_round,
    }


def _timers(keras_model, torch_model, train, latent_dim, decode_n, batch_size) -> dict:
    """name -> a function returning images per second of one epoch or one decoding pass."""
    import torch
    import torch_reference

    optimizer = torch_reference.make_optimizer(torch_model)
    generator = torch.Generator().manual_seed(0)
    train_nchw = torch_reference.to_nchw(train)
    z = np.random.default_rng(0).normal(size=(decode_n, latent_dim)).astype("float32")
    torch_z = torch.from_numpy(z)
    compiled = decoder_function(keras_model, jit_compile=False)

    def keras_decode():
        start = time.perf_counter()
        keras_model.decode(z, batch_size=256)
        return time.perf_counter() - start

    seconds = {
        "keras/train": lambda: fit_seconds(keras_model, train, None, batch_size)[0],
        "torch/train": lambda: torch_reference.train_epoch(
            torch_model, optimizer, train_nchw, batch_size, generator
        ),
        "keras/decode": keras_decode,
        "keras/decode_compiled": lambda: time_batches(compiled, z, None, 256),
        "torch/decode": lambda: torch_reference.decode_seconds(torch_model, torch_z, 256),
    }
    return {
        name: _rate(timer, len(train) if name.endswith("train") else decode_n)
        for name, timer in seconds.items()
    }


def _rate(timer, images):
    return lambda: images / timer()


def rows(result: dict) -> list:
    ips = result["images_per_second"]
    elbo = result["test_negative_elbo"]
    return [
        {
            "measure": "training (img/s)",
            "keras_vae": ips["keras/train"],
            "PyTorch": ips["torch/train"],
            "keras_vae / PyTorch": result["train_ratio"],
        },
        {
            "measure": "decoding, `model.decode` (img/s)",
            "keras_vae": ips["keras/decode"],
            "PyTorch": ips["torch/decode"],
            "keras_vae / PyTorch": result["decode_ratio"],
        },
        {
            "measure": "decoding, decoder in `tf.function` (img/s)",
            "keras_vae": ips["keras/decode_compiled"],
            "PyTorch": ips["torch/decode"],
            "keras_vae / PyTorch": result["decode_compiled_ratio"],
        },
        {
            "measure": f"test -ELBO after {result['epochs']} epochs (nats)",
            "keras_vae": elbo["keras"],
            "PyTorch": elbo["torch"],
            "keras_vae / PyTorch": elbo["keras"] / elbo["torch"],
        },
    ]


def run(rounds, batch_size, latent_dim, decode_latents, torch_threads=None, passive_wait=False):
    """Measures, prints the table and writes `torch_race.json`; None without torch."""
    result = race(rounds, batch_size, latent_dim, decode_latents, torch_threads, passive_wait)
    if result is None:
        return None
    table = rows(result)
    harness.print_table("keras_vae against PyTorch (interleaved rounds)", table)
    harness.write_results(
        "torch_race",
        table,
        notes="Images per second: the median over rounds; ratios: the median of the ratios"
        " within each round.",
        extra={"machine": harness.machine(), "details": result},
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--decode-latents", type=int, default=2048)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument(
        "--torch-passive-wait",
        action="store_true",
        help="OMP_WAIT_POLICY=PASSIVE for torch (it must load after this is set)",
    )
    args = parser.parse_args(argv)
    return run(
        args.rounds,
        args.batch_size,
        args.latent_dim,
        args.decode_latents,
        args.torch_threads,
        args.torch_passive_wait,
    )


if __name__ == "__main__":
    main()
