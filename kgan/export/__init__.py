"""Exports: SavedModel in TF Serving's layout, LiteRT (TFLite) models, their runner and checks.

A model says what it exports with `inference_functions()` (fixed input signatures); these
functions become named signatures that return dicts (`images`, `latents`, `log_prob`, ...).

Example:
    >>> import kgan.export
    >>> kgan.export.saved_model("runs/cgan_mnist", "exports/cgan_mnist/saved_model")
    >>> kgan.export.tflite("runs/cgan_mnist", "exports/cgan_mnist/model_int8.tflite", "int8")
    >>> runner = kgan.export.TFLiteModel("exports/cgan_mnist/model_int8.tflite")
    >>> images = runner.generate(16, labels=3, seed=0)
"""

from kgan.export.parity import ParityReport, check_parity
from kgan.export.runner import TFLiteModel
from kgan.export.signatures import export_functions, load_model
from kgan.export.writers import QUANTIZATIONS, ExportPath, saved_model, tflite

__all__ = [
    "QUANTIZATIONS",
    "ExportPath",
    "ParityReport",
    "TFLiteModel",
    "check_parity",
    "export_functions",
    "load_model",
    "saved_model",
    "tflite",
]
