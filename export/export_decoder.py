"""Export a trained keras-vae model's decoder to a SavedModel and verified TFLite files.

    python export/export_decoder.py runs/vae/vae.keras --out export_dir
    python export/export_decoder.py runs/vae --out export_dir --formats float32 int8
    python export/export_decoder.py runs/vae --out firmware --formats int8 --c-array

Writes the files, report.json, report.md and sample_grids.png into `--out` (see
docs/guides/export.md); a ConditionalVAE file gives the signature `decode(z, labels)`. Exits with
status 1 when a variant fails the fidelity gate (the files and report are still written) and
2 on bad input.
"""

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "model", help="a .keras file, or a run directory holding model.keras or vae.keras"
    )
    parser.add_argument("--out", required=True, help="output directory (new or empty)")
    parser.add_argument(
        "--formats",
        nargs="+",
        default=["saved_model", "float32", "float16", "dynamic_range", "int8"],
        help="any of saved_model float32 float16 dynamic_range int8",
    )
    parser.add_argument("--encoder", action="store_true", help="export the encoder mean instead")
    parser.add_argument("--samples", type=int, default=1000, help="verification latents")
    parser.add_argument("--int8-psnr", type=float, default=30.0, help="int8 gate in dB")
    parser.add_argument("--float16-psnr", type=float, default=40.0, help="float16 gate in dB")
    parser.add_argument("--uint8-output", action="store_true", help="emit uint8 pixels")
    parser.add_argument(
        "--no-batch1",
        dest="batch1",
        action="store_false",
        help="skip the fixed batch-1 files (written by default, for strict runtimes)",
    )
    parser.add_argument("--batch1", action="store_true", help=argparse.SUPPRESS)  # the default
    parser.add_argument(
        "--c-array", action="store_true", help="write decoder_int8_data.cc/.h for firmware"
    )
    parser.add_argument(
        "--no-micro",
        action="store_true",
        help="skip the TensorFlow Lite for Microcontrollers check",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export")
    args = parser.parse_args(argv)

    # Imported after parsing so `--help` answers without loading TensorFlow.
    from keras_vae import export

    try:
        model = export.load_model_for_export(args.model)
        thresholds = {"int8": args.int8_psnr, "float16": args.float16_psnr}
        options = export.ExportOptions(
            formats=tuple(args.formats),
            num_verification_samples=args.samples,
            psnr_thresholds=thresholds,
            batch1_variant=args.batch1,
            micro=False if args.no_micro else None,
            overwrite=args.overwrite,
        )
        if args.encoder:
            report = export.export_encoder(model, args.out, options=options)
        else:
            report = export.export_decoder(
                model,
                args.out,
                options=options,
                uint8_output=args.uint8_output,
                c_array=args.c_array,
            )
    except export.FidelityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(export.markdown_table(report))
    print(f"Wrote {args.out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
