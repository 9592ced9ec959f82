"""`keras-vae firmware`: the run's int8 decoder built against TensorFlow Lite for
Microcontrollers for a Cortex-M4 (QEMU's mps2-an386 board), measured, and optionally run.

The mixture the board draws from is the run's class pools (`pools.npz`) when it has them,
else the model's prior (its learned components, or N(0, I)); `--source` picks another.
"""

import pathlib

from keras_vae.cli.common import CommandError, load_model, read_mixture, read_pools


def board_mixture(args, model, folder: pathlib.Path):
    """The mixture of `--source`: pools, the fitted mixture, or the model's prior."""
    source = args.source
    if source == "auto":
        from keras_vae.run_folder import POOLS_FILE

        has_pools = args.pools is not None or (folder / POOLS_FILE).is_file()
        source = "pools" if has_pools else "prior"
    if source == "pools":
        return read_pools(args, model, folder)
    if source == "mixture":
        return read_mixture(args, model, folder)
    if not hasattr(model, "prior_sampler"):
        raise CommandError(
            f"--source prior needs a VAE; the {type(model).__name__} has no prior: pass"
            " --source pools or mixture"
        )
    return model.prior_sampler()


def run(args) -> None:
    import json

    import numpy as np

    from keras_vae import saving
    from keras_vae.export import firmware
    from keras_vae.images import save_image_grid

    if args.run and args.pool is None:
        raise CommandError("--run needs --pool K (a component 0..K-1, or -1 for the whole mixture)")
    model = load_model(args.model)
    folder = saving.resolve_model_path(args.model).parent
    mixture = board_mixture(args, model, folder)
    out = pathlib.Path(args.out)
    try:
        result = firmware.make_firmware(
            model,
            mixture,
            args.tflm_dir,
            out,
            kernels=args.kernels,
            cache=args.cache_dir,
            arena_bytes=args.arena_bytes,
            count=not args.no_count,
            seed=args.seed,
        )
    except firmware.FirmwareError as error:
        raise CommandError(str(error)) from None
    print(f"built {out / result['elf']}; wrote {out / firmware.FIRMWARE_FILE}")
    print(json.dumps({k: v for k, v in result.items() if k != "instructions_counted"}))
    if not args.run:
        return
    try:
        board = firmware.run(
            out / result["elf"], args.pool, args.seed, args.n, tuple(result["image_shape"])
        )
    except firmware.FirmwareError as error:
        raise CommandError(str(error)) from None
    images = np.stack(board["images"]).astype("float32") / 255.0
    grid = out / f"board_pool{args.pool}_seed{args.seed}.png"
    save_image_grid(images, grid)
    print(f"ran {len(images)} images on the emulated board; grid {grid}")
