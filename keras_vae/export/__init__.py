"""Edge export: a SavedModel and verified TFLite files of the decoder (or encoder) mean.

The exported graph is the deterministic part of the model: `decode(z)` computes the mean of
p(x | z) (the sigmoid of the logits for a Bernoulli likelihood) and `encode(images)` the
posterior mean; neither holds a random op, so every file runs with TFLite builtin ops only.
See docs/guides/export.md.

Modules, one concern each:
- `options`: `ExportOptions`, the one settings object, and the formats.
- `inputs`: calibration and verification inputs.
- `targets`: the exported signatures (`decode`, `encode`, `generate`) and their references.
- `conversion`: SavedModel through `keras.export.ExportArchive`, then the TFLite converter.
- `litert`: running files with LiteRT (outputs, tensor details, latency).
- `attribution`: which op types add a quantized file's error.
- `micro`: verification under TensorFlow Lite for Microcontrollers.
- `c_array`: the int8 model as C source for firmware.
- `staging`, `pipeline`: write into a staging folder, verify, report, publish.
- `report`, `figure`: `ExportReport` (JSON, Markdown) and the sample-grid figure.
- `loading`: the model of a `.keras` file or a run directory.
"""

from keras_vae.export.exporters import export_decoder, export_encoder
from keras_vae.export.loading import load_model_for_export
from keras_vae.export.options import (
    DEFAULT_PSNR_THRESHOLDS,
    FORMATS,
    TFLITE_FORMATS,
    ExportOptions,
)
from keras_vae.export.pipeline import FidelityError
from keras_vae.export.report import (
    REPORT_JSON,
    REPORT_MD,
    ExportReport,
    VariantReport,
    markdown_table,
)

__all__ = [
    "DEFAULT_PSNR_THRESHOLDS",
    "FORMATS",
    "TFLITE_FORMATS",
    "ExportOptions",
    "ExportReport",
    "FidelityError",
    "VariantReport",
    "export_decoder",
    "export_encoder",
    "load_model_for_export",
    "markdown_table",
    "REPORT_JSON",
    "REPORT_MD",
]
