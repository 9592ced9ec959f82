"""What the export tests share: the op list of a .tflite file and the reference generator's path."""

import pathlib

from ai_edge_litert.interpreter import Interpreter, OpResolverType

RUN_TFLITE = pathlib.Path(__file__).resolve().parents[1] / "export" / "run_tflite.py"


def ops_of(path):
    """The interpreter of a .tflite file and its op names, in execution order.

    Without the default XNNPACK delegate, which would fuse the ops into one DELEGATE node.
    """
    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    return interpreter, [op["op_name"] for op in interpreter._get_ops_details()]
