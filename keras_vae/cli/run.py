"""Runs a parsed `keras-vae` command and turns the errors a user can fix into one line."""

import sys

from keras_vae.cli import evaluate, export, firmware, sample, serve, train
from keras_vae.cli.common import CommandError
from keras_vae_cli import parse_command_line

# The module that runs each command of the parser (`keras_vae_cli.parser`), by its name.
COMMANDS = {
    "train": train,
    "evaluate": evaluate,
    "sample": sample,
    "export": export,
    "serve": serve,
    "firmware": firmware,
}


def run(args) -> int:
    """Runs the `run(args)` of the module of `args.command`; returns the exit status (0, or 1
    with one line on stderr)."""
    try:
        COMMANDS[args.command].run(args)
    except CommandError as error:
        print(f"keras-vae {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"keras-vae {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    """Runs `keras-vae` with `argv` in this process (TensorFlow already imported); returns the
    exit status: 0, 1 for an error the user can fix (one line on stderr), 2 for bad usage.
    The console script is `keras_vae_cli.entry.main`, which parses before TensorFlow.

    Args:
        argv: list of str or None. The arguments without the program name; None for `sys.argv[1:]`.
    """
    return run(parse_command_line(argv))
