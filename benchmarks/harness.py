"""What every benchmark shares: the results file that the documentation's benchmark pages
are rendered from.

`write_results(name, rows)` writes `benchmarks/results/<name>.json` with the rows and what a
reader needs to weigh them: the command that produced them, the package version, the CPU
and its vector extensions, the date. A table in the docs is never typed by hand: it is
rendered from this file.
"""

import datetime
import json
import os
import pathlib
import platform
import shlex
import sys

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


def write_results(name: str, rows: list, *, notes: str = "", extra: dict | None = None):
    """Writes `benchmarks/results/<name>.json` and returns its path.

    Args:
        name: str. The benchmark's name; also the file's stem.
        rows: list of dict. One dict per table row, the same keys in every row.
        notes: str. What the numbers should be read against (the floor, the reference).
        extra: dict or None. Any further fields to store beside the rows.
    """
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValueError(
            f"write_results() expects `rows` as a non-empty list of dicts; got {rows!r}."
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
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
    path = RESULTS / f"{name}.json"
    temporary = path.with_suffix(".json.partial")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temporary, path)
    return path
