"""The half of the `keras-vae` command that runs before TensorFlow: names, options, parser.

This small package lies outside `keras_vae` on purpose. Importing anything under `keras_vae`
runs `keras_vae/__init__.py`, which imports Keras and TensorFlow (seconds, and TensorFlow's
log lines) so that `import keras_vae` registers the model classes for
`keras.saving.load_model`. The modules here use the standard library only, so `--help` and
usage errors answer at once, and they import nothing of `keras_vae`: `names` (what the parser
and the library share), `arguments`, `parser` and `console` are leaves that the library and
its commands (`keras_vae.cli`) import. The one module above the library is `entry`, the
console script: it parses with `parse_command_line`, then hands the arguments to
`keras_vae.cli.run` (docs/architecture.md).
"""

import argparse

from keras_vae_cli.arguments import add_data_arguments, add_training_arguments
from keras_vae_cli.console import quiet_start
from keras_vae_cli.parser import build_parser

__all__ = ["add_data_arguments", "add_training_arguments", "build_parser", "parse_command_line"]


def parse_command_line(argv=None) -> argparse.Namespace:
    """The parsed `keras-vae` arguments, with TensorFlow's start-up lines held back for this
    process unless `--verbose` (`console.quiet_start`). Usage errors and `--help` exit here,
    before TensorFlow is imported (status 2 and 0).

    Args:
        argv: list of str or None. The arguments without the program name; None for `sys.argv[1:]`.
    """
    args = build_parser().parse_args(argv)
    # TensorFlow's start-up lines (oneDNN, CUDA, CPU features) say nothing to a user of the
    # command; quiet unless asked for (--verbose) or the user chose a log level.
    quiet_start(verbose=args.verbose)
    return args
