"""Running exported files with the LiteRT interpreter: outputs, tensor details, latency."""

import gc
import time
import warnings

import numpy as np

from keras_vae.export import inputs as export_inputs

# Float32 from an output tensor of any type, as the device's runner reads it.
from keras_vae.export.run_tflite import to_unit_range as dequantize

_LATENCY_BUDGET_S = 2.0


def interpreter(path, delegates=True, **kwargs):
    """A single-threaded LiteRT interpreter of `path`; without the default XNNPACK delegate
    when `delegates=False`."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if not delegates:
        # Without the XNNPACK delegate every op stays visible (the delegate fuses them into
        # one DELEGATE node), which the op list and the per-op comparison need.
        kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # preserve_all_tensors is for debugging
        return Interpreter(model_path=str(path), num_threads=1, **kwargs)


def ops_details(litert_interpreter) -> list:
    """The interpreter's ops in execution order, as dicts with op_name, inputs and outputs.

    LiteRT has no public call for the op list; `_get_ops_details` is the one its own tools
    use. `tests/export/test_export.py::test_private_upstream_apis_still_behave` fails if it
    goes.
    """
    return litert_interpreter._get_ops_details()


def op_names(path) -> list:
    return sorted({op["op_name"] for op in ops_details(interpreter(path, delegates=False))})


def tensor_summary(name, details) -> dict:
    params = details["quantization_parameters"]
    scales, zero_points = params["scales"], params["zero_points"]
    return {
        "name": name,
        "tensor": details["name"],
        "shape": [int(d) for d in details["shape_signature"]],
        "dtype": np.dtype(details["dtype"]).name,
        "scale": float(scales[0]) if len(scales) == 1 else None,
        "zero_point": int(zero_points[0]) if len(zero_points) == 1 else None,
    }


def signature_tensors(path, signature) -> tuple:
    """Summaries of the signature's input and output tensors (with int8 scale/zero point)."""
    runner = interpreter(path, delegates=False).get_signature_runner(signature)
    return (
        [tensor_summary(k, d) for k, d in runner.get_input_details().items()],
        [tensor_summary(k, d) for k, d in runner.get_output_details().items()],
    )


def run(path, signature, inputs, dynamic_batch) -> np.ndarray:
    """The signature's output on `inputs`, dequantized to float32 (256 rows per call, or one)."""
    runner = interpreter(path).get_signature_runner(signature.name)
    details = runner.get_output_details()[signature.output_name]
    step = 256 if dynamic_batch else 1
    outputs = [
        runner(**export_inputs.rows(inputs, i, i + step))[signature.output_name]
        for i in range(0, export_inputs.count(inputs), step)
    ]
    return dequantize(np.concatenate(outputs), details)


def set_inputs(litert_interpreter, indices: dict, batch: dict) -> None:
    """Resizes, allocates and fills inputs through the raw interpreter API (no signature
    runner, which would pin the buffers against resizing, and no runner overhead in timings)."""
    try:
        _resize_inputs(litert_interpreter, indices, batch)
    except RuntimeError:
        # LiteRT refuses to resize while anything else refers to the interpreter's wrapper
        # (its check counts references); such a reference was seen, rarely, held by garbage
        # not yet collected. Collect it and try once more; a second failure is real.
        gc.collect()
        _resize_inputs(litert_interpreter, indices, batch)
    for name, values in batch.items():
        litert_interpreter.set_tensor(indices[name], values)


def _resize_inputs(litert_interpreter, indices: dict, batch: dict) -> None:
    for name, values in batch.items():
        litert_interpreter.resize_tensor_input(indices[name], values.shape)
    litert_interpreter.allocate_tensors()


def input_indices(path, signature_name) -> dict:
    """Tensor index of each signature input, read from a throwaway interpreter's runner
    (tensor indices are those of the file, the same in every interpreter of it)."""
    runner = interpreter(path, delegates=False).get_signature_runner(signature_name)
    return {name: d["index"] for name, d in runner.get_input_details().items()}


def latency_ms(path, signature, inputs, batch_size, repeats) -> float:
    """Median wall time of one invoke, per example, with a single thread."""
    indices = input_indices(path, signature.name)
    timed = interpreter(path)
    batch = {
        name: np.resize(values, (batch_size, *values.shape[1:])).astype(np.float32)
        for name, values in inputs.items()
    }
    set_inputs(timed, indices, batch)
    timed.invoke()  # warm-up: first-call allocations and delegate preparation
    times = []
    # A time budget as well as a count: a slow variant (e.g. a dynamic-range transposed
    # convolution) should not hold the export for minutes to refine a median.
    deadline = time.perf_counter() + _LATENCY_BUDGET_S
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() < deadline):
        start = time.perf_counter()
        for name, values in batch.items():
            timed.set_tensor(indices[name], values)
        timed.invoke()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000.0 / batch_size


def internal_quantization(path, signature_name) -> dict:
    """Scale and zero point of the integer tensors right inside a float input or output.

    A full-integer file with float ends starts with QUANTIZE (float input -> int8) and ends
    with DEQUANTIZE (int8 -> float output); firmware that feeds or reads the integer tensors
    directly needs these. Keyed `"input <name>"` / `"output <name>"` by signature names;
    empty for files without such ends.
    """
    probe = interpreter(path, delegates=False)
    runner = probe.get_signature_runner(signature_name)
    names = {d["index"]: f"input {n}" for n, d in runner.get_input_details().items()}
    names |= {d["index"]: f"output {n}" for n, d in runner.get_output_details().items()}
    details = {d["index"]: d for d in probe.get_tensor_details()}
    found = {}
    for op in ops_details(probe):
        inner, outer = op["outputs"][0], op["inputs"][0]
        if op["op_name"] == "DEQUANTIZE":
            inner, outer = outer, inner
        elif op["op_name"] != "QUANTIZE":
            continue
        if outer in names and details[inner]["quantization"][0]:
            found[names[outer]] = _scale(details[inner])
    return found


def _scale(details) -> dict:
    scale, zero_point = details["quantization"]
    return {
        "scale": float(scale),
        "zero_point": int(zero_point),
        "dtype": np.dtype(details["dtype"]).name,
    }


def input_order(path, signature_name) -> list:
    """The signature's input names in the order of the graph's inputs (what index-based
    runtimes such as TFLM and Arm NN number them by)."""
    indices = input_indices(path, signature_name)
    by_index = {index: name for name, index in indices.items()}
    graph = interpreter(path, delegates=False).get_input_details()
    return [by_index[d["index"]] for d in graph if d["index"] in by_index]
