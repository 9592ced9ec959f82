"""A quiet start for the `keras-vae` command and the example scripts (standard library only).

Importing TensorFlow prints lines that say nothing to a user: the CUDA probe on a machine
without a GPU (`Could not find cuda drivers`, `failed call to cuInit`), CPU-feature and oneDNN
notes, and absl's `All log messages before absl::InitializeLog()`. Some are written by C++
before TensorFlow reads `TF_CPP_MIN_LOG_LEVEL`, so only the file descriptor can hold them
back. `quiet_start()` sets the log level (when the user did not), imports TensorFlow with
file descriptor 2 captured, and writes back every captured line except those known start-up
lines, so a real error during the import still shows; then absl's Python logging (TFDS's
`Variant folder ... has no dataset_info.json`) is set to errors only.

This is process-wide state, which the library never changes (docs/architecture.md): only
the command line and the examples call it, before anything imports TensorFlow.
"""

import contextlib
import os
import re
import sys
import tempfile

# Start-up lines of TensorFlow, XLA and absl that are held back; anything else gets through.
STARTUP_NOISE = re.compile(
    "|".join(
        (
            r"All log messages before absl::InitializeLog\(\) is called",
            r"Could not find cuda drivers",
            r"failed call to cuInit",
            r"oneDNN custom operations are on",
            r"TF_ENABLE_ONEDNN_OPTS",
            r"This TensorFlow binary is optimized to use available CPU instructions",
            r"To enable the following instructions: ",
            r"Unable to register cu(DNN|FFT|BLAS) factory",
            r"computation placer already registered",
            r"TF-TRT Warning: Could not find TensorRT",
            r"cuda_diagnostics\.cc",
        )
    )
)


def _startup_noise(line: str) -> bool:
    return bool(STARTUP_NOISE.search(line))


@contextlib.contextmanager
def held_back_stderr(keep=lambda line: True):
    """Captures what anything (Python or C++) writes to file descriptor 2 inside the block,
    then writes back the lines for which `keep(line)` is true, also when the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(keepends=True) if keep(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_start(verbose: bool = False) -> bool:
    """Silences TensorFlow's and absl's start-up lines for this process, unless `verbose` or
    the user set `TF_CPP_MIN_LOG_LEVEL` (then everything shows as TensorFlow prints it).

    Call it before anything imports TensorFlow. Returns whether it silenced anything.
    """
    if verbose or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return False
    # 3 keeps C++ INFO, WARNING and ERROR lines back; failures still reach Python as
    # exceptions with their message.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with held_back_stderr(keep=lambda line: not _startup_noise(line)):
        import tensorflow  # noqa: F401

        # The CUDA probe runs at the first device query, not at the import.
        tensorflow.config.list_physical_devices()
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    return True


def verbose_requested(argv) -> bool:
    """Whether `--verbose` is among the arguments (read before the parser, which runs after
    the quiet start in the examples)."""
    return "--verbose" in argv
