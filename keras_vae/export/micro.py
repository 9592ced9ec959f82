"""Verification under TensorFlow Lite for Microcontrollers (TFLM), the runtime of firmware.

With the optional `tflite-micro` package (`pip install keras-vae[micro]`), every exported
file is loaded by TFLM's Python interpreter, which runs the same C++ kernels and memory
planner as a board. Per file it reports whether TFLM accepts it (and TFLM's reason when
not), its outputs against Keras and against LiteRT, the smallest tensor arena it runs in
(found by bisection, not estimated), the flash the model takes, and the
`MicroMutableOpResolver` lines a firmware needs for its ops.
"""

import contextlib
import importlib.metadata
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from keras_vae.export import litert
from keras_vae.export.report import psnr

INSTALL = "pip install keras-vae[micro]"
# TFLM's resolver method names where they are not the CamelCase of the builtin op name.
_RESOLVER_NAMES = {
    "CONV_2D": "Conv2D",
    "DEPTHWISE_CONV_2D": "DepthwiseConv2D",
    "BATCH_MATMUL": "BatchMatMul",
    "L2_NORMALIZATION": "L2Normalization",
}
_ARENA_STEP = 16  # TFLM aligns arena allocations to 16 bytes


class MicroUnavailableError(ImportError):
    """Raised when the TFLM check is required (`micro=True`, `c_array=True`) but missing."""


def available() -> bool:
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        return False
    return True


def status(requested):
    """`(report line, verify function or None)` for `ExportOptions.micro`."""
    if requested is False:
        return "not run (micro=False)", None
    if not available():
        if requested:
            raise MicroUnavailableError(
                f"micro=True needs TensorFlow Lite for Microcontrollers: {INSTALL}."
            )
        return f"skipped: {INSTALL}", None
    return f"ran with tflite-micro {importlib.metadata.version('tflite-micro')}", verify


def resolver_lines(ops) -> list:
    """The `MicroMutableOpResolver` calls that register `ops` (builtin op names)."""
    lines = []
    for op in sorted(ops):
        name = _RESOLVER_NAMES.get(op) or "".join(part.capitalize() for part in op.split("_"))
        lines.append(f"resolver.Add{name}();")
    return lines


@contextlib.contextmanager
def _tflm_messages(sink: list):
    """Collects what TFLM prints to the C stderr (its reasons for refusing a model)."""
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sink.append(captured.read().decode(errors="replace"))


def _interpreter(content: bytes, arena_size):
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(content, arena_size=arena_size)


# One arena trial, in a child process: with some arenas just too small, TFLM's allocator
# crashes the process (a segmentation fault) instead of reporting the failure.
_TRIAL = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
content = open(sys.argv[1], "rb").read()
rows = np.load(sys.argv[2])
interpreter = runtime.Interpreter.from_bytes(content, arena_size=int(sys.argv[3]))
for index in range(len(rows.files)):
    interpreter.set_input(rows[f"arr_{index}"], index)
interpreter.invoke()
print("ran")
"""


def _runs(content: bytes, arena_size, row: list) -> bool:
    """Whether TFLM runs the model once in `arena_size` bytes (a crash counts as no)."""
    with tempfile.TemporaryDirectory() as work:
        model, inputs = pathlib.Path(work, "model.tflite"), pathlib.Path(work, "row.npz")
        model.write_bytes(content)
        np.savez(inputs, *[np.asarray(values, np.float32) for values in row])
        done = subprocess.run(
            [sys.executable, "-c", _TRIAL, str(model), str(inputs), str(arena_size)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    return done.returncode == 0 and done.stdout.strip().endswith("ran")


def arena_bytes(content: bytes, row: list, start: int = 1024) -> int:
    """The smallest tensor arena (a multiple of 16 bytes) in which TFLM runs the model."""
    high = start
    while not _runs(content, high, row):
        if high > 64 * len(content) + (1 << 24):
            raise RuntimeError("TFLM ran the model in no arena size tried")
        high *= 2
    low = high // 2 if high > start else 0
    while high - low > _ARENA_STEP:
        middle = (low + high) // 2 // _ARENA_STEP * _ARENA_STEP
        if middle <= low:
            break
        if _runs(content, middle, row):
            high = middle
        else:
            low = middle
    return high


def run(content: bytes, inputs: list) -> np.ndarray:
    """Runs TFLM once per example (`inputs`: arrays in subgraph input order); float outputs."""
    interpreter = _interpreter(content, None)
    details = interpreter.get_output_details(0)
    outputs = []
    for i in range(len(inputs[0])):
        for index, values in enumerate(inputs):
            interpreter.set_input(values[i : i + 1], index)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0))
    return _dequantize(np.concatenate(outputs), details)


def _dequantize(values, details) -> np.ndarray:
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float32)
    params = details.get("quantization_parameters") or {}
    scales = params.get("scales", [])
    if len(scales):
        zero_point = params["zero_points"][0]
        return (values.astype(np.float32) - zero_point) * float(scales[0])
    return values.astype(np.float32) / 255.0


def verify(path, signature, expected, litert_output, peak) -> dict:
    """What TFLM makes of one file: accepted or not (why), fidelity, arena, flash, ops."""
    content = path.read_bytes()
    ops = litert.op_names(path)
    order = litert.input_order(path, signature.name)
    inputs = [signature.verification[name].astype(np.float32) for name in order]
    result = {"accepted": False, "reason": None, "flash_bytes": len(content), "ops": ops}
    messages = []
    try:
        with _tflm_messages(messages):
            output = run(content, inputs)
    except (RuntimeError, ValueError) as error:
        result["reason"] = _reason(messages, error)
        return result
    result.update(
        accepted=True,
        arena_bytes=arena_bytes(content, [values[:1] for values in inputs]),
        psnr_vs_keras_db=psnr(expected, output, peak),
        max_error_vs_keras=float(np.abs(output - expected).max()),
        psnr_vs_litert_db=psnr(litert_output, output, peak),
        max_error_vs_litert=float(np.abs(output - litert_output).max()),
        resolver=resolver_lines(ops),
    )
    return result


def _reason(messages, error) -> str:
    lines = [line.strip() for text in messages for line in text.splitlines() if line.strip()]
    text = "; ".join(dict.fromkeys(lines)) or str(error)
    return " ".join(text.split())[:400]
