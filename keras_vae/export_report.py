"""What an export measured: `ExportReport` and its JSON, Markdown and sample-grid renderings.

Kept apart from `keras_vae.export` so the report can be read back and rendered without
TensorFlow's converter (e.g. `ExportReport.from_json` in a notebook next to the files).
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
    (see `keras_vae.export`), largest first.
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


@dataclasses.dataclass
class ExportReport:
    """The result of `export_decoder` / `export_encoder`, written as report.json and report.md.

    `variants` maps each TFLite variant name (`"float32"`, `"int8"`, `"int8_batch1"`, ...) to
    its `VariantReport`; `saved_model` is the SavedModel folder or `None`; `grid` the PNG of
    sample grids side by side (decoder only). `passed` is False when a variant fell below its
    PSNR threshold; the export then raised `FidelityError` after writing this report.
    `input_shapes` maps every signature input to its shape, in order (`{"z": [None, 2]}`,
    or `{"z": ..., "labels": [None, num_classes]}` for a `ConditionalVAE` decoder);
    `input_shape` is that of the first.
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
    """The summary table: one row per variant (also used in the README)."""
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


def tile_grid(images: np.ndarray, columns: int) -> np.ndarray:
    """Tiles `(n, h, w, c)` images into one `(rows * h, columns * w, c)` array, 1-pixel gaps."""
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    grid = np.ones((rows * (height + 1) - 1, columns * (width + 1) - 1, channels), images.dtype)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + 1), column * (width + 1)
        grid[top : top + height, left : left + width] = image
    return grid


def save_sample_grids(path, grids: dict, columns: int = 8) -> None:
    """Writes one PNG with a grid of images per variant, side by side, titled by name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Taller panels for more rows (e.g. one row per class of a conditional decoder).
    rows = -(-len(next(iter(grids.values()))) // columns)
    height = 0.3 + 2.6 * rows / columns
    figure, axes = plt.subplots(1, len(grids), figsize=(2.6 * len(grids), height), squeeze=False)
    for axis, (name, images) in zip(axes[0], grids.items()):
        grid = tile_grid(np.clip(images, 0.0, 1.0), columns)
        if grid.shape[-1] == 1:
            axis.imshow(grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
        else:
            axis.imshow(grid)
        axis.set_title(name, fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
