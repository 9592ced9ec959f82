"""Runs a parsed `keras-vae` command and turns the errors a user can fix into one line."""

import importlib
import sys

from keras_vae.cli.common import CommandError


def run(args) -> int:
    """Runs `args.command_module`'s `run(args)`; returns the exit status (0, or 1 with one
    line on stderr)."""
    command = importlib.import_module(f"keras_vae.cli.{args.command_module}")
    try:
        command.run(args)
    except CommandError as error:
        print(f"keras-vae {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"keras-vae {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0
