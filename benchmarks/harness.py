"""What every benchmark shares: timing in interleaved rounds, the table it prints, and the
results file that the documentation's benchmark pages are rendered from.

- `interleaved_rounds(timers, rounds)` runs each timer once to warm up (tracing, caches),
  then `rounds` rounds, the order reversed every other round, so a busy shared machine slows
  every variant alike; `median_over_rounds` and `median_ratio` summarise them (a ratio is
  taken within each round, then the median over rounds). `seconds(call)` times one call.
- `markdown_table(rows)` is the Markdown table of a list of dicts, with the cells formatted
  as the documentation's pages format them; `print_table(title, rows)` prints it.
- `write_results(name, rows)` writes `benchmarks/results/<name>.json` with the rows and what
  a reader needs to weigh them: the command that produced them, the package version, the CPU
  and its vector extensions, the date. A table in the docs is never typed by hand: it is
  rendered from this file. `KERAS_VAE_BENCHMARK_RESULTS=folder` writes elsewhere (a smoke
  run whose numbers mean nothing).
"""

import datetime
import json
import os
import pathlib
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
FORMAT = "keras_vae.benchmark_results"

# The vector extensions that move CPU timings most (machines here differ by up to 5x).
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "fma", "neon")


def cpu_description() -> dict:
    """The CPU's model name, core count and vector extensions, read from /proc/cpuinfo."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name":
            model = value.strip()
        elif key in ("flags", "Features"):
            flags.update(value.split())
    return {
        "model": model,
        "cores": os.cpu_count(),
        "vector_extensions": [flag for flag in VECTOR_FLAGS if flag in flags],
    }


def package_version() -> str:
    try:
        from importlib import metadata

        return metadata.version("keras-vae")
    except Exception:
        return "unknown"


def machine() -> dict:
    """`cpu_description()` with the software and the load a timing depends on: TensorFlow,
    Keras and its thread pools, the GPUs TensorFlow sees, torch's version (not imported: it
    reads `OMP_WAIT_POLICY` once, when it loads) and the load average."""
    import importlib.metadata

    import keras
    import tensorflow as tf

    try:
        torch = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch = None
    return {
        **cpu_description(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "torch": torch,
        "load_average": list(os.getloadavg()),
    }


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux; 0 elsewhere)."""
    try:
        resident = int(pathlib.Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


# Timing -------------------------------------------------------------------------------------


def seconds(call: Callable) -> float:
    """Wall-clock seconds of one `call()`."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved_rounds(
    timers: dict, rounds: int, *, warm_up: bool = True, progress: bool = True
) -> list:
    """Runs `timers` in interleaved rounds; returns one dict per round, name -> measure.

    Each timer is a function of no arguments returning its measure (seconds, or a rate).
    With `warm_up` every timer runs once first, unrecorded (tracing, caches). Odd rounds run
    the timers in reverse order, so neither end of a round is always the slower one.

    Args:
        timers: dict of str -> callable. The variants, by name.
        rounds: int >= 1. How many rounds to record.
        warm_up: bool. Run every timer once before the first round. Defaults to `True`.
        progress: bool. Show a progress bar over the rounds. Defaults to `True`.
    """
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
        raise ValueError(f"interleaved_rounds() expects `rounds` as an int >= 1; got {rounds!r}.")
    if warm_up:
        for timer in timers.values():
            timer()
    progbar = None
    if progress:
        import keras

        progbar = keras.utils.Progbar(rounds, unit_name="round")
    per_round = []
    for index in range(rounds):
        names = list(timers) if index % 2 == 0 else list(timers)[::-1]
        measured = {name: timers[name]() for name in names}
        per_round.append({name: measured[name] for name in timers})
        if progbar is not None:
            progbar.add(1)
    return per_round


def median_over_rounds(per_round: list) -> dict:
    """name -> the median of its measures over the rounds."""
    return {name: statistics.median(r[name] for r in per_round) for name in per_round[0]}


def median_ratio(per_round: list, numerator: str, denominator: str) -> float:
    """The median over rounds of `numerator / denominator`, each ratio within one round."""
    return statistics.median(r[numerator] / r[denominator] for r in per_round)


# Tables -------------------------------------------------------------------------------------


def format_value(value) -> str:
    """A table cell, printed and on the documentation's pages (`docs/hooks/benchmarks.py`
    imports it): integers with thousands separators, floats to about three figures."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def markdown_table(rows: list, columns: list | None = None) -> str:
    """The Markdown table of `rows` (dicts), with `columns` (default: every key, in order)."""
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValueError(
            f"markdown_table() expects `rows` as a non-empty list of dicts; got {rows!r}."
        )
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(format_value(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def print_table(title: str, rows: list, columns: list | None = None) -> None:
    """Prints `title` and the Markdown table of `rows`."""
    print(f"\n{title}\n\n{markdown_table(rows, columns)}", flush=True)


# Results ------------------------------------------------------------------------------------


def results_folder() -> pathlib.Path:
    """`benchmarks/results/`, or the folder `KERAS_VAE_BENCHMARK_RESULTS` names."""
    return pathlib.Path(os.environ.get("KERAS_VAE_BENCHMARK_RESULTS") or RESULTS)


def read_results(name: str) -> dict | None:
    """The stored results document `<name>.json` (in `results_folder()`), or None without one.

    Args:
        name: str. The benchmark's name, the file's stem.
    """
    path = results_folder() / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def write_results(name: str, rows: list, *, notes: str = "", extra: dict | None = None, path=None):
    """Writes `benchmarks/results/<name>.json` and returns its path.

    Args:
        name: str. The benchmark's name; also the file's stem.
        rows: list of dict. One dict per table row, the same keys in every row.
        notes: str. What the numbers should be read against (the floor, the reference).
        extra: dict or None. Any further fields to store beside the rows.
        path: str, path or None. Write here instead (a benchmark's `--output`). Defaults to
            `results_folder() / f"{name}.json"`.
    """
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValueError(
            f"write_results() expects `rows` as a non-empty list of dicts; got {rows!r}."
        )
    path = pathlib.Path(path) if path is not None else results_folder() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "benchmark": name,
        "command": "python " + " ".join(shlex.quote(part) for part in [sys.argv[0], *sys.argv[1:]]),
        "version": package_version(),
        "cpu": cpu_description(),
        "date": datetime.date.today().isoformat(),
        "notes": notes,
        "rows": rows,
        **(extra or {}),
    }
    document = json.loads(json.dumps(document, default=str))
    temporary = path.with_suffix(".json.partial")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temporary, path)
    return path
