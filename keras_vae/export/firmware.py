"""Firmware: the int8 decoder built against TensorFlow Lite for Microcontrollers for a
Cortex-M4, run on QEMU's `mps2-an386` board, drawing images from a latent mixture.

`build` writes the decoder's C array (`c_array`), a C table of the mixture (`mixture_table`:
means, packed Cholesky factors, weights, names, and the hash of the model array it belongs
to), compiles `firmware_main.cc` with them and links TFLM's static library, built once per
kernel set into a cache folder with the Makefile of the TFLM folder (`--tflm-dir`). `run`
starts the ELF under `qemu-system-arm` with semihosting (`POOL SEED N` as its argv) and
parses its `image` lines; `count_instructions` runs it with TFLM folder's QEMU plugin
(`tools/insn_count.c`) and returns the instructions executed per image.

`reference_draws` is the firmware's noise (xorshift32, Box-Muller with its own float32 log
and cosine, z = mean + L noise) in numpy float32, step for step, so the board's latent
vectors can be checked bit for bit off the board. The TFLM folder is one laid out like the
pinned tree this project tests with (docs/guides/firmware.md): `Makefile` with `lib`,
`flags` and `plugin` targets, `tflite-micro/`, `example/startup_mps2_an386.c`,
`example/mps2_an386.ld` and `tools/insn_count.c`.
"""

import os
import pathlib
import re
import shlex
import shutil
import subprocess

import numpy as np

from keras_vae.latent.mixture import as_mixture

KERNELS = ("ref", "cmsis_nn")
BOARD = "mps2-an386"
# The clock of the millisecond figure: an STM32F4-class Cortex-M4, at one instruction per
# cycle (a lower bound: loads, multiplies and flash wait states take more).
CLOCK_HZ = 168_000_000
SOURCE = pathlib.Path(__file__).with_name("firmware_main.cc")
TOOLCHAIN_INSTALL = (
    "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
    " libstdc++-arm-none-eabi-newlib qemu-system-arm make gcc"
)
_TOOLS = {
    "arm-none-eabi-g++": "gcc-arm-none-eabi",
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi",
    "arm-none-eabi-nm": "binutils-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "make": "make",
    "gcc": "gcc",
}
_TFLM_FILES = (
    "Makefile",
    "tflite-micro/tensorflow/lite/micro/micro_interpreter.h",
    "tflite-micro/tensorflow/lite/micro/micro_mutable_op_resolver.h",
    "example/startup_mps2_an386.c",
    "example/mps2_an386.ld",
    "tools/insn_count.c",
)
_FIRMWARE_LINE = re.compile(r"^firmware ([0-9a-f]{8}) (\d+) (\d+)$")
_REGION = re.compile(r"insn_count: region #\d+ \(begin -> end\): (\d+) instructions")


class FirmwareError(RuntimeError):
    """A problem with the TFLM folder, the toolchain, the model or the board run, with its fix."""


# ---------------------------------------------------------------------------------------------
# The firmware's noise, in numpy float32.

_F = np.float32


def _xorshift(state: int) -> int:
    state ^= (state << 13) & 0xFFFFFFFF
    state ^= state >> 17
    state ^= (state << 5) & 0xFFFFFFFF
    return state


class _Random:
    def __init__(self, seed: int):
        self.state = (int(seed) ^ 0x9E3779B9) & 0xFFFFFFFF or 0x6D2B79F5

    def next(self) -> int:
        self.state = _xorshift(self.state)
        return self.state

    def uniform_open(self):
        return _F((self.next() >> 8) + 1) * _F(1.0 / 16777216.0)

    def uniform(self):
        return _F(self.next() >> 8) * _F(1.0 / 16777216.0)


def _log(u):
    bits = int(np.asarray(u, np.float32).view(np.uint32))
    exponent = ((bits >> 23) & 0xFF) - 127
    m = np.asarray((bits & 0x7FFFFF) | 0x3F800000, np.uint32).view(np.float32)[()]
    if m > _F(1.41421356):
        m = m * _F(0.5)
        exponent += 1
    s = (m - _F(1.0)) / (m + _F(1.0))
    s2 = s * s
    series = s2 * (
        _F(0.333333333)
        + s2 * (_F(0.2) + s2 * (_F(0.142857143) + s2 * (_F(0.111111111) + s2 * _F(0.0909090909))))
    )
    log_m = _F(2.0) * s + _F(2.0) * s * series
    return _F(exponent) * _F(0.693147181) + log_m


_COS_COEFFICIENTS = (
    -1.14707456e-11,
    2.08767570e-09,
    -2.75573192e-07,
    2.48015873e-05,
    -1.38888889e-03,
    4.16666667e-02,
    -0.5,
    1.0,
)


def _cos_turn(v):
    x = (v - _F(0.5)) * _F(6.28318548)
    x2 = x * x
    c = _F(4.77947733e-14)
    for coefficient in _COS_COEFFICIENTS:
        c = _F(coefficient) + x2 * c
    return -c


def _normal(random: _Random):
    u = random.uniform_open()
    v = random.uniform()
    return np.sqrt(_F(-2.0) * _log(u)) * _cos_turn(v)


def reference_draws(table: dict, pool: int, seed: int, n: int):
    """The firmware's `(components, z)` for `decoder POOL SEED N`, bit for bit: `table` as
    `mixture_arrays` gives it; `pool` -1 draws a component by weight per image."""
    means, tril, weights = table["means"], table["scale_tril"], table["weights"]
    k, d = means.shape
    if not -1 <= pool < k:
        raise ValueError(f"reference_draws expects `pool` in -1..{k - 1}; got {pool}.")
    random = _Random(seed)
    components, draws = [], []
    for _ in range(n):
        component = pool
        if pool < 0:
            u, cumulative, component = random.uniform(), _F(0.0), k - 1
            for index in range(k):
                cumulative = cumulative + weights[index]
                if u < cumulative:
                    component = index
                    break
        noise = [_normal(random) for _ in range(d)]
        z = np.empty(d, np.float32)
        for i in range(d):
            value = means[component, i]
            for j in range(i + 1):
                value = value + tril[component, i, j] * noise[j]
            z[i] = value
        components.append(component)
        draws.append(z)
    return np.asarray(components), np.stack(draws)


def quantize(z: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLM's reference QUANTIZE of float32 `z` (round half away from zero, clamp to int8)."""
    scaled = np.asarray(z, np.float32) / np.float32(scale)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))
    return np.clip(rounded.astype(np.int64) + int(zero_point), -128, 127).astype(np.int8)


def pixel_levels(images: np.ndarray) -> np.ndarray:
    """`round(255 * value)` as the firmware prints it (float32 `value * 255 + 0.5`, floored)."""
    values = np.asarray(images, np.float32) * np.float32(255.0) + np.float32(0.5)
    return np.clip(np.floor(values), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# The C table.


def mixture_arrays(mixture, latent_dim: int) -> dict:
    """float32 `means (k, d)`, `scale_tril (k, d, d)`, `weights (k,)` and names of a
    `GaussianMixture`, or of anything with `as_mixture()` (a sampler, `LatentPools`, a
    prior), converted once here; raises `ValueError` when its latent size is not
    `latent_dim` and `TypeError` for anything else."""
    mixture = as_mixture(mixture, latent_dim, "the firmware's mixture table", "mixture")
    return {
        "means": mixture.means,
        "scale_tril": np.tril(mixture.scale_tril),
        "weights": mixture.weights,
        "names": list(mixture.component_names),
    }


def model_hash(content: bytes) -> int:
    """FNV-1a (32 bits) of the model array, as the firmware computes it at start."""
    value = 2166136261
    for byte in content:
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def _floats(values) -> str:
    return ", ".join(f"{float(v)!r}f" if np.isfinite(v) else "0.0f" for v in values)


def mixture_table(table: dict, content: bytes, input_quantization: dict, ops: list) -> str:
    """The C header `decoder_mixture_table.h`: the mixture, the model it belongs to, the int8
    input's quantization and the op resolver lines."""
    means, tril, weights = table["means"], table["scale_tril"], table["weights"]
    k, d = means.shape
    rows = ["  {" + _floats(tril[c][np.tril_indices(d)]) + "}," for c in range(k)]
    names = ", ".join('"' + name.replace('"', "'")[:40] + '"' for name in table["names"])
    lines = [
        "// Generated by keras_vae.export.firmware; do not edit. The mixture the firmware draws",
        "// from (z = mean + L noise), for the model array whose FNV-1a hash and size follow.",
        "#ifndef KERAS_VAE_DECODER_MIXTURE_TABLE_H_",
        "#define KERAS_VAE_DECODER_MIXTURE_TABLE_H_",
        "",
        f"constexpr unsigned long kMixtureModelHash = 0x{model_hash(content):08x}ul;",
        f"constexpr unsigned int kMixtureModelBytes = {len(content)};",
        f"constexpr int kMixtureLatentDim = {d};",
        f"constexpr int kMixtureComponents = {k};",
        f"constexpr float kMixtureInputScale = {float(input_quantization['scale'])!r}f;",
        f"constexpr int kMixtureInputZeroPoint = {int(input_quantization['zero_point'])};",
        f"constexpr float kMixtureWeights[{k}] = {{{_floats(weights)}}};",
        f"constexpr float kMixtureMeans[{k}][{d}] = {{",
        *["  {" + _floats(row) + "}," for row in means],
        "};",
        "// Lower-triangular Cholesky factors, packed by rows.",
        f"constexpr float kMixtureScaleTril[{k}][{d * (d + 1) // 2}] = {{",
        *rows,
        "};",
        f"constexpr const char* kMixtureNames[{k}] = {{{names}}};",
        "",
        f"#define KERAS_VAE_OP_COUNT {len(ops)}",
        "#define KERAS_VAE_ADD_OPS(resolver) \\",
        "  do { \\",
        *[f"    {line.replace('resolver.', '(resolver).')} \\" for line in ops],
        "  } while (0)",
        "",
        "#endif  // KERAS_VAE_DECODER_MIXTURE_TABLE_H_",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Toolchain, TFLM folder, library.


def check_toolchain() -> None:
    """Raises `FirmwareError` naming every missing tool and the packages that bring them."""
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        packages = sorted({_TOOLS[tool] for tool in missing})
        raise FirmwareError(
            f"the firmware build needs {', '.join(missing)} on PATH (Debian/Ubuntu packages"
            f" {', '.join(packages)}); install them with: {TOOLCHAIN_INSTALL}"
        )


def resolve_tflm_dir(tflm_dir) -> pathlib.Path:
    """`tflm_dir`, else `$TFLM_DIR`, checked to hold what the build uses."""
    if tflm_dir is None:
        tflm_dir = os.environ.get("TFLM_DIR")
    if not tflm_dir:
        raise FirmwareError(
            "no TFLM folder: pass --tflm-dir DIR or set TFLM_DIR to a TensorFlow Lite for"
            " Microcontrollers tree laid out as docs/guides/firmware.md describes"
        )
    path = pathlib.Path(tflm_dir).expanduser().resolve()
    if not path.is_dir():
        raise FirmwareError(f"--tflm-dir {tflm_dir}: no such folder")
    missing = [name for name in _TFLM_FILES if not (path / name).is_file()]
    if missing:
        raise FirmwareError(
            f"--tflm-dir {path} is not a TFLM tree this build can use: it lacks"
            f" {', '.join(missing)} (expected the layout of docs/guides/firmware.md)"
        )
    return path


def _command(arguments, what: str, cwd=None, timeout=1800) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(
            [str(a) for a in arguments], cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise FirmwareError(f"{what} ran past {timeout} s") from error
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        raise FirmwareError(f"{what} failed (exit status {done.returncode}): {tail[-1500:]}")
    return done


def library(tflm_dir: pathlib.Path, kernels: str, cache: pathlib.Path, jobs: int = 2):
    """TFLM's static library for `kernels`, built into `cache/<kernels>` when missing (minutes)."""
    if kernels not in KERNELS:
        raise FirmwareError(f"--kernels expects one of {KERNELS}; got {kernels!r}")
    build = pathlib.Path(cache).resolve() / kernels
    path = build / kernels / "libtensorflow-microlite.a"
    if not path.is_file():
        build.mkdir(parents=True, exist_ok=True)
        _command(
            ["make", "-C", tflm_dir, f"-j{jobs}", "lib", f"KERNELS={kernels}", f"BUILD={build}"],
            f"building TFLM's library ({kernels}) in {build}",
        )
    return path


def _flags(tflm_dir: pathlib.Path, kernels: str, build: pathlib.Path) -> dict:
    done = _command(
        ["make", "-s", "-C", tflm_dir, "flags", f"KERNELS={kernels}", f"BUILD={build}"],
        "reading the TFLM Makefile's flags",
    )
    values = {}
    for line in done.stdout.splitlines():
        name, _, text = line.partition(" = ")
        words = []
        for word in shlex.split(text):
            if word in ("-MMD", "-MP"):
                continue
            if word.startswith("-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="):
                word = '-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="ARMCM4.h"'
            if word.startswith("-I") and not os.path.isabs(word[2:]):
                word = f"-I{tflm_dir / word[2:]}"
            words.append(word)
        values[name.strip()] = words
    return values


def missing_ops(tflm_dir: pathlib.Path, resolver_lines: list) -> list:
    """The resolver lines whose `Add...` method this TFLM's `MicroMutableOpResolver` lacks."""
    header = tflm_dir / "tflite-micro/tensorflow/lite/micro/micro_mutable_op_resolver.h"
    text = header.read_text()
    return [
        line
        for line in resolver_lines
        if re.search(r"TfLiteStatus " + re.escape(line.split(".")[1].split("(")[0]) + r"\(", text)
        is None
    ]


def plugin(tflm_dir: pathlib.Path, cache: pathlib.Path) -> pathlib.Path:
    """The instruction-counting QEMU plugin, compiled on the host into `cache` when missing."""
    build = pathlib.Path(cache).resolve()
    path = build / "insn_count.so"
    if not path.is_file():
        build.mkdir(parents=True, exist_ok=True)
        _command(["make", "-C", tflm_dir, "plugin", f"BUILD={build}"], "building the QEMU plugin")
    return path


# ---------------------------------------------------------------------------------------------
# Build, run, count.


def build(
    content: bytes,
    c_array_dir: pathlib.Path,
    table: dict,
    input_quantization: dict,
    resolver_lines: list,
    tflm_dir,
    out,
    kernels: str = "cmsis_nn",
    cache=None,
    arena_bytes: int | None = None,
) -> dict:
    """Compiles the firmware into `out/decoder_<kernels>.elf`; returns its sizes.

    `c_array_dir` holds `decoder_int8_data.cc/.h` of `content` (`keras_vae.export` with
    `c_array=True`); `arena_bytes` replaces the measured arena of that header."""
    check_toolchain()
    tflm_dir = resolve_tflm_dir(tflm_dir)
    lacking = missing_ops(tflm_dir, resolver_lines)
    if lacking:
        raise FirmwareError(
            f"the model uses ops this TFLM does not have ({' '.join(lacking)} is not in"
            f" {tflm_dir}/tflite-micro/tensorflow/lite/micro/micro_mutable_op_resolver.h):"
            " export a decoder with supported layers, or use a newer TFLM"
        )
    out = pathlib.Path(out)
    source = _stage_sources(
        out / "src",
        c_array_dir,
        lambda: mixture_table(table, content, input_quantization, resolver_lines),
    )
    cache = pathlib.Path(cache or "build/tflm").resolve()
    lib = library(tflm_dir, kernels, cache)
    flags = _flags(tflm_dir, kernels, cache / kernels)
    objects = out / "obj" / kernels
    objects.mkdir(parents=True, exist_ok=True)
    _compile_objects(tflm_dir, flags, source, objects, arena_bytes)
    elf = out / f"decoder_{kernels}.elf"
    _link(tflm_dir, flags, objects, lib, elf)
    return {"elf": str(elf), **elf_size(elf)}


def _stage_sources(source: pathlib.Path, c_array_dir, table_header) -> pathlib.Path:
    """Gathers the firmware's sources in `source`: the model's C array, the mixture table
    (`table_header()`, the header's text) and `firmware_main.cc` as `main.cc`."""
    source.mkdir(parents=True, exist_ok=True)
    for name in ("decoder_int8_data.cc", "decoder_int8_data.h"):
        shutil.copyfile(pathlib.Path(c_array_dir) / name, source / name)
    (source / "decoder_mixture_table.h").write_text(table_header())
    shutil.copyfile(SOURCE, source / "main.cc")
    return source


def _compile_objects(tflm_dir, flags, source, objects, arena_bytes) -> None:
    """Compiles `main.cc`, the model's C array and the board's startup file into `objects`."""
    defines = [] if arena_bytes is None else [f"-DKERAS_VAE_ARENA_BYTES={int(arena_bytes)}"]
    compile_cxx = ["arm-none-eabi-g++", *flags["CXXFLAGS"], "-ffp-contract=off", *defines]
    compile_cxx += [*flags["INCLUDES"], f"-I{source}"]
    for name in ("main", "decoder_int8_data"):
        _command(
            [*compile_cxx, "-c", source / f"{name}.cc", "-o", objects / f"{name}.o"],
            f"compiling {name}.cc",
        )
    _command(
        [
            "arm-none-eabi-gcc",
            *flags["CFLAGS"],
            "-c",
            tflm_dir / "example/startup_mps2_an386.c",
            "-o",
            objects / "startup.o",
        ],
        "compiling the board's startup file",
    )


def _link(tflm_dir, flags, objects, lib, elf) -> None:
    """Links the objects and the TFLM library `lib` into `elf` for the board."""
    cpu = [f for f in flags["CXXFLAGS"] if f.startswith(("-mcpu", "-mthumb", "-mfloat", "-mfpu"))]
    _command(
        [
            "arm-none-eabi-g++",
            *cpu,
            "--specs=rdimon.specs",
            "-T",
            tflm_dir / "example/mps2_an386.ld",
            "-Wl,--gc-sections",
            f"-Wl,-Map={objects / 'decoder.map'}",
            objects / "main.o",
            objects / "decoder_int8_data.o",
            objects / "startup.o",
            lib,
            "-lm",
            "-o",
            elf,
        ],
        "linking the firmware",
    )


def elf_size(elf) -> dict:
    """`arm-none-eabi-size` of the ELF: text, data, bss; flash = text + data, RAM = data +
    bss (static memory: the arena, the guard and the C library; not the stack or heap)."""
    done = _command(["arm-none-eabi-size", elf], "arm-none-eabi-size")
    text, data, bss = (int(v) for v in done.stdout.splitlines()[1].split()[:3])
    return {
        "text_bytes": text,
        "data_bytes": data,
        "bss_bytes": bss,
        "flash_bytes": text + data,
        "ram_bytes": data + bss,
    }


def _qemu(elf, arguments, extra=()) -> list:
    argv = ",".join(["arg=decoder", *[f"arg={a}" for a in arguments]])
    return [
        "qemu-system-arm",
        "-M",
        BOARD,
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        f"enable=on,target=native,{argv}",
        *extra,
        "-kernel",
        str(elf),
    ]


def run_board(elf, arguments, extra=(), timeout=600) -> subprocess.CompletedProcess:
    """Runs the ELF under QEMU with `arguments` as its argv; the finished process."""
    try:
        return subprocess.run(
            _qemu(elf, arguments, extra), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise FirmwareError(f"the firmware ran past {timeout} s under QEMU") from error


def parse_output(stdout: str, image_shape) -> dict:
    """The firmware's lines: `arena_used`, `arena_bytes`, `hash`, `images` (uint8 levels),
    `z` (float32) and `q` (int8 input) when printed, `components`."""
    result = {"images": [], "z": [], "q": [], "components": []}
    for line in stdout.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "firmware" and _FIRMWARE_LINE.match(line):
            result.update(hash=int(words[1], 16), arena_used=int(words[2]))
            result["arena_bytes"] = int(words[3])
        elif words[0] == "z":
            bits = bytes.fromhex(words[5])
            result["z"].append(np.frombuffer(bits, ">u4").astype(np.uint32).view(np.float32))
            result["q"].append(np.frombuffer(bytes.fromhex(words[6]), np.int8))
            result["components"].append(int(words[4]))
        elif words[0] == "image":
            levels = np.frombuffer(bytes.fromhex(words[4]), np.uint8)
            result["images"].append(levels.reshape(image_shape))
    return result


def run(elf, pool: int, seed: int, n: int, image_shape, print_z: bool = False) -> dict:
    """Runs `decoder POOL SEED N [z]`; raises `FirmwareError` with the firmware's `error`
    line when it exits non-zero."""
    arguments = [pool, seed, n] + (["z"] if print_z else [])
    done = run_board(elf, arguments)
    if done.returncode != 0:
        errors = [line for line in done.stdout.splitlines() if line.startswith("error ")]
        reason = errors[-1] if errors else f"exit status {done.returncode}: {done.stderr[-500:]}"
        raise FirmwareError(f"the firmware stopped: {reason}")
    return parse_output(done.stdout, image_shape)


def count_instructions(elf, plugin_path, pool: int = -1, seed: int = 0, n: int = 4) -> list:
    """Instructions executed per image (draw + TFLM inference), one count per image."""
    done = _command(["arm-none-eabi-nm", elf], "arm-none-eabi-nm")
    symbols = {line.split()[-1]: line.split()[0] for line in done.stdout.splitlines()}
    begin, end = symbols["keras_vae_region_begin"], symbols["keras_vae_region_end"]
    extra = ["-d", "plugin", "-plugin", f"{plugin_path},begin=0x{begin},end=0x{end}"]
    finished = run_board(elf, [pool, seed, n], extra)
    if finished.returncode != 0:
        raise FirmwareError(f"the counted run failed: {finished.stdout[-300:]}")
    counts = [int(v) for v in _REGION.findall(finished.stderr + finished.stdout)]
    if len(counts) != n:
        raise FirmwareError(f"the QEMU plugin reported {len(counts)} regions; expected {n}")
    return counts


# ---------------------------------------------------------------------------------------------
# The whole step: export, build, measure.

FIRMWARE_FILE = "firmware.json"


# The arena Python's TFLM measured is that of its reference kernels; CMSIS-NN's kernels ask for
# scratch buffers on top, so a build at the measured size may not allocate. Without an arena
# from the user, the build grows it by half until the board allocates (at most this often).
_ARENA_GROWTH_TRIES = 4


def _build_and_start(arguments, where, arena_bytes, measured, shape) -> tuple:
    """Builds the ELF and runs it for one image; returns `(sizes, first_run)`."""
    tflm_dir, out, kernels, cache = where
    size = arena_bytes
    for _ in range(1 if arena_bytes is not None else _ARENA_GROWTH_TRIES):
        sizes = build(*arguments, tflm_dir, out, kernels=kernels, cache=cache, arena_bytes=size)
        try:
            return sizes, run(sizes["elf"], -1, 0, 1, shape)
        except FirmwareError as error:
            if arena_bytes is not None or "too small" not in str(error):
                raise
            size = int((size or measured) * 1.5)
    raise FirmwareError(
        f"the {kernels} firmware could not allocate its tensors even with a {size:,}-byte"
        " arena; pass --arena-bytes"
    )


def _export_int8(model, folder, num_verification_samples, seed):
    """The int8 decoder with its C array and the Python TFLM check (arena, op resolver)."""
    from keras_vae.export import export_decoder

    return export_decoder(
        model,
        folder,
        formats=("int8",),
        c_array=True,
        micro=True,
        overwrite=True,
        verbose=0,
        num_verification_samples=num_verification_samples,
        num_calibration_samples=max(num_verification_samples, 100),
        latency_repeats=5,
        seed=seed,
    )


def _result(model, kernels, content, table, shape, sizes, first, micro) -> dict:
    """`firmware.json` before the instruction count: the build, the arena and the model."""
    return {
        "kernels": kernels,
        "board": f"QEMU {BOARD} (Cortex-M4 with FPU, hard float)",
        "model_bytes": len(content),
        "model_hash": f"{model_hash(content):08x}",
        "arena_bytes": first["arena_bytes"],
        "arena_bytes_used": first["arena_used"],
        "python_tflm_arena_bytes": micro["arena_bytes"],
        **{k: v for k, v in sizes.items() if k != "elf"},
        "elf": pathlib.Path(sizes["elf"]).name,
        "latent_dim": int(model.latent_dim),
        "components": table["names"],
        "image_shape": list(shape),
        "instructions_per_image": None,
        "clock_hz": CLOCK_HZ,
        "ms_per_image": None,
        "clock_assumption": (
            f"{CLOCK_HZ / 1e6:g} MHz at one instruction per cycle (QEMU counts instructions,"
            " not cycles; a real Cortex-M4 needs more cycles than instructions)"
        ),
    }


def make_firmware(
    model,
    mixture,
    tflm_dir,
    out,
    kernels: str = "cmsis_nn",
    cache=None,
    arena_bytes: int | None = None,
    count: bool = True,
    num_verification_samples: int = 200,
    seed: int = 0,
) -> dict:
    """Exports `model`'s int8 decoder (with the Python TFLM check and its C array) into
    `out/export`, builds `out/decoder_<kernels>.elf` with `mixture`'s table (a
    `GaussianMixture` or anything with `as_mixture()`: a sampler, `LatentPools`), runs it
    once under QEMU and counts its instructions per image; writes and returns
    `out/firmware.json`.
    """
    import json

    from keras_vae.export.report import firmware_lines

    check_toolchain()
    tflm_dir = resolve_tflm_dir(tflm_dir)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = mixture_arrays(mixture, int(model.latent_dim))
    report = _export_int8(model, out / "export", num_verification_samples, seed)
    variant = report.variants["int8_batch1"]
    content = (out / "export" / pathlib.Path(variant.path).name).read_bytes()
    quantization = next(v for k, v in variant.quantization.items() if k.startswith("input"))
    shape = tuple(variant.outputs[0]["shape"][1:])
    arguments = (content, out / "export", table, quantization, variant.micro["resolver"])
    sizes, first = _build_and_start(
        arguments, (tflm_dir, out, kernels, cache), arena_bytes, variant.micro["arena_bytes"], shape
    )
    result = _result(model, kernels, content, table, shape, sizes, first, variant.micro)
    if count:
        counts = count_instructions(sizes["elf"], plugin(tflm_dir, cache or "build/tflm"))
        per_image = int(round(float(np.mean(counts))))
        result.update(
            instructions_per_image=per_image,
            instructions_counted=counts,
            ms_per_image=per_image / CLOCK_HZ * 1000.0,
        )
    (out / FIRMWARE_FILE).write_text(json.dumps(result, indent=2) + "\n")
    markdown = report.to_markdown().rstrip("\n")
    (out / "report.md").write_text(
        "\n".join([markdown, "", *firmware_lines(variant.micro, result), ""])
    )
    return result
