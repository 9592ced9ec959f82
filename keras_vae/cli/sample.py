"""`keras-vae sample`: images from the prior, the fitted mixture, a class pool or a label."""

import pathlib

from keras_vae.cli.common import (
    CommandError,
    load_model,
    prepare_output,
    read_mixture,
    read_pools,
)

OUTPUT_FILES = ("samples.png", "samples.npy")


def chosen_sampler(args) -> str:
    """`--sampler`, or its default (`pool` with `--pool`, else `prior`), checked against the
    options that only one sampler reads."""
    name = args.sampler or ("pool" if args.pool is not None else "prior")
    if name == "pool" and args.pool is None:
        raise CommandError("--sampler pool needs --pool CLASS (a label such as 7, or a name)")
    if name != "pool" and args.pool is not None:
        raise CommandError(f"--pool draws from a class pool; it does not go with --sampler {name}")
    if name != "prior" and args.temperature is not None:
        raise CommandError(f"--temperature scales the prior; it does not go with --sampler {name}")
    if name == "pool" and args.label is not None:
        raise CommandError("--pool and --label both choose the class; pass one of them")
    return name


def pool_key(pools, text: str):
    """The pool label that `--pool TEXT` names: a number for numbered classes, else a name."""
    labels = pools.labels.tolist()
    key = text
    if pools.labels.dtype.kind in "iu":
        try:
            key = int(text)
        except ValueError:
            key = None
    if key not in labels:
        raise CommandError(f"--pool {text!r} is not one of the pools {labels}")
    return key


def build_sampler(args, model, name: str, folder: pathlib.Path):
    """The `keras_vae.samplers` sampler of `--sampler`, read from the files next to the model
    where it needs one. Returns `(sampler, label)`: the class a pool draws, else `None`."""
    from keras_vae.samplers import PoolSampler, PriorSampler

    if name == "prior":
        temperature = 1.0 if args.temperature is None else args.temperature
        if model.is_conditional and getattr(getattr(model, "prior", None), "is_learned", False):
            # A conditional model draws from its own prior in `sample` (for a
            # `ClassConditionalPrior`, the prior of each requested label).
            return None, None
        if hasattr(model, "prior_sampler"):
            # The model's own prior: N(0, I), or the mixture it learned (`MixturePrior`).
            return model.prior_sampler(temperature=temperature), None
        return PriorSampler(model.latent_dim, temperature=temperature), None
    if name == "mixture":
        return read_mixture(args, model, folder), None
    pools = read_pools(args, model, folder)
    key = pool_key(pools, args.pool)
    return PoolSampler(pools, key), key


def run(args) -> None:
    import numpy as np

    from keras_vae import saving
    from keras_vae.images import save_image_grid

    name = chosen_sampler(args)
    output = prepare_output(args.output_dir, OUTPUT_FILES, args.overwrite)
    model = load_model(args.model)
    folder = saving.resolve_model_path(args.model).parent
    sampler, pool_label = build_sampler(args, model, name, folder)
    label = args.label if pool_label is None else pool_label
    if model.is_conditional:
        # Without a label, a conditional model draws the classes in turn: 0, 1, 2, ...
        if sampler is None:
            temperature = 1.0 if args.temperature is None else args.temperature
            images = model.sample(args.n, labels=label, seed=args.seed, temperature=temperature)
        else:
            images = model.sample(args.n, labels=label, seed=args.seed, sampler=sampler)
    elif args.label is not None:
        raise CommandError(
            f"--label needs a conditional model (--model-type cvae); use --pool {args.label}"
            f" to draw from the pool of class {args.label}"
        )
    else:
        images = model.sample(args.n, seed=args.seed, sampler=sampler)
    np.save(output / "samples.npy", images)
    save_image_grid(images, output / "samples.png")
    print(f"saved {len(images)} images ({name} sampler) to {output / 'samples.png'} and .npy")
