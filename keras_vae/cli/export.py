"""`keras-vae export`: the decoder to SavedModel and verified TFLite files.

With `--generate` (by default for a model with a learned prior) every file also gets a
`generate(noise, component)` signature that draws from the model's prior, the mixture or the
class pools written by `train`: a conditional VAE's prior per class gives `generate(noise,
component, choice)`, so `keras_vae/export/run_tflite.py --label k` draws from p(z | y = k). With
`--c-array` (a board, whose TFLM runs one signature) `auto` adds none.
"""

import pathlib

from keras_vae.cli.common import CommandError, load_model, read_mixture, read_pools
from keras_vae.priors import ClassConditionalPrior


def generate_sampler(args, model, folder: pathlib.Path):
    """The sampler behind the `generate` signature of `--generate`, or None for none."""
    source = args.generate
    prior = getattr(model, "prior", None)
    if source == "auto" and getattr(args, "web", False):
        from keras_vae.run_folder import MIXTURE_FILE, POOLS_FILE

        # The page shows pools by name: the classes when the run has them.
        if args.pools or (folder / POOLS_FILE).is_file():
            source = "pools"
        elif hasattr(model, "prior_sampler"):
            source = "prior"
        elif args.mixture or (folder / MIXTURE_FILE).is_file():
            source = "mixture"
        else:
            raise CommandError(
                f"--web draws in the page from pools, and the {type(model).__name__} at"
                f" {folder} has none: its codes fill no known distribution and the folder holds"
                f" no {POOLS_FILE} or {MIXTURE_FILE}. Write them with `keras-vae train`, or pass"
                " --pools or --mixture"
            )
    if source == "auto":
        learned = getattr(prior, "is_learned", False)
        source = "prior" if learned and not args.c_array else "none"
    elif source != "none" and args.c_array:
        raise CommandError(
            f"--generate {source} adds a second signature, which the C array for a board"
            " (--c-array) cannot hold; pass --generate none or leave out --c-array"
        )
    if source == "none":
        return None
    if source == "prior":
        if not hasattr(model, "prior_sampler"):
            raise CommandError(
                f"--generate prior needs a VAE; the {type(model).__name__} has no prior (its"
                " codes fill no known distribution): pass --generate mixture or pools"
            )
        if isinstance(prior, ClassConditionalPrior):
            return prior
        return model.prior_sampler()
    if source == "mixture":
        return read_mixture(args, model, folder)
    return read_pools(args, model, folder)


def run(args) -> None:
    from keras_vae import saving
    from keras_vae.export import export_decoder

    model = load_model(args.model)
    kwargs = {
        "overwrite": args.overwrite,
        "seed": args.seed,
        "uint8_output": args.uint8_output,
        "c_array": args.c_array,
        "verbose": 2 if args.verbose else 1,
    }
    if args.formats:
        kwargs["formats"] = tuple(args.formats)
    folder = saving.resolve_model_path(args.model).parent
    sampler = generate_sampler(args, model, folder)
    if sampler is not None:
        kwargs["sampler"] = sampler
    if args.web:
        kwargs.update(web=True, litertjs_dir=args.litertjs_dir)
    report = export_decoder(model, args.output_dir, **kwargs)
    print(f"exported to {args.output_dir}")
    print(report.to_markdown())
    if args.web:
        print(
            f"the web page is in {args.output_dir}/web; open it with:"
            f" keras-vae serve {args.output_dir}"
        )
