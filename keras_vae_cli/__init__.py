"""Entry point of the `keras-vae` console script: parse first, import TensorFlow after.

This small package lies outside `keras_vae` on purpose. Importing anything under `keras_vae`
runs `keras_vae/__init__.py`, which imports Keras and TensorFlow (seconds, and TensorFlow's
log lines) so that `import keras_vae` registers the model classes for
`keras.saving.load_model`. The parser here uses the standard library only, so `--help` and
usage errors answer at once; the command itself then runs from `keras_vae.cli`.
"""

import importlib
import sys

from keras_vae_cli.arguments import add_data_arguments, add_training_arguments
from keras_vae_cli.console import quiet_start
from keras_vae_cli.parser import build_parser

__all__ = ["add_data_arguments", "add_training_arguments", "build_parser", "main"]


def main(argv=None) -> int:
    """Runs `keras-vae` with `argv` (default: the process's arguments); returns the exit
    status: 0, 1 for an error the user can fix (one line on stderr), 2 for bad usage.

    Args:
        argv: list of str or None. The arguments without the program name; None for `sys.argv[1:]`.
    """
    args = build_parser().parse_args(argv)
    # TensorFlow's start-up lines (oneDNN, CUDA, CPU features) say nothing to a user of the
    # command; quiet unless asked for (--verbose) or the user chose a log level.
    quiet_start(verbose=args.verbose)
    commands = importlib.import_module("keras_vae.cli.run")
    return commands.run(args)


if __name__ == "__main__":
    sys.exit(main())
