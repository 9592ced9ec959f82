"""`keras-vae export`: the decoder to SavedModel and verified TFLite files."""

from keras_vae.cli.common import load_model


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
    report = export_decoder(model, args.output_dir, **kwargs)
    print(f"exported to {args.output_dir}")
    print(report.to_markdown())
