"""`keras-vae train`: fit a model, then save it with its latent pools and mixture."""

from keras_vae import run_folder
from keras_vae.cli.common import CommandError, prepare_output, resolve_data
from keras_vae.run_folder import HISTORY_FILE, MIXTURE_FILE, MODEL_FILE, POOLS_FILE

SAMPLES_FILE = "samples.png"


def build_model(args, input_shape, num_classes: int):
    """The model of `--model-type`, with the options of the command line."""
    import keras_vae

    common = {
        "latent_dim": args.latent_dim,
        "architecture": args.architecture,
        "seed": args.seed,
        "input_shape": tuple(input_shape),
    }
    preset = getattr(args, "preset", None)
    if preset is not None:
        return preset_model(args, input_shape)
    if args.model_type == "autoencoder":
        if getattr(args, "prior_components", 0):
            raise CommandError("--prior-components needs a VAE; the autoencoder has no prior")
        return keras_vae.AutoEncoder(**common)
    vae = {"beta": args.beta, "free_bits": args.free_bits, **common}
    if getattr(args, "prior_components", 0):
        vae["prior"] = keras_vae.MixturePrior(
            args.latent_dim, num_components=args.prior_components, seed=args.seed
        )
    if args.model_type == "cvae":
        return keras_vae.ConditionalVAE(num_classes=num_classes, **vae)
    # `--prior-components 0` (its default) is N(0, I), whatever `VAE`'s own default.
    return keras_vae.VAE(**{"prior": "standard_normal", **vae})


def preset_model(args, input_shape):
    """The VAE of `--preset` (`keras_vae.presets.model`), with the command line's options."""
    from keras_vae import presets

    if args.model_type != "vae":
        raise CommandError(
            f"--preset {args.preset} is a VAE configuration; it does not go with --model-type"
            f" {args.model_type}"
        )
    if args.architecture != "conv":
        raise CommandError(f"--preset {args.preset} chooses its own networks; drop --architecture")
    return presets.model(
        args.preset,
        latent_dim=args.latent_dim,
        input_shape=tuple(input_shape),
        prior_components=args.prior_components,
        beta=args.beta,
        free_bits=args.free_bits,
        seed=args.seed,
    )


def training_callbacks(args, output):
    """NaN guard, atomic last.keras after each epoch, and a backup every 100 batches that
    `--resume` continues from (without `--resume` an existing backup is an error); plus the
    KL warm-up of `--kl-warmup`."""
    import keras_vae

    callbacks = keras_vae.reliable_callbacks(
        output / "backup",
        last_path=output / "last.keras",
        save_freq=100,
        monitor="loss",
        resume=args.resume,
    )
    if args.kl_warmup != "none":
        if args.model_type == "autoencoder":
            raise CommandError("--kl-warmup needs a VAE; the autoencoder has no KL term")
        callbacks.append(
            keras_vae.KLWarmup(
                args.kl_warmup, warmup_steps=args.warmup_steps, cycle_steps=args.warmup_steps
            )
        )
    return callbacks


def save_pools(model, source, images, labels, folder) -> str:
    """Writes the latent pool of each class (`run_folder.write_pools`); returns what was
    written, for the summary line."""
    if not source.labelled:
        return f"no {POOLS_FILE} (the data has no classes)"
    run_folder.write_pools(
        model, images, labels, folder, class_names=source.class_names, overwrite=True
    )
    return POOLS_FILE


def run(args) -> None:
    source = resolve_data(args)
    files = (MODEL_FILE, POOLS_FILE, MIXTURE_FILE, SAMPLES_FILE, HISTORY_FILE)
    output = prepare_output(args.output_dir, files, args.overwrite)

    import keras

    import keras_vae
    from keras_vae.images import save_image_grid
    from keras_vae.samplers import GaussianMixtureSampler

    if args.model_type == "cvae" and not source.labelled:
        raise CommandError(f"--model-type cvae needs labelled data; {source.description} has none")
    keras.utils.set_random_seed(args.seed)
    # Built before the data is read, so that an image size the networks refuse fails at once.
    model = build_model(args, source.image_shape, source.num_classes)
    print(f"Data: {source.description}, images {'x'.join(map(str, source.image_shape))}")
    images, labels = source.arrays("train")
    callbacks = training_callbacks(args, output)
    model.compile()
    targets = labels if model.is_conditional else None
    try:
        history = model.fit(
            images,
            targets,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=callbacks,
            verbose=2,
        )
    except keras_vae.NonFiniteLossError as error:
        raise CommandError(str(error)) from None
    run_folder.write_model(model, output, overwrite=True)
    pools = save_pools(model, source, images, labels, output)
    mixture = GaussianMixtureSampler.fit(
        model,
        images,
        labels=targets,
        n_components=min(args.mixture_components, len(images)),
        seed=args.seed,
    )
    run_folder.write_mixture(mixture, output, overwrite=True)
    # A conditional model draws the classes in turn: 0, 1, ..., 9, 0, ...
    save_image_grid(model.sample(64, seed=args.seed), output / SAMPLES_FILE)
    run_folder.write_history(history.history, output)
    print(
        f"saved {MODEL_FILE}, {pools}, {MIXTURE_FILE}, {HISTORY_FILE} and {SAMPLES_FILE}"
        f" in {output}"
    )
