"""The `keras-vae` console script: parse before TensorFlow, then run the command.

The only module of `keras_vae_cli` that reaches into `keras_vae`, and nothing imports it: the
library and its commands import the leaves beside it (`names`, `arguments`, `parser`,
`console`), so the imports run one way (tests/cli/test_cli_layout.py).
"""

import sys

from keras_vae_cli import parse_command_line


def main(argv=None) -> int:
    """Runs `keras-vae` with `argv` (default: the process's arguments); returns the exit
    status: 0, 1 for an error the user can fix (one line on stderr), 2 for bad usage.

    Args:
        argv: list of str or None. The arguments without the program name; None for `sys.argv[1:]`.
    """
    args = parse_command_line(argv)
    # Imported once the arguments are good: this is where TensorFlow is imported.
    from keras_vae.cli.run import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
