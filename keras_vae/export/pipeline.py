"""The export pipeline: convert every variant into a staging folder, verify, report, publish.

`run_export` writes into a staging folder inside the export directory and moves the files
into place only when all are written, so a failed export leaves what was there untouched.
The fidelity gate is checked last: the files and the report are published, then
`FidelityError` is raised for a variant below its PSNR threshold. Each step is a named stage
("converting int8", "verifying int8 against Keras", "TFLM check"; `export.console`), and
the converter's and runtime's own console lines are held back unless `verbose=2`.
"""

import dataclasses
import importlib.metadata
import pathlib
import shutil
from contextlib import nullcontext

import numpy as np

from keras_vae.export import attribution, c_array, conversion, figure, litert, micro, staging
from keras_vae.export import inputs as export_inputs
from keras_vae.export.console import Stages
from keras_vae.export.report import ExportReport, VariantReport, psnr

SAVED_MODEL_DIR = "saved_model"
_ATTRIBUTION_SAMPLES = 32


class FidelityError(ValueError):
    """Raised when a variant's PSNR against the Keras network is below its threshold.

    The files and the report are written before it is raised; `report` holds the
    `ExportReport` (see `report.failures()` and each variant's `error_by_op_type`).

    Args:
        message: str. The error message.
        report: ExportReport. The report written before raising.
    """

    def __init__(self, message: str, report: ExportReport):
        super().__init__(message)
        self.report = report


@dataclasses.dataclass(frozen=True)
class _File:
    name: str
    path: pathlib.Path
    variant: str
    dynamic_batch: bool
    notes: tuple = ()


class _Converter:
    """Writes SavedModels (one per batch size and output type, cached) and converts them."""

    def __init__(self, target, work: pathlib.Path):
        self.target, self.work, self.saved_models = target, work, {}

    def saved_model(self, batch_size, as_uint8) -> pathlib.Path:
        key = (batch_size, as_uint8)
        if key not in self.saved_models:
            path = self.work / f"saved_model_{batch_size or 'any'}_{int(as_uint8)}"
            conversion.write_saved_model(self.target, path, batch_size, as_uint8)
            self.saved_models[key] = path
        return self.saved_models[key]

    def tflite(self, variant, batch_size, as_uint8, uint8_output) -> bytes:
        graph = self.saved_model(batch_size, as_uint8)
        return conversion.convert(graph, self.target, variant, uint8_output)


def run_export(target, options, directory, method, judge=None, extra=None) -> ExportReport:
    """Exports `target` with the checked `options` into `directory`; see `export_decoder`.

    `judge` (a `keras_vae.evaluation.Judge`, or None) reads the Keras draws of the figure.
    `extra(stage)`, when given, writes more files into the staging folder (the web page)
    after the verified files, so they are published, or left out on failure, with them."""
    directory, stage, created = staging.prepare_directory(directory, options.overwrite, method)
    try:
        report = _export_into(target, options, directory, stage, judge)
        if extra is not None:
            extra(stage)
        staging.publish(stage, directory)
    finally:
        staging.clean_up(stage, directory, created)
    if not report.passed:
        lines = [
            f"{method}: {v.name} has a PSNR of {v.psnr_db:.1f} dB against the Keras {target.name}"
            f" (threshold {v.psnr_threshold_db:g} dB); error added by op type:"
            f" {v.error_by_op_type or 'unknown'}. {' '.join(v.notes)}"
            for v in report.failures()
        ]
        raise FidelityError(
            "\n".join(lines)
            + f"\nThe files and report are in {directory}. Lower `psnr_thresholds` to accept"
            " them, or see docs/guides/export.md (e.g. Decoder(upsampling='resize')).",
            report,
        )
    return report


def _variant_names(options) -> list:
    names = [(f, f, False) for f in options.tflite_formats]
    if options.batch1_variant:
        names += [(f"{f}_batch1", f, True) for f in options.tflite_formats]
    return names


def _convert(converter, variant, batch_size, as_uint8, uint8_output) -> tuple:
    """`(content, note)`: the converted file, and why its batch is fixed where it had to be."""
    try:
        return converter.tflite(variant, batch_size, as_uint8, uint8_output), None
    except RuntimeError as error:
        if batch_size is not None:
            raise
        # Some graphs (e.g. UpSampling2D of a dynamic batch) lose static shapes that the
        # builtin kernels need; a fixed batch of 1 restores them.
        note = f"dynamic batch not convertible with builtin ops ({error}); batch 1"
        return converter.tflite(variant, 1, as_uint8, uint8_output), note


def _write_files(target, options, stage, converter, stages) -> list:
    """Converts every variant into `stage`; returns a `_File` per written file."""
    dynamic_note = None
    files = []
    for name, variant, fixed in _variant_names(options):
        batch_size = 1 if fixed or dynamic_note else None
        # int8 is quantized from the float graph and emits its quantized output as uint8.
        as_uint8 = options.uint8_output and variant != "int8"
        with stages.run(f"converting {name}"):
            content, note = _convert(converter, variant, batch_size, as_uint8, options.uint8_output)
        if note is not None:
            dynamic_note, batch_size = note, 1
        path = stage / f"{target.name}_{name}.tflite"
        path.write_bytes(content)
        notes = (dynamic_note,) if dynamic_note and not fixed else ()
        files.append(_File(name, path, variant, batch_size is None, notes))
    return files


def _float_reference(files, converter, work, dynamic_batch, uint8_output) -> pathlib.Path:
    """A float32 file (float output) with the same batch handling, for the attribution."""
    for file in files:
        if file.variant == "float32" and file.dynamic_batch == dynamic_batch and not uint8_output:
            return file.path
    path = work / f"reference_{int(dynamic_batch)}.tflite"
    if not path.exists():
        path.write_bytes(converter.tflite("float32", None if dynamic_batch else 1, False, False))
    return path


def _fidelity(file, signature, expected, peak) -> tuple:
    output = litert.run(file.path, signature, signature.verification, file.dynamic_batch)
    error = np.abs(output - expected)
    return output, float(error.max()), float(error.mean()), psnr(expected, output, peak)


def _verify(file, target, options, expected, peak, reference_path) -> tuple:
    """Runs one file with LiteRT and measures it; returns (report, outputs by signature)."""
    signature = target.primary
    output, max_error, mean_error, value = _fidelity(file, signature, expected[0], peak)
    threshold = options.psnr_thresholds.get(file.variant)
    notes, shares = list(file.notes), {}
    if reference_path is not None:
        subset = export_inputs.rows(
            signature.verification, 0, _ATTRIBUTION_SAMPLES if file.dynamic_batch else 1
        )
        shares, more = attribution.error_by_op_type(
            reference_path, file.path, signature.name, subset
        )
        notes += more
    extra, results = {}, {signature.name: output}
    for other, reference in zip(target.signatures[1:], expected[1:]):
        other_output, other_max, _, other_psnr = _fidelity(file, other, reference, peak)
        extra[other.name] = {"psnr_db": other_psnr, "max_abs_error": other_max}
        results[other.name] = other_output
    inputs, outputs = litert.signature_tensors(file.path, signature.name)
    verification = signature.verification
    report = VariantReport(
        name=file.name,
        path=file.path.name,
        size_bytes=file.path.stat().st_size,
        dynamic_batch=file.dynamic_batch,
        ops=litert.op_names(file.path),
        inputs=inputs,
        outputs=outputs,
        max_abs_error=max_error,
        mean_abs_error=mean_error,
        psnr_db=value,
        psnr_peak=peak,
        psnr_threshold_db=threshold,
        passed=threshold is None or value is None or value >= threshold,
        latency_ms_batch1=litert.latency_ms(
            file.path, signature, verification, 1, options.latency_repeats
        ),
        latency_ms_batch32=(
            litert.latency_ms(
                file.path, signature, verification, 32, max(options.latency_repeats // 4, 1)
            )
            if file.dynamic_batch
            else None
        ),
        error_by_op_type=shares,
        notes=notes,
        quantization=litert.internal_quantization(file.path, signature.name),
        signatures=extra,
    )
    return report, results


def _export_into(target, options, directory, stage, judge) -> ExportReport:
    signatures = target.signatures
    expected = [s.reference(s.verification) for s in signatures]
    peak = target.peak
    if peak is None:
        peak = float(expected[0].max() - expected[0].min()) or 1.0
    micro_status, micro_runner = micro.status(options.micro)
    files_count = len(_variant_names(options))
    # tflite-micro runs files of one signature only (see `_micro`); others get no stage.
    micro_runs = micro_runner is not None and len(target.signatures) == 1
    checks = 3 if micro_runs else 2
    writes_saved_model = "saved_model" in options.formats
    stages = Stages(checks * files_count + 1 + writes_saved_model, options.verbose)
    work = stage / ".work"
    work.mkdir()
    converter = _Converter(target, work)
    if writes_saved_model:
        with stages.run("writing the SavedModel"):
            conversion.write_saved_model(
                target, stage / SAVED_MODEL_DIR, None, options.uint8_output
            )
    files = _write_files(target, options, stage, converter, stages)

    reports, outputs = {}, {}
    for file in files:
        quantized = file.variant != "float32" or options.uint8_output
        with stages.run(f"verifying {file.name} against Keras"):
            reference_path = (
                _float_reference(files, converter, work, file.dynamic_batch, options.uint8_output)
                if quantized
                else None
            )
            reports[file.name], outputs[file.name] = _verify(
                file, target, options, expected, peak, reference_path
            )
        if micro_runner is not None:
            primary = outputs[file.name][target.primary.name]
            check = stages.run(f"TFLM check of {file.name}") if micro_runs else nullcontext()
            with check:
                reports[file.name].micro = _micro(
                    micro_runner, file, target, expected, primary, peak
                )
    shutil.rmtree(work)

    with stages.run("writing the report and sample_grids.png"):
        written_c_array = None
        if options.c_array:
            written_c_array = c_array.write(stage, target.name, reports)
        grid_path = _write_grid(target, stage, expected, outputs, reports, judge)
        report = _assemble(target, options, directory, reports, expected[0], grid_path)
        report.micro, report.c_array = micro_status, written_c_array
        report.write(stage)
    return report


def _micro(runner, file, target, expected, output, peak) -> dict:
    if len(target.signatures) > 1:
        # tflite-micro's Python interpreter crashes the process (a segmentation fault) on a
        # file with several subgraphs, so such files are not handed to it.
        names = ", ".join(s.name for s in target.signatures)
        return {
            "accepted": None,
            "reason": f"not run: the file holds several signatures ({names}); TFLM runs one"
            " subgraph. Export without `sampler` for a board.",
            "flash_bytes": file.path.stat().st_size,
            "ops": litert.op_names(file.path),
        }
    return runner(file.path, target.primary, expected[0], output, peak)


def _write_grid(target, stage, expected, outputs, reports, judge):
    """`sample_grids.png`: the draws of `target.grid_signature` (`generate` where the files
    have it) through Keras and every file, titled by where they come from; the judge's
    recognisable share of the Keras draws (all verification draws) when a judge is given."""
    signature = target.grid_signature
    if signature is None or not outputs:
        return None
    keras_draws = expected[target.signatures.index(signature)]
    rows, columns = signature.grid
    grids = {"keras": keras_draws[rows]}
    grids |= {name: output[signature.name][rows] for name, output in outputs.items()}
    captions = {
        name: f"{_psnr_text(_signature_psnr(v, signature))}, {v.size_bytes / 1024:.0f} KiB"
        for name, v in reports.items()
    }
    if judge is not None:
        share = figure.recognisable_share(judge, keras_draws)
        captions["keras"] = f"judge: {share:.0%} of {len(keras_draws)} recognisable"
    title = f"{signature.draws}: the Keras {target.name} and every exported file"
    figure.save_sample_grids(stage / figure.GRID_PNG, grids, captions, columns, title)
    return figure.GRID_PNG


def _signature_psnr(report, signature):
    if signature.name in report.signatures:
        return report.signatures[signature.name]["psnr_db"]
    return report.psnr_db


def _psnr_text(value) -> str:
    return "PSNR inf" if value is None else f"PSNR {value:.1f} dB"


def _assemble(target, options, directory, reports, expected, grid_path) -> ExportReport:
    for report in reports.values():
        report.path = str(directory / report.path)
    signature = target.primary
    shapes = {name: [None, *shape] for name, shape in signature.inputs.items()}
    return ExportReport(
        network=target.name,
        directory=str(directory),
        signature=signature.name,
        input_shape=next(iter(shapes.values())),
        output_shape=[None, *expected.shape[1:]],
        num_verification_samples=export_inputs.count(signature.verification),
        num_calibration_samples=export_inputs.count(signature.calibration),
        saved_model=str(directory / SAVED_MODEL_DIR) if "saved_model" in options.formats else None,
        grid=None if grid_path is None else str(directory / grid_path),
        variants=reports,
        versions={
            name: importlib.metadata.version(name)
            for name in ("tensorflow", "keras", "ai-edge-litert")
        },
        passed=all(v.passed for v in reports.values()),
        input_shapes=shapes,
    )
