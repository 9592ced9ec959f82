"""MkDocs hook: one page per stored benchmark result, `benchmarks/results/<name>.json`.

The files are written by `benchmarks/harness.py` `write_results`; a page is rendered from
each at build time, so a table is never retyped. A file that is missing its fields or is not
JSON fails the build, naming the file.
"""

import json
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
REQUIRED = ("benchmark", "command", "version", "cpu", "date", "rows")


def read_result(path: Path) -> dict:
    """Reads one result file and checks its fields.

    Args:
        path: Path. A `benchmarks/results/*.json` file.
    """
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PluginError(f"benchmark result {path}: not readable JSON ({error}).") from error
    missing = (
        [key for key in REQUIRED if key not in document] if isinstance(document, dict) else REQUIRED
    )
    if missing:
        raise PluginError(f"benchmark result {path}: missing field(s) {', '.join(missing)}.")
    rows = document["rows"]
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise PluginError(f"benchmark result {path}: `rows` must be a non-empty list of dicts.")
    return document


def render_result(document: dict) -> str:
    """Renders one result document as a Markdown page.

    Args:
        document: dict. A result file's content, as `read_result` returns it.
    """
    cpu = document["cpu"]
    if isinstance(cpu, dict):
        extensions = ", ".join(cpu.get("vector_extensions", [])) or "none listed"
        cpu = f"{cpu.get('model', '?')}, {cpu.get('cores', '?')} cores ({extensions})"
    columns = list(document["rows"][0])
    lines = [
        f"# Benchmark: {document['benchmark']}",
        "",
        "Rendered from `benchmarks/results/" + document["benchmark"] + ".json`.",
        "",
        f"- Command: `{document['command']}`",
        f"- keras-vae {document['version']}, measured {document['date']}",
        f"- CPU: {cpu}",
        "",
    ]
    if document.get("notes"):
        lines += [document["notes"], ""]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in document["rows"]:
        lines.append("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |")
    return "\n".join(lines) + "\n"


def on_files(files, config):
    paths = sorted(RESULTS.glob("*.json"))
    if not paths:
        raise PluginError(f"no benchmark results in {RESULTS}: the benchmark pages need them.")
    for path in paths:
        content = render_result(read_result(path))
        files.append(File.generated(config, f"benchmarks/{path.stem}.md", content=content))
    return files
