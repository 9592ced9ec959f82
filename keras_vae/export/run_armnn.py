"""Runs an exported .tflite file with Arm NN (CpuRef backend), one example per call.

    /usr/bin/python3 keras_vae/export/run_armnn.py decoder_int8_batch1.tflite in.npy out.npy

For the system Python with Debian's `python3-pyarmnn` (`apt-get install -y python3-pyarmnn`);
imports only numpy and pyarmnn, nothing of `keras_vae`, so it runs as a file in that Python
(`benchmarks/engines.py` and the export tests call it so). `in.npy` holds the first input's
rows `(n, ...)`; the outputs of the first output tensor are saved, stacked, to `out.npy`.
Prints one JSON line: `{"ok": true, "armnn": version}` or `{"ok": false, "error": "..."}`
(exit status 1).
"""

import json
import sys

import numpy as np


def main(argv) -> int:
    path, inputs_path, outputs_path = argv
    import pyarmnn as ann

    try:
        parser = ann.ITfLiteParser()
        network = parser.CreateNetworkFromBinaryFile(path)
        runtime = ann.IRuntime(ann.CreationOptions())
        optimized, _ = ann.Optimize(
            network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions()
        )
        net_id, _ = runtime.LoadNetwork(optimized)
        input_info = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
        output_name = parser.GetSubgraphOutputTensorNames(0)[0]
        output_info = parser.GetNetworkOutputBindingInfo(0, output_name)
        outputs = []
        for row in np.load(inputs_path):
            tensors = ann.make_input_tensors([input_info], [row[None].astype(np.float32)])
            out = ann.make_output_tensors([output_info])
            runtime.EnqueueWorkload(net_id, tensors, out)
            outputs.append(ann.workload_tensors_to_ndarray(out)[0])
    except Exception as error:  # Arm NN raises RuntimeError with the parser's reason
        print(json.dumps({"ok": False, "error": " ".join(str(error).split())[:300]}))
        return 1
    np.save(outputs_path, np.stack(outputs))
    print(json.dumps({"ok": True, "armnn": ann.ARMNN_VERSION}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
