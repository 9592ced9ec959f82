"""`keras-vae export`: the decoder to SavedModel and verified TFLite files.

A conditional VAE with a learned prior per class also gets `generate(noise, component,
choice)`, so `export/run_tflite.py --label k` draws from p(z | y = k); with `--c-array` (a
board, whose TFLM runs one signature) it does not.
"""

from keras_vae.cli.common import load_model
from keras_vae.layers.class_prior import ClassConditionalPrior


def run(args) -> None:
    from keras_vae.export import export_decoder

    model = load_model(args.model)
    kwargs = {
        "overwrite": args.overwrite,
        "seed": args.seed,
        "uint8_output": args.uint8_output,
        "c_array": args.c_array,
    }
    if args.formats:
        kwargs["formats"] = tuple(args.formats)
    if isinstance(getattr(model, "prior", None), ClassConditionalPrior) and not args.c_array:
        kwargs["sampler"] = model.prior
    report = export_decoder(model, args.output_dir, **kwargs)
    print(f"exported to {args.output_dir}")
    print(report.to_markdown())
