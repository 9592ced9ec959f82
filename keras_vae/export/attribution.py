"""Per-op error attribution: which TFLite op types add the error of a quantized file."""

import numpy as np

from keras_vae.export import litert

# Ops that only move data between float and integer: they add no approximation of their
# own, so the attribution skips them.
CONVERSION_OPS = ("QUANTIZE", "DEQUANTIZE")
LAYER_OF_OP = {
    "TRANSPOSE_CONV": "Conv2DTranspose",
    "CONV_2D": "Conv2D",
    "FULLY_CONNECTED": "Dense",
    "LOGISTIC": "sigmoid",
    "RESHAPE": "Reshape",
}


def _all_tensors(path, indices, inputs):
    """Runs once with every intermediate tensor kept; returns ops, tensor details, values."""
    interpreter = litert.interpreter(path, delegates=False, experimental_preserve_all_tensors=True)
    litert.set_inputs(interpreter, indices, inputs)
    interpreter.invoke()
    ops = [op for op in litert.ops_details(interpreter) if op["op_name"] not in CONVERSION_OPS]
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    values = {}
    for op in ops:
        for tensor in op["outputs"]:
            raw = interpreter.get_tensor(tensor)
            if np.issubdtype(raw.dtype, np.floating) or details[tensor]["quantization"][0]:
                values[tensor] = litert.dequantize(raw, details[tensor])
    return ops, details, values


def error_by_op_type(reference_path, variant_path, signature_name, inputs) -> tuple:
    """Which TFLite op types add the error of a variant, as shares of the added error.

    Both files run on the same inputs (one batch; a fixed-batch file gets one row) with all
    intermediate tensors kept. Their compute ops pair up in execution order (quantized files
    only add QUANTIZE/DEQUANTIZE); for each pair the normalised squared error of the output
    is compared with that of the op's inputs, and the increase is what the op added.
    Returns `(shares, notes)`.
    """
    ref_ops, _, ref_values = _all_tensors(
        reference_path, litert.input_indices(reference_path, signature_name), inputs
    )
    var_ops, var_details, var_values = _all_tensors(
        variant_path, litert.input_indices(variant_path, signature_name), inputs
    )
    if [op["op_name"] for op in ref_ops] != [op["op_name"] for op in var_ops]:
        return {}, ["the op sequences differ from float32; no per-op error attribution"]
    producer_error, added = {}, []
    for ref_op, var_op in zip(ref_ops, var_ops):
        inherited = max((producer_error.get(t, 0.0) for t in ref_op["inputs"]), default=0.0)
        out_ref, out_var = ref_op["outputs"][0], var_op["outputs"][0]
        if out_ref not in ref_values or out_var not in var_values:
            continue
        expected, got = ref_values[out_ref], var_values[out_var]
        if expected.shape != got.shape:
            continue
        error = float(np.mean((expected - got) ** 2) / (np.mean(expected**2) + 1e-12))
        producer_error[out_ref] = error
        added.append((ref_op["op_name"], max(error - inherited, 0.0), var_details[out_var]["name"]))
    total = sum(a for _, a, _ in added)
    if total <= 0:
        return {}, []
    shares = {}
    for op_name, amount, _ in added:
        shares[op_name] = shares.get(op_name, 0.0) + amount / total
    shares = dict(sorted(shares.items(), key=lambda item: -item[1]))
    top_op, _, top_tensor = max(added, key=lambda item: item[1])
    layer = LAYER_OF_OP.get(top_op, top_op)
    notes = [f"largest single error increase: {top_op} ({layer}) producing `{top_tensor}`"]
    return {k: round(v, 4) for k, v in shares.items()}, notes
