"""Verification under TensorFlow Lite for Microcontrollers (TFLM), the runtime of firmware.

With the optional `tflite-micro` package (`pip install keras-vae[micro]`), every exported
file is loaded by TFLM's Python interpreter, which runs the same C++ kernels and memory
planner as a board. Per file it reports whether TFLM accepts it (and TFLM's reason when
not), its outputs against Keras and against LiteRT, the smallest tensor arena it runs in
(found by bisection, not estimated), the flash the model takes, and the
`MicroMutableOpResolver` lines a firmware needs for its ops.
"""

import importlib.metadata
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


# Every TFLM interpreter call runs in a child process: TFLM's C++ code can crash the process
# (a segmentation fault, e.g. in a 16-byte arena) instead of raising, and a crash must not take
# the user's process with it; it becomes the reason "crashed: TFLM exited with signal N".
_CHILD = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
content = open(sys.argv[1], "rb").read()
rows = np.load(sys.argv[2])
arena = None if sys.argv[3] == "default" else int(sys.argv[3])
inputs = [rows[f"arr_{index}"] for index in range(len(rows.files))]
try:
    interpreter = runtime.Interpreter.from_bytes(content, arena_size=arena)
    outputs = []
    for i in range(len(inputs[0])):
        for index, values in enumerate(inputs):
            interpreter.set_input(values[i : i + 1], index)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0))
    params = interpreter.get_output_details(0).get("quantization_parameters") or {}
except (RuntimeError, ValueError) as error:
    print("error: " + " ".join(str(error).split()))
    sys.exit(3)
np.savez(
    sys.argv[4],
    output=np.concatenate(outputs),
    scales=np.asarray(params.get("scales", []), np.float64),
    zero_points=np.asarray(params.get("zero_points", []), np.int64),
)
print("ran")
"""


class _TFLMError(RuntimeError):
    """TFLM refused the file, or its process crashed; `messages` holds what it printed."""

    def __init__(self, reason: str, messages: str = ""):
        super().__init__(reason)
        self.messages = messages


def _child(content: bytes, inputs: list, arena_size) -> dict:
    """Runs the model once per example of `inputs` in a child process; raises `_TFLMError`."""
    with tempfile.TemporaryDirectory() as work:
        model, rows = pathlib.Path(work, "model.tflite"), pathlib.Path(work, "rows.npz")
        outputs = pathlib.Path(work, "outputs.npz")
        model.write_bytes(content)
        np.savez(rows, *[np.asarray(values, np.float32) for values in inputs])
        arena = "default" if arena_size is None else str(int(arena_size))
        try:
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(model), str(rows), arena, str(outputs)],
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.TimeoutExpired as error:
            raise _TFLMError("TFLM ran past 600 s") from error
        if done.returncode < 0:
            raise _TFLMError(f"crashed: TFLM exited with signal {-done.returncode}", done.stderr)
        if done.returncode != 0 or not done.stdout.strip().endswith("ran"):
            error = [line for line in done.stdout.splitlines() if line.startswith("error: ")]
            reason = error[-1][len("error: ") :] if error else f"exit status {done.returncode}"
            raise _TFLMError(reason, done.stderr)
        with np.load(outputs) as saved:
            return {name: saved[name] for name in saved.files}


def _runs(content: bytes, arena_size, row: list) -> bool:
    """Whether TFLM runs the model once in `arena_size` bytes (a crash counts as no)."""
    try:
        _child(content, row, arena_size)
    except _TFLMError:
        return False
    return True


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
    """Runs TFLM once per example (`inputs`: arrays in subgraph input order); float outputs.

    Raises `RuntimeError` when TFLM refuses the file or crashes (in a child process).
    """
    saved = _child(content, inputs, None)
    values = saved["output"]
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float32)
    if len(saved["scales"]):
        zero_point = saved["zero_points"][0]
        return (values.astype(np.float32) - zero_point) * float(saved["scales"][0])
    return values.astype(np.float32) / 255.0


def verify(path, signature, expected, litert_output, peak) -> dict:
    """What TFLM makes of one file: accepted or not (why), fidelity, arena, flash, ops."""
    content = path.read_bytes()
    ops = litert.op_names(path)
    order = litert.input_order(path, signature.name)
    inputs = [signature.verification[name].astype(np.float32) for name in order]
    result = {"accepted": False, "reason": None, "flash_bytes": len(content), "ops": ops}
    try:
        output = run(content, inputs)
    except _TFLMError as error:
        result["reason"] = _reason(error)
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


def _reason(error) -> str:
    if str(error).startswith("crashed:"):
        return str(error)
    lines = [line.strip() for line in error.messages.splitlines() if line.strip()]
    text = "; ".join(dict.fromkeys(lines)) or str(error)
    return " ".join(text.split())[:400]
