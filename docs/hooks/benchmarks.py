"""MkDocs hook: one page per stored benchmark result, `benchmarks/results/<name>.json`, and
tables from those files inside the guides.

The files are written by `benchmarks/harness.py` `write_results`; a page is rendered from
each at build time, so a table is never retyped. A guide shows part of one with a marker on
a line of its own:

    <!-- table: web.json columns: decoder, runtime, ms_per_image where: decoder=int8 -->

(`columns:` the row keys to show, in order, default all; `where:` keeps the rows whose key
has that value, optional). A file that is missing, is not JSON or lacks its fields, and a
marker naming a column that no row has, fail the build, naming the page and line.
"""

import json
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RESULTS = BENCHMARKS / "results"
REQUIRED = ("benchmark", "command", "version", "cpu", "date", "rows")
FORMAT = "keras_vae.benchmark_results"  # what benchmarks/harness.py write_results writes

# A cell reads the same on a page as in the benchmark's printed table: one formatter, the
# harness's (standard library only, so importing it here costs nothing).
sys.path.insert(0, str(BENCHMARKS))
from harness import format_value  # noqa: E402


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


def render_table(rows: list, columns: list) -> list:
    """The Markdown lines of a table of `rows` with `columns`.

    Args:
        rows: list of dict. Result rows.
        columns: list of str. The keys to show, in order.
    """
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(format_value(row.get(c, "")) for c in columns) + " |")
    return lines


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
    lines += render_table(document["rows"], columns)
    return "\n".join(lines) + "\n"


TABLE_MARKER = re.compile(
    r"^<!--\s*table:\s*(?P<file>\S+)(?:\s+columns:\s*(?P<columns>[^:]+?))?"
    r"(?:\s+where:\s*(?P<where>\S+=\S+))?\s*-->\s*$"
)


def render_tables(markdown: str, page: str, results: Path = RESULTS) -> str:
    """Replaces each `<!-- table: NAME.json ... -->` marker of a page by the table it names.

    Args:
        markdown: str. The page's Markdown.
        page: str. The page's path, for the error messages.
        results: Path. The folder of the result files. Defaults to `benchmarks/results/`.
    """

    def table(match, line: int) -> str:
        where = f"{page}:{line}"
        path = results / match["file"]
        if not path.is_file():
            raise PluginError(
                f"{where}: the table marker names {path}, which does not exist (the result"
                f" files are {', '.join(p.name for p in sorted(results.glob('*.json')))})."
            )
        try:
            rows = read_result(path)["rows"]
        except PluginError as error:
            raise PluginError(f"{where}: {error}") from error
        if match["where"]:
            key, value = match["where"].split("=", 1)
            rows = [row for row in rows if str(row.get(key)) == value]
            if not rows:
                raise PluginError(f"{where}: no row of {path} has {key}={value}.")
        known = list(dict.fromkeys(key for row in rows for key in row))
        columns = [c.strip() for c in match["columns"].split(",")] if match["columns"] else known
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise PluginError(
                f"{where}: no row of {path} has the column(s) {', '.join(unknown)};"
                f" its columns are {', '.join(known)}."
            )
        return "\n".join(render_table(rows, columns))

    lines, fenced = markdown.split("\n"), False
    for index, text in enumerate(lines):
        if text.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else TABLE_MARKER.match(text)
        if match:
            lines[index] = table(match, index + 1)
    return "\n".join(lines)


def on_page_markdown(markdown, page, config, files):
    source = Path(page.file.abs_src_path or page.file.src_uri)
    root = Path(config["config_file_path"] or ".").resolve().parent
    name = source.relative_to(root) if source.is_relative_to(root) else source
    return render_tables(markdown, str(name))


def harness_results(results: Path = RESULTS) -> list:
    """The result files of `write_results` in `results`: the JSON files whose `format` is
    `keras_vae.benchmark_results` (benchmarks that write their own JSON there are not pages).

    Args:
        results: Path. The folder of the result files. Defaults to `benchmarks/results/`.
    """
    paths = []
    for path in sorted(results.glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise PluginError(f"benchmark result {path}: not readable JSON ({error}).") from error
        if isinstance(document, dict) and document.get("format") == FORMAT:
            paths.append(path)
    return paths


def on_files(files, config):
    paths = harness_results()
    if not paths:
        raise PluginError(f"no benchmark results in {RESULTS}: the benchmark pages need them.")
    for path in paths:
        content = render_result(read_result(path))
        files.append(File.generated(config, f"benchmarks/{path.stem}.md", content=content))
    return files
