"""The operators of a converted LiteRT model, for the export tests."""

from ai_edge_litert.interpreter import Interpreter


def op_names(path):
    """The names of the operators in the `.tflite` file at `path` (a set)."""
    return {op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()}
