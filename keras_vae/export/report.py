"""What an export measured: `ExportReport` and its JSON and Markdown renderings.

Imports neither TensorFlow nor LiteRT, so a report can be read back and rendered anywhere
(e.g. `ExportReport.from_json` in a notebook next to the files).
"""

import dataclasses
import json
import math
import pathlib

import numpy as np

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
GRID_PNG = "sample_grids.png"


@dataclasses.dataclass
class VariantReport:
    """One exported file and how closely it follows the Keras network.

    Errors compare the variant's output with the Keras network on the same inputs; `psnr_db`
    uses `psnr_peak` as the peak value (1.0 for images in [0, 1]); `None` stands for an
    infinite PSNR (identical outputs). Latencies are medians in milliseconds per example,
    one interpreter thread; `latency_ms_batch32` is `None` for fixed batch-1 files.
    `error_by_op_type` is the share of the output error that each TFLite op type adds
    (see `keras_vae.export.attribution`), largest first. `quantization` holds the scale and
    zero point of the integer tensors just inside a float input or output (the int8 file's
    QUANTIZE and DEQUANTIZE ends). `micro` is what TensorFlow Lite for Microcontrollers made
    of the file (see `keras_vae.export.micro`), `None` when that check did not run.
    `signatures` holds the fidelity of further signatures (e.g. `generate`) by name.
    """

    name: str
    path: str
    size_bytes: int
    dynamic_batch: bool
    ops: list
    inputs: list
    outputs: list
    max_abs_error: float
    mean_abs_error: float
    psnr_db: float | None
    psnr_peak: float
    psnr_threshold_db: float | None
    passed: bool
    latency_ms_batch1: float
    latency_ms_batch32: float | None
    error_by_op_type: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)
    quantization: dict = dataclasses.field(default_factory=dict)
    micro: dict | None = None
    signatures: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ExportReport:
    """The result of `export_decoder` / `export_encoder`, written as report.json and report.md.

    `variants` maps each TFLite variant name (`"float32"`, `"int8"`, `"int8_batch1"`, ...) to
    its `VariantReport`; `saved_model` is the SavedModel folder or `None`; `grid` the PNG of
    sample grids side by side (decoder only). `passed` is False when a variant fell below its
    PSNR threshold; the export then raised `FidelityError` after writing this report.
    `input_shapes` maps every signature input to its shape, in order (`{"z": [None, 2]}`,
    or `{"z": ..., "labels": [None, num_classes]}` for a `ConditionalVAE` decoder);
    `input_shape` is that of the first. `micro` says whether the TensorFlow Lite for
    Microcontrollers check ran (`"ran with tflite-micro <version>"`) or why not; `c_array`
    is the firmware source file written with `c_array=True`, else `None`.
    """

    network: str
    directory: str
    signature: str
    input_shape: list
    output_shape: list
    num_verification_samples: int
    num_calibration_samples: int
    saved_model: str | None
    grid: str | None
    variants: dict
    versions: dict
    passed: bool = True
    input_shapes: dict = dataclasses.field(default_factory=dict)
    micro: str = "not run"
    c_array: str | None = None

    def failures(self) -> list:
        return [v for v in self.variants.values() if not v.passed]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ExportReport":
        data = json.loads(text)
        data["variants"] = {k: VariantReport(**v) for k, v in data["variants"].items()}
        return cls(**data)

    def to_markdown(self) -> str:
        lines = [
            f"# {self.network.capitalize()} export report",
            "",
            f"Signature `{self.signature}`; {self._describe_inputs()}, output"
            f" {tuple(self.output_shape)}; {self.num_verification_samples} verification"
            f" samples, {self.num_calibration_samples} calibration samples.",
            f"Fidelity gate: {'passed' if self.passed else 'FAILED'}.",
            f"TensorFlow Lite for Microcontrollers: {self.micro}.",
            "",
            markdown_table(self),
            "",
        ]
        float32 = self.variants.get("float32")
        for variant in self.variants.values():
            lines.append(f"## {variant.name}")
            lines.append("")
            lines.append(f"- file: `{pathlib.Path(variant.path).name}`")
            if float32 is not None:
                share = variant.size_bytes / float32.size_bytes
                lines.append(f"- size: {variant.size_bytes:,} bytes ({share:.1%} of float32)")
            lines.append(f"- ops: {', '.join(variant.ops)}")
            for kind, tensors in (("input", variant.inputs), ("output", variant.outputs)):
                for tensor in tensors:
                    lines.append(f"- {kind} `{tensor['name']}`: {describe_tensor(tensor)}")
            for kind, params in variant.quantization.items():
                lines.append(
                    f"- int8 {kind} (inside the float interface): scale {params['scale']:.6g},"
                    f" zero point {params['zero_point']}"
                )
            for name, fidelity in variant.signatures.items():
                lines.append(
                    f"- signature `{name}`: PSNR {_format(fidelity['psnr_db'], '.1f', 'inf')} dB,"
                    f" max abs error {fidelity['max_abs_error']:.2e}"
                )
            lines += micro_lines(variant.micro)
            if variant.error_by_op_type:
                shares = ", ".join(f"{k} {v:.0%}" for k, v in variant.error_by_op_type.items())
                lines.append(f"- error added by op type: {shares}")
            for note in variant.notes:
                lines.append(f"- note: {note}")
            lines.append("")
        return "\n".join(lines)

    def _describe_inputs(self) -> str:
        if len(self.input_shapes) <= 1:
            return f"input {tuple(self.input_shape)}"
        shapes = ", ".join(f"`{name}` {tuple(shape)}" for name, shape in self.input_shapes.items())
        return f"inputs {shapes}"

    def write(self, directory) -> None:
        directory = pathlib.Path(directory)
        (directory / REPORT_JSON).write_text(self.to_json() + "\n")
        (directory / REPORT_MD).write_text(self.to_markdown())


def _format(value, spec: str, none: str = "-") -> str:
    return none if value is None else format(value, spec)


def markdown_table(report: ExportReport) -> str:
    """The summary table: one row per variant (also used in the README).

    Args:
        report: ExportReport. The report to summarise.
    """
    float32 = report.variants.get("float32")
    rows = [
        "| variant | size (KiB) | vs float32 | PSNR (dB) | max abs err | mean abs err |"
        " batch 1 (ms/img) | batch 32 (ms/img) | gate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for v in report.variants.values():
        share = f"{v.size_bytes / float32.size_bytes:.1%}" if float32 else "-"
        gate = "-" if v.psnr_threshold_db is None else ("pass" if v.passed else "FAIL")
        rows.append(
            f"| {v.name} | {v.size_bytes / 1024:.1f} | {share} | {_format(v.psnr_db, '.1f', 'inf')}"
            f" | {v.max_abs_error:.2e} | {v.mean_abs_error:.2e} | {v.latency_ms_batch1:.3f}"
            f" | {_format(v.latency_ms_batch32, '.3f')} | {gate} |"
        )
    return "\n".join(rows)


def describe_tensor(tensor: dict) -> str:
    text = f"{tensor['dtype']} {tuple(tensor['shape'])}"
    if tensor.get("scale"):
        text += f", scale {tensor['scale']:.6g}, zero point {tensor['zero_point']}"
    return text


def psnr(reference: np.ndarray, output: np.ndarray, peak: float) -> float | None:
    """Peak signal-to-noise ratio in dB; `None` when the outputs are identical."""
    mse = float(np.mean((np.asarray(reference, np.float64) - output) ** 2))
    if mse == 0.0:
        return None
    return 10.0 * math.log10(peak**2 / mse)


def micro_lines(micro: dict | None) -> list:
    """Markdown lines for one file's TensorFlow Lite for Microcontrollers result."""
    if micro is None:
        return []
    if micro["accepted"] is None:
        return [f"- TFLM: {micro['reason']}"]
    if not micro["accepted"]:
        return [f"- TFLM: rejected ({micro['reason']})"]
    lines = [
        f"- TFLM: accepted; tensor arena {micro['arena_bytes']:,} bytes (measured), flash"
        f" {micro['flash_bytes']:,} bytes; PSNR vs Keras"
        f" {_format(micro['psnr_vs_keras_db'], '.1f', 'inf')} dB (max error"
        f" {micro['max_error_vs_keras']:.3g}), vs LiteRT"
        f" {_format(micro['psnr_vs_litert_db'], '.1f', 'inf')} dB (max error"
        f" {micro['max_error_vs_litert']:.3g})",
        f"- TFLM resolver: `tflite::MicroMutableOpResolver<{len(micro['resolver'])}> resolver;`"
        + "".join(f" `{line}`" for line in micro["resolver"]),
    ]
    return lines


def firmware_lines(micro: dict, firmware: dict) -> list:
    """The firmware's measurements (`keras_vae.export.firmware`) beside the Python TFLM check."""

    def number(value, spec=","):
        return "-" if value is None else format(value, spec)

    return [
        f"## Firmware ({firmware['kernels']} kernels, {firmware['board']})",
        "",
        "| | Python TFLM check (host) | firmware (emulated board) |",
        "|---|---:|---:|",
        f"| model bytes | {number(micro['flash_bytes'])} | {number(firmware['model_bytes'])} |",
        f"| tensor arena (bytes) | {number(micro['arena_bytes'])} smallest that runs"
        f" | {number(firmware['arena_bytes_used'])} used of {number(firmware['arena_bytes'])} |",
        f"| flash: text + data (bytes) | - | {number(firmware['flash_bytes'])} |",
        f"| RAM: data + bss (bytes) | - | {number(firmware['ram_bytes'])} |",
        f"| instructions per image | - | {number(firmware['instructions_per_image'])} |",
        f"| ms per image | - | {number(firmware['ms_per_image'], '.1f')} |",
        "",
        f"Clock: {firmware['clock_assumption']}.",
    ]
