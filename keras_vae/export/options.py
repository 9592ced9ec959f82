"""What an export writes and how hard it checks: `ExportOptions`, one frozen object.

`export_decoder` and `export_encoder` take the same keyword arguments; they build one
`ExportOptions` from them (or take one as `options=`), check it once, and pass it down the
pipeline instead of a dozen loose arguments.
"""

import dataclasses

from keras_vae import validation

FORMATS = ("saved_model", "float32", "float16", "dynamic_range", "int8")
TFLITE_FORMATS = FORMATS[1:]
DEFAULT_PSNR_THRESHOLDS = {"int8": 30.0, "float16": 40.0}


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """The settings of one export, shared by `export_decoder` and `export_encoder`.

    Args:
        formats: tuple of str from `FORMATS`. `"int8"` is full-integer quantization (int8
            weights and activations, float input and output); `"dynamic_range"` int8
            weights with float activations; `"float16"` float16 weights. Defaults to all.
        num_verification_samples: int. Inputs each variant is checked on. Defaults to `1000`.
        num_calibration_samples: int. Prior inputs that calibrate int8. Defaults to `500`.
        psnr_thresholds: dict of format -> minimum PSNR in dB against Keras, merged over
            `DEFAULT_PSNR_THRESHOLDS`; `None` as a value switches that gate off.
            Defaults to `None` (the defaults only).
        uint8_output: bool. Decoder only: emit uint8 pixels instead of floats in [0, 1].
            Defaults to `False`.
        batch1_variant: bool. Also write `<network>_<format>_batch1.tflite` files with a fixed
            batch of 1, for runtimes without dynamic shapes (Arm NN, GPU and NNAPI delegates).
            Defaults to `True`.
        micro: bool or None. Run every file that TensorFlow Lite for Microcontrollers can run
            in its Python interpreter (`pip install keras-vae[micro]`). `None` runs it when
            the package is importable and reports it skipped otherwise; `True` requires it.
            Defaults to `None`.
        c_array: bool. Decoder only: also write `decoder_int8_data.cc`/`.h` for firmware.
            Needs `"int8"` in `formats`. Defaults to `False`.
        overwrite: bool. Replace earlier export files in a non-empty directory. Defaults to
            `False`.
        seed: int. Seed of the calibration and verification inputs. Defaults to `0`.
        latency_repeats: int. Timed runs per latency median. Defaults to `50`.
        verbose: int. 0 for silence, 1 for one line per named stage ("converting int8",
            "verifying int8 against Keras", "TFLM check of int8"), 2 for those and the
            converter's and runtime's own console output. Defaults to `1`.

    Example:
    <!-- skip: c_array=True needs tflite-micro and a full export -->
    ```python
    options = ExportOptions(formats=("saved_model", "int8"), c_array=True)
    keras_vae.export.export_decoder(vae, "export", options=options)
    ```
    """

    formats: tuple = FORMATS
    num_verification_samples: int = 1000
    num_calibration_samples: int = 500
    psnr_thresholds: dict | None = None
    uint8_output: bool = False
    batch1_variant: bool = True
    micro: bool | None = None
    c_array: bool = False
    overwrite: bool = False
    seed: int = 0
    latency_repeats: int = 50
    verbose: int = 1

    def checked(self, method: str) -> "ExportOptions":
        """A copy with `formats` as a tuple and the thresholds merged; errors name `method`."""
        validation.check_positive_int(
            self.num_verification_samples, "num_verification_samples", method
        )
        validation.check_positive_int(
            self.num_calibration_samples, "num_calibration_samples", method
        )
        validation.check_positive_int(self.latency_repeats, "latency_repeats", method)
        if self.verbose not in (0, 1, 2) or isinstance(self.verbose, bool):
            raise ValueError(f"{method} expects `verbose` as 0, 1 or 2; got {self.verbose!r}.")
        formats = _check_formats(self.formats, method)
        if self.micro not in (None, True, False):
            raise TypeError(f"{method} expects `micro` as None, True or False; got {self.micro!r}.")
        if self.c_array and "int8" not in formats:
            raise ValueError(
                f"{method} writes the C array (`c_array=True`) from the int8 file only; got"
                f" `formats` {formats} without 'int8'. Add 'int8' or drop c_array."
            )
        return dataclasses.replace(
            self,
            formats=formats,
            psnr_thresholds=_check_thresholds(self.psnr_thresholds, method),
            seed=int(self.seed),
        )

    @property
    def tflite_formats(self) -> tuple:
        return tuple(f for f in self.formats if f != "saved_model")


def options_from(options, overrides: dict, method: str) -> ExportOptions:
    """`options` (or the defaults) with the keyword arguments of a call replacing fields."""
    if options is not None and not isinstance(options, ExportOptions):
        raise TypeError(f"{method} expects `options` as an ExportOptions; got {options!r}.")
    fields = {field.name for field in dataclasses.fields(ExportOptions)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(
            f"{method} got unexpected keyword arguments {unknown}; the options are"
            f" {sorted(fields)}."
        )
    return dataclasses.replace(options or ExportOptions(), **overrides).checked(method)


def _check_formats(formats, method) -> tuple:
    if isinstance(formats, str):
        formats = (formats,)
    if not isinstance(formats, list | tuple) or not formats:
        raise TypeError(f"{method} expects `formats` as a non-empty tuple of str; got {formats!r}.")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"{method} expects `formats` from {FORMATS}; got unknown {unknown}.")
    return tuple(dict.fromkeys(formats))


def _check_thresholds(thresholds, method) -> dict:
    merged = dict(DEFAULT_PSNR_THRESHOLDS)
    if thresholds is None:
        return merged
    if not isinstance(thresholds, dict):
        raise TypeError(
            f"{method} expects `psnr_thresholds` as a dict of format -> dB; got"
            f" {type(thresholds).__name__}."
        )
    for name, value in thresholds.items():
        if name not in TFLITE_FORMATS:
            raise ValueError(
                f"{method} expects `psnr_thresholds` keys from {TFLITE_FORMATS}; got {name!r}."
            )
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TypeError(
                f"{method} expects `psnr_thresholds[{name!r}]` as a number of dB or None;"
                f" got {value!r}."
            )
        merged[name] = None if value is None else float(value)
    return merged
