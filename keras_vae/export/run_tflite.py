"""Reference on-device generator: runs an exported decoder with nothing but numpy and LiteRT.

    python run_tflite.py decoder_int8.tflite --num 64 --png samples.png
    python run_tflite.py decoder_int8.tflite --num 16 --npy images.npy --latents-npy z.npy
    python run_tflite.py cvae_decoder_int8.tflite --num 16 --label 7 --png sevens.png
    python run_tflite.py decoder_int8.tflite --num 16 --pool 7 --png sevens.png
    python run_tflite.py decoder_int8.tflite --num 64 --mixture --png mixture.png

This is what a Raspberry Pi or an Android test harness has: it imports only numpy,
ai_edge_litert and the standard library (the PNG is written by hand with zlib and struct), and
nothing of `keras_vae`, so this one file, copied beside the `.tflite`, runs on the device. The
export package imports it in turn (`CHOICE_LEVELS`, `to_unit_range`), so the library and the
device read the files alike.
Latents are drawn from the prior N(0, I); the output is the decoder mean in [0, 1]. A
conditional decoder (a second input `labels`, exported from a ConditionalVAE) is detected
from the file: `--label k` draws digit k, otherwise the classes take turns. A file exported
with a sampler has a second signature `generate(noise, component)`: `--pool k` draws from
component (class pool) k, `--mixture` from every component in turn, with nothing but
standard-normal noise and an index. A conditional decoder exported with its class prior
(`export_decoder(cvae, ..., sampler=cvae.prior)`) has `generate(noise, component, choice)`:
`--label k` then draws z from p(z | y = k) as ConditionalVAE.sample does (component k, and a
uniform `choice` that picks the Gaussian of the class's mixture), not from N(0, I).
"""

import argparse
import struct
import sys
import zlib

import numpy as np

SIGNATURE = "decode"
GENERATE = "generate"
LABELS = "labels"
CHOICE = "choice"
# The resolution of `choice` in a conditional `generate`: an int in [0, CHOICE_LEVELS). Defined
# here, where the device reads it, and imported by `keras_vae.export.targets`, which writes it.
CHOICE_LEVELS = 2**16


def load_decoder(path, num_threads=1):
    """Returns the interpreter and the `decode` signature runner of a .tflite file."""
    # Here, not at the top: the export package imports this module for its constants.
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    signatures = interpreter.get_signature_list()
    if SIGNATURE not in signatures:
        raise ValueError(
            f"{path} has no '{SIGNATURE}' signature (found {sorted(signatures)}); export it with"
            " keras_vae.export.export_decoder."
        )
    return interpreter, interpreter.get_signature_runner(SIGNATURE)


def to_unit_range(values, details):
    """Float32 values of an output tensor, whatever its type: int8 dequantized with the
    tensor's scale and zero point, uint8 pixels (the float variants' `uint8_output`) over 255,
    floats as they are; images come out in [0, 1]."""
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float32)
    scale, zero_point = details["quantization"]
    if scale:  # the int8 variant's quantized output
        return (values.astype(np.float32) - zero_point) * scale
    return values.astype(np.float32) / 255.0  # uint8 pixels from the float variants


def num_classes(runner):
    """The size of the one-hot `labels` input of a conditional decoder; None without one."""
    details = runner.get_input_details().get(LABELS)
    return None if details is None else int(details["shape_signature"][-1])


def one_hot(labels, classes):
    """Float32 one-hot rows `(n, classes)` for int labels `(n,)`: what `labels` takes."""
    return np.eye(classes, dtype=np.float32)[np.asarray(labels)]


def generate(runner, latents, labels=None):
    """Decodes latents `(n, latent_dim)` to images `(n, h, w, c)` in [0, 1].

    A conditional decoder also needs `labels`: one-hot rows `(n, num_classes)`.
    """
    inputs = runner.get_input_details()
    if (LABELS in inputs) != (labels is not None):
        raise ValueError(
            f"the decoder's inputs are {sorted(inputs)}; labels were"
            f" {'given' if labels is not None else 'not given'}"
        )
    latent_name = next(name for name in inputs if name != LABELS)
    feeds = {latent_name: latents}
    if labels is not None:
        feeds[LABELS] = labels
    ((output_name, output_details),) = runner.get_output_details().items()
    step = len(latents) if inputs[latent_name]["shape_signature"][0] == -1 else 1
    outputs = [
        runner(**{name: values[i : i + step].astype(np.float32) for name, values in feeds.items()})[
            output_name
        ]
        for i in range(0, len(latents), step)
    ]
    return to_unit_range(np.concatenate(outputs), output_details)


def generate_from(interpreter, num, seed, component=None, count=None):
    """Images from the `generate(noise, component)` signature: `component` for every image,
    or each of `count` components in turn when None (`count` probed when None too). A file
    exported from a conditional VAE's class prior also takes `choice`, uniform in
    [0, CHOICE_LEVELS), which picks the Gaussian within the class; noise and then choice
    come from one generator seeded with `seed`. Returns (images, noise)."""
    if GENERATE not in interpreter.get_signature_list():
        raise ValueError(
            f"the file has no '{GENERATE}' signature (found"
            f" {sorted(interpreter.get_signature_list())}); export it with"
            " export_decoder(..., sampler=...)"
        )
    runner = interpreter.get_signature_runner(GENERATE)
    inputs = runner.get_input_details()
    noise_dim = int(inputs["noise"]["shape_signature"][-1])
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((num, noise_dim)).astype(np.float32)
    if component is None:
        components = np.arange(num) % (count or num_components(interpreter))
    else:
        components = np.full(num, component)
    feeds = {"noise": noise, "component": components.astype(np.int32)}
    if CHOICE in inputs:
        feeds[CHOICE] = rng.integers(0, CHOICE_LEVELS, num).astype(np.int32)
    ((output_name, details),) = runner.get_output_details().items()
    step = num if inputs["noise"]["shape_signature"][0] == -1 else 1
    outputs = [
        runner(**{name: values[i : i + step] for name, values in feeds.items()})[output_name]
        for i in range(0, num, step)
    ]
    return to_unit_range(np.concatenate(outputs), details), noise


def num_components(interpreter):
    """How many components (pools) the `generate` signature's tables hold: probe indices
    until the file's GATHER refuses one (LiteRT checks gather indices)."""
    runner = interpreter.get_signature_runner(GENERATE)
    inputs = runner.get_input_details()
    noise_dim = int(inputs["noise"]["shape_signature"][-1])
    extra = {CHOICE: np.zeros(1, np.int32)} if CHOICE in inputs else {}
    count = 0
    while count < 4096:
        try:
            runner(
                noise=np.zeros((1, noise_dim), np.float32),
                component=np.array([count], np.int32),
                **extra,
            )
        except (RuntimeError, ValueError):
            break
        count += 1
    return count


def has_class_prior(interpreter):
    """Whether the file's `generate` draws from a conditional VAE's class prior."""
    if GENERATE not in interpreter.get_signature_list():
        return False
    return CHOICE in interpreter.get_signature_runner(GENERATE).get_input_details()


def tile(images, columns):
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    grid = np.zeros((rows * height, columns * width, channels), np.float32)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * height : (row + 1) * height, column * width : (column + 1) * width] = image
    return grid


def png_bytes(image):
    """Encodes an `(h, w, 1 or 3)` float image in [0, 1] as an 8-bit PNG."""
    height, width, channels = image.shape
    color_type = {1: 0, 3: 2}[channels]  # grayscale or RGB
    pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    # Each scanline starts with filter type 0 (none).
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a decoder .tflite written by export_decoder")
    parser.add_argument("--num", type=int, default=64, help="images to generate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the prior draw")
    parser.add_argument("--columns", type=int, default=8, help="grid columns")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads")
    parser.add_argument("--png", help="write the images as one PNG grid")
    parser.add_argument("--npy", help="write the images as a float32 .npy array")
    parser.add_argument("--latents-npy", help="write the latents as a .npy array")
    parser.add_argument(
        "--label", type=int, help="digit to draw (conditional decoders; default: each in turn)"
    )
    parser.add_argument("--pool", type=int, help="component / class pool to draw (generate)")
    parser.add_argument(
        "--mixture", action="store_true", help="draw every component in turn (generate)"
    )
    args = parser.parse_args(argv)
    if args.num < 1 or args.columns < 1:
        parser.error(f"--num and --columns must be >= 1; got {args.num} and {args.columns}")
    if not (args.png or args.npy):
        parser.error("give --png and/or --npy")
    try:
        interpreter, runner = load_decoder(args.model, args.threads)
    except ValueError as error:  # LiteRT raises ValueError for missing or invalid files
        print(f"error: cannot load {args.model}: {error}", file=sys.stderr)
        return 2
    if args.pool is not None or args.mixture:
        return write_generated(interpreter, args)
    classes = num_classes(runner)
    labels = None
    if classes is None and args.label is not None:
        print(
            f"error: --label needs a conditional decoder (inputs z and labels); {args.model}"
            " has only z",
            file=sys.stderr,
        )
        return 2
    if classes is not None:
        if args.label is not None and not 0 <= args.label < classes:
            print(f"error: --label must be in [0, {classes}); got {args.label}", file=sys.stderr)
            return 2
        if has_class_prior(interpreter):
            # The label's own prior p(z | y), as ConditionalVAE.sample draws it.
            images, noise = generate_from(interpreter, args.num, args.seed, args.label, classes)
            write_outputs(images, noise, args)
            return 0
        label = (
            np.arange(args.num) % classes if args.label is None else np.full(args.num, args.label)
        )
        labels = one_hot(label, classes)
    inputs = runner.get_input_details()
    latent_name = next(name for name in inputs if name != LABELS)
    latent_dim = int(inputs[latent_name]["shape_signature"][-1])
    latents = np.random.default_rng(args.seed).standard_normal((args.num, latent_dim))
    images = generate(runner, latents.astype(np.float32), labels)
    write_outputs(images, latents, args)
    return 0


def write_generated(interpreter, args) -> int:
    """--pool / --mixture: images from the `generate` signature."""
    try:
        count = num_components(interpreter) if GENERATE in interpreter.get_signature_list() else 0
        if args.pool is not None and not 0 <= args.pool < count:
            raise ValueError(f"--pool must be in [0, {count}); got {args.pool}")
        images, noise = generate_from(interpreter, args.num, args.seed, args.pool)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_outputs(images, noise, args)
    return 0


def write_outputs(images, latents, args) -> None:
    if args.png:
        with open(args.png, "wb") as f:
            f.write(png_bytes(tile(images, args.columns)))
    if args.npy:
        np.save(args.npy, images)
    if args.latents_npy:
        np.save(args.latents_npy, latents.astype(np.float32))
    print(f"generated {len(images)} images of shape {images.shape[1:]}")


if __name__ == "__main__":
    sys.exit(main())
