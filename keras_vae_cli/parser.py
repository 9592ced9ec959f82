"""The `keras-vae` argument parser: five commands and their options (standard library only)."""

import argparse
import importlib.util
import json
import pathlib

from keras_vae_cli.arguments import (
    add_data_arguments,
    add_training_arguments,
    non_negative_float,
    positive_float,
    positive_int,
)
from keras_vae_cli.names import MIXTURE_FILE, MODEL_FILE, MODEL_FILE_NAMES, POOLS_FILE

MODEL_TYPES = ("vae", "cvae", "autoencoder")
SAMPLERS = ("prior", "mixture", "pool")
GENERATE_SOURCES = ("auto", "none", "prior", "mixture", "pools")


def _registry_configurations() -> tuple:
    """The configurations of keras_vae's preset registry (`keras_vae/presets/registry.json`),
    found without importing `keras_vae`, whose `__init__` imports TensorFlow."""
    package = importlib.util.find_spec("keras_vae")
    registry = pathlib.Path(package.submodule_search_locations[0], "presets", "registry.json")
    entries = json.loads(registry.read_text())
    return tuple(name for name, entry in entries.items() if "builder" in entry)


# keras_vae.presets.MODEL_PRESETS, from the same file (a test checks they are the same).
PRESETS = _registry_configurations()


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, pointing at `--help`."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_model_argument(parser):
    parser.add_argument(
        "--model",
        required=True,
        help=f"a saved .keras model, or a run folder holding {MODEL_FILE} (or"
        f" {MODEL_FILE_NAMES[1]}).",
    )


def _add_train(commands) -> None:
    train = commands.add_parser(
        "train",
        help="train a model and save it with its latent pools and mixture",
        description=f"Trains a model and writes {MODEL_FILE}, {POOLS_FILE} (the latent pool of"
        f" each class), {MIXTURE_FILE} (a Gaussian mixture fitted to the training codes),"
        " samples.png and history.json into --output-dir.",
    )
    add_data_arguments(train, images=True)
    add_training_arguments(train)
    train.add_argument("--model-type", choices=MODEL_TYPES, default="vae", help="Default: vae.")
    train.add_argument("--architecture", choices=("conv", "dense"), default="conv")
    train.add_argument(
        "--preset",
        choices=PRESETS,
        default=None,
        help="a configuration of the preset registry (keras_vae.presets): the board-sized"
        " decoders (micro, tiny) or the recommended VAE (learned prior of 20 components unless"
        " --prior-components). Default: none (the options above).",
    )
    train.add_argument(
        "--free-bits", type=non_negative_float, default=0.0, help="KL floor per latent dimension."
    )
    train.add_argument(
        "--kl-warmup",
        choices=("none", "linear", "cyclical"),
        default="none",
        help="Schedule of the KL weight. Default: none.",
    )
    train.add_argument(
        "--warmup-steps",
        type=positive_int,
        default=1000,
        help="Steps of the linear ramp, or of one cycle. Default: 1000.",
    )
    train.add_argument(
        "--mixture-components",
        type=positive_int,
        default=10,
        help=f"Gaussians of the mixture written to {MIXTURE_FILE}. Default: 10.",
    )
    train.add_argument(
        "--overwrite", action="store_true", help="Replace the files of an earlier run."
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="Continue a run that was interrupted, from <output-dir>/backup (same arguments).",
    )


def _add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="ELBO, importance-weighted log-likelihood and active units on test data",
        description="Evaluates a saved VAE on the test split: the negative ELBO, the"
        " importance-weighted estimate of log p(x) (nats), and the active latent units.",
    )
    _add_model_argument(evaluate)
    add_data_arguments(evaluate, images=True)
    evaluate.add_argument(
        "--num-samples",
        type=positive_int,
        default=1000,
        help="Importance samples K. Default: 1000.",
    )
    evaluate.add_argument(
        "--limit", type=positive_int, default=1000, help="Test examples to use. Default: 1000."
    )
    evaluate.add_argument("--output-dir", default=None, help="Also write evaluation.json here.")


def _add_sample(commands) -> None:
    sample = commands.add_parser(
        "sample",
        help="generate images from the prior, the fitted mixture, a class pool or a label",
        description="Generates images and writes samples.png (a grid) and samples.npy.",
    )
    _add_model_argument(sample)
    sample.add_argument("--n", type=positive_int, default=64, help="Number of images. Default: 64.")
    sample.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=None,
        help=f"where the latent vectors come from: the prior N(0, I) (with --temperature), the"
        f" Gaussian mixture of {MIXTURE_FILE}, or the pool of one class (--pool)."
        " Default: pool with --pool, else prior.",
    )
    sample.add_argument(
        "--pool",
        default=None,
        metavar="CLASS",
        help=f"the class to draw ({POOLS_FILE}): its label (7) or its name (dog).",
    )
    sample.add_argument(
        "--temperature",
        type=positive_float,
        default=None,
        help="scale of the prior's standard deviation (--sampler prior). Default: 1.",
    )
    sample.add_argument(
        "--label", type=int, default=None, help="class to generate (conditional models)."
    )
    sample.add_argument(
        "--pools", default=None, help=f"Pools file. Default: {POOLS_FILE} next to --model."
    )
    sample.add_argument(
        "--mixture", default=None, help=f"Mixture file. Default: {MIXTURE_FILE} next to --model."
    )
    sample.add_argument("--seed", type=int, default=0, help="Random seed. Default: 0.")
    sample.add_argument("--output-dir", default=".", help="Default: the current directory.")
    sample.add_argument("--overwrite", action="store_true", help="Replace existing files.")


def _add_export(commands) -> None:
    export = commands.add_parser(
        "export",
        help="export the decoder to SavedModel and verified TFLite files",
        description="Exports the decoder with keras_vae.export.export_decoder.",
    )
    _add_model_argument(export)
    export.add_argument("--output-dir", required=True, help="Directory of the exported files.")
    export.add_argument("--formats", nargs="+", default=None, help="TFLite formats. Default: all.")
    export.add_argument("--uint8-output", action="store_true", help="Emit uint8 pixels.")
    export.add_argument("--seed", type=int, default=0, help="Random seed. Default: 0.")
    export.add_argument("--overwrite", action="store_true", help="Replace earlier exports.")
    export.add_argument(
        "--c-array",
        action="store_true",
        help="Also write decoder_int8_data.cc/.h for firmware (needs int8 and tflite-micro).",
    )
    export.add_argument(
        "--generate",
        choices=GENERATE_SOURCES,
        default="auto",
        help="what the files' generate(noise, component) signature draws from: the model's"
        f" prior, the mixture of {MIXTURE_FILE}, the class pools of {POOLS_FILE}, or none."
        " Default: auto, the model's prior when it is learned (none with --c-array: a board's"
        " runtime runs one signature).",
    )
    export.add_argument(
        "--pools", default=None, help=f"Pools file. Default: {POOLS_FILE} next to --model."
    )
    export.add_argument(
        "--mixture", default=None, help=f"Mixture file. Default: {MIXTURE_FILE} next to --model."
    )
    export.add_argument(
        "--web",
        action="store_true",
        help="Also write web/, a page that draws from the pools in a browser (LiteRT.js);"
        " open it with `keras-vae serve OUTPUT_DIR`. With --generate auto it draws from the"
        f" class pools of {POOLS_FILE} when the run has them, else the model's prior.",
    )
    export.add_argument(
        "--litertjs-dir",
        default=None,
        help="node_modules/@litertjs of `npm install @litertjs/core@~2.5.3`, copied beside the"
        " page. Default: $KERAS_VAE_LITERTJS, then ./node_modules/@litertjs.",
    )


def _add_serve(commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the web page of an export on 127.0.0.1",
        description="Serves the folder `keras-vae export --web` wrote (DIR or DIR/web) on"
        " 127.0.0.1 until Ctrl-C, and prints the address to open.",
    )
    serve.add_argument("directory", metavar="DIR", help="The export folder, or its web/ folder.")
    serve.add_argument("--port", type=int, default=8000, help="Default: 8000 (0: any free port).")
    serve.add_argument(
        "--host", default="127.0.0.1", help="Default: 127.0.0.1 (this machine only)."
    )


# Over our 60-line habit on purpose: a flat list of `add_argument` calls, one per option,
# read as the command's reference; split, the options would scatter over helpers.
def _add_firmware(commands) -> None:
    firmware = commands.add_parser(
        "firmware",
        help="build the int8 decoder into Cortex-M4 firmware (TFLM) and run it under QEMU",
        description="Builds OUT/decoder_<kernels>.elf (TensorFlow Lite for Microcontrollers on"
        " QEMU's mps2-an386 board) with the run's int8 decoder and a C table of its mixture,"
        " and writes OUT/firmware.json (sizes, arena, instructions per image). With --run it"
        " runs POOL SEED N on the emulated board and writes a PNG grid. See"
        " docs/guides/firmware.md.",
    )
    firmware.add_argument(
        "model",
        metavar="RUN",
        help=f"a run folder holding {MODEL_FILE}, or a saved .keras model.",
    )
    firmware.add_argument(
        "--tflm-dir",
        default=None,
        help="the TensorFlow Lite for Microcontrollers tree to build against. Default: $TFLM_DIR.",
    )
    firmware.add_argument("--out", required=True, help="Folder of the firmware and its files.")
    firmware.add_argument(
        "--kernels",
        choices=("ref", "cmsis_nn"),
        default="cmsis_nn",
        help="TFLM's reference kernels or Arm's CMSIS-NN. Default: cmsis_nn.",
    )
    firmware.add_argument(
        "--source",
        choices=("auto", "pools", "mixture", "prior"),
        default="auto",
        help=f"the mixture in the firmware's table: the class pools of {POOLS_FILE}, the"
        f" mixture of {MIXTURE_FILE}, or the model's prior. Default: auto, the pools when the"
        " run has them, else the prior.",
    )
    firmware.add_argument(
        "--pools", default=None, help=f"Pools file. Default: {POOLS_FILE} next to the model."
    )
    firmware.add_argument(
        "--mixture", default=None, help=f"Mixture file. Default: {MIXTURE_FILE} next to the model."
    )
    firmware.add_argument(
        "--arena-bytes",
        type=positive_int,
        default=None,
        help="tensor arena of the firmware. Default: the one the Python TFLM check measured.",
    )
    firmware.add_argument(
        "--cache-dir",
        default="build/tflm",
        help="where TFLM's library is built once per kernel set. Default: build/tflm.",
    )
    firmware.add_argument(
        "--no-count", action="store_true", help="Skip counting instructions with QEMU's plugin."
    )
    firmware.add_argument("--run", action="store_true", help="Run the firmware under QEMU.")
    firmware.add_argument(
        "--pool", type=int, default=None, help="--run: the component to draw, -1 for all."
    )
    firmware.add_argument("--seed", type=int, default=0, help="Random seed. Default: 0.")
    firmware.add_argument("-n", type=positive_int, default=16, help="--run: images. Default: 16.")


def build_parser() -> argparse.ArgumentParser:
    """The parser of the `keras-vae` command: `args.command` names the command, which
    `keras_vae.cli.run` runs."""
    parser = Parser(
        prog="keras-vae",
        description="Train, evaluate, sample from and export variational autoencoders.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (_add_train, _add_evaluate, _add_sample, _add_export, _add_serve, _add_firmware):
        add(commands)
    for command in commands.choices.values():
        command.add_argument(
            "--verbose",
            action="store_true",
            help="Show TensorFlow's start-up lines and the converter's and runtime's own output"
            " (hidden by default; so are they when TF_CPP_MIN_LOG_LEVEL is set).",
        )
    return parser
