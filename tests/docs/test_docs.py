"""The guides' Python blocks run as written, and the site builds strictly.

Every fenced block whose info string starts with `python` runs, unless the line before it is
`<!-- skip -->` (blocks that need trained models, data downloads or a browser). A page's
blocks share one namespace, in order, in a temporary working directory; a failing block is
reported with its file and the line that raised (`tests/docs_blocks.py`). The failure paths
are tested too: a block that raises, a link to a page or an anchor that does not exist, and a
table marker naming a result file that does not exist each fail with the file and line.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docs_blocks import ExampleError, run_block, runnable_blocks

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
HOOK = DOCS / "hooks" / "benchmarks.py"
PAGES = sorted(p for p in DOCS.rglob("*.md") if runnable_blocks(p))
MKDOCS = shutil.which("mkdocs") or str(Path(sys.prefix) / "bin" / "mkdocs")
needs_mkdocs = pytest.mark.skipif(
    not Path(MKDOCS).exists(), reason="mkdocs not installed (pip install -e '.[docs]')"
)


def run_page(page: Path, name: str) -> None:
    namespace = {"__name__": "__docs__"}
    for block in runnable_blocks(page):
        run_block(block, namespace, name)


def test_the_guides_that_teach_the_library_have_runnable_blocks():
    guides = {p.name for p in PAGES}
    assert {"getting-started.md", "samplers.md", "export.md", "evaluation.md"} <= guides


@pytest.mark.large
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_blocks_of_the_guides_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        run_page(page, str(page.relative_to(ROOT)))
    except ExampleError as error:
        pytest.fail(str(error), pytrace=False)


def test_blocks_marked_skip_are_left_out_with_their_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n<!-- skip -->\n```python\nnot run\n```\n\n```python\nx = 1\n```\n")
    assert [(b.line, b.code) for b in runnable_blocks(page)] == [(9, "x = 1")]


def test_a_block_that_raises_is_reported_with_the_page_and_the_line_that_raised(tmp_path):
    page = tmp_path / "guide.md"
    page.write_text(
        "# A guide\n\n```python\nx = 1\n```\n\nMore text.\n\n"
        "```python\ny = x + 1\nassert y == 3, 'y is 2'\nz = 0\n```\n"
    )
    with pytest.raises(ExampleError, match=r"^docs/guide\.md:11: AssertionError: y is 2"):
        run_page(page, "docs/guide.md")


def test_a_block_that_does_not_parse_is_reported_with_its_line(tmp_path):
    page = tmp_path / "guide.md"
    page.write_text("text\n\n```python\nok = 1\nnot python(\n```\n")
    with pytest.raises(ExampleError, match=r"^guide\.md:5: SyntaxError"):
        run_page(page, "guide.md")


def load_hook():
    spec = importlib.util.spec_from_file_location("benchmarks_hook", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_table_marker_renders_the_rows_and_columns_it_names(tmp_path):
    hook = load_hook()
    (tmp_path / "speed.json").write_text(
        '{"benchmark": "speed", "command": "python b.py", "version": "0", "cpu": "x",'
        ' "date": "d", "rows": [{"path": "a", "ms": 1234.5, "n": 10000},'
        ' {"path": "b", "ms": 0.06512, "n": 3}]}'
    )
    page = "Text\n<!-- table: speed.json columns: n, ms where: path=b -->\nafter\n"
    assert hook.render_tables(page, "docs/p.md", tmp_path) == (
        "Text\n| n | ms |\n|---|---|\n| 3 | 0.0651 |\nafter\n"
    )
    everything = hook.render_tables("<!-- table: speed.json -->", "docs/p.md", tmp_path)
    assert everything.split("\n")[2] == "| a | 1,234 | 10,000 |"
    shown = "```\n<!-- table: speed.json -->\n```\n"  # a page that shows the syntax
    assert hook.render_tables(shown, "docs/p.md", tmp_path) == shown


@pytest.mark.parametrize(
    "marker, message",
    [
        ("<!-- table: missing.json -->", r"missing\.json, which does not exist"),
        ("<!-- table: speed.json columns: ms, nope -->", r"column\(s\) nope; its columns"),
        ("<!-- table: speed.json where: path=z -->", r"no row of .*speed\.json has path=z"),
    ],
)
def test_a_bad_table_marker_fails_with_the_page_and_line(tmp_path, marker, message):
    hook = load_hook()
    (tmp_path / "speed.json").write_text(
        '{"benchmark": "speed", "command": "c", "version": "0", "cpu": "x", "date": "d",'
        ' "rows": [{"path": "a", "ms": 1.5}]}'
    )
    with pytest.raises(hook.PluginError, match=r"^docs/p\.md:3: .*" + message):
        hook.render_tables(f"# P\n\n{marker}\n", "docs/p.md", tmp_path)


def test_only_the_harness_result_files_become_pages_and_a_broken_one_fails(tmp_path):
    hook = load_hook()
    (tmp_path / "raw.json").write_text('{"settings": {}, "rows": []}')  # a script's own JSON
    (tmp_path / "web.json").write_text('{"format": "keras_vae.benchmark_results"}')
    assert [p.name for p in hook.harness_results(tmp_path)] == ["web.json"]
    with pytest.raises(hook.PluginError, match=r"web\.json: missing field\(s\) benchmark, command"):
        hook.read_result(tmp_path / "web.json")
    (tmp_path / "cut.json").write_text('{"format": "keras_vae.bench')
    with pytest.raises(hook.PluginError, match=r"cut\.json: not readable JSON"):
        hook.harness_results(tmp_path)


def load_harness():
    spec = importlib.util.spec_from_file_location("harness", ROOT / "benchmarks" / "harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_harness_writes_a_results_file_the_hook_renders_with_the_same_cells(
    tmp_path, monkeypatch
):
    harness, hook = load_harness(), load_hook()
    monkeypatch.setenv("KERAS_VAE_BENCHMARK_RESULTS", str(tmp_path))
    rows = [{"path": "a", "img/s": 1234.5, "n": 10000}, {"path": "b", "img/s": 0.06512, "n": 3}]
    path = harness.write_results("decode_speed", rows, notes="ceiling", extra={"details": (1, 2)})
    assert path == tmp_path / "decode_speed.json"
    document = hook.read_result(path)
    assert document["rows"] == rows and document["details"] == [1, 2]
    assert [p.name for p in hook.harness_results(tmp_path)] == ["decode_speed.json"]
    assert "| a | 1,234 | 10,000 |" in hook.render_result(document)
    printed = harness.markdown_table(rows).split("\n")
    assert printed[2:] == hook.render_table(rows, ["path", "img/s", "n"])[2:]


def test_interleaved_rounds_warm_up_then_alternate_the_order():
    harness = load_harness()
    calls = []
    timers = {name: (lambda name=name: calls.append(name) or len(calls)) for name in "abc"}
    per_round = harness.interleaved_rounds(timers, 3, progress=False)
    assert calls == list("abc" + "abc" + "cba" + "abc")
    assert per_round == [
        {"a": 4, "b": 5, "c": 6},
        {"a": 9, "b": 8, "c": 7},
        {"a": 10, "b": 11, "c": 12},
    ]
    assert harness.median_over_rounds(per_round) == {"a": 9, "b": 8, "c": 7}
    assert harness.median_ratio(per_round, "c", "a") == pytest.approx(1.2)
    with pytest.raises(ValueError, match=r"`rounds` as an int >= 1; got 0"):
        harness.interleaved_rounds(timers, 0)


def test_every_benchmark_writes_its_results_through_the_harness():
    """Each script with a `main` imports `harness` and calls `write_results` (directly, or
    through the benchmark it runs), none writes `benchmarks/results` itself."""
    import ast

    # They run the other benchmarks, which write; train_preset.py writes the shipped preset.
    not_benchmarks = {"run.py", "speed.py", "train_preset.py"}
    missing = []
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        tree = ast.parse(script.read_text())
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if "main" not in functions or script.name in not_benchmarks:
            continue
        called = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        if "write_results" not in called:
            missing.append(script.name)
        assert "RESULTS /" not in script.read_text(), script.name
    assert not missing, f"benchmarks that do not write through harness.write_results: {missing}"


def build_tiny_site(tmp_path, pages: dict):
    """`mkdocs build --strict` of a project of `pages` with the repository's hook."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in pages.items():
        (docs / name).write_text(text)
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\ndocs_dir: docs\nhooks:\n  - {HOOK}\nvalidation:\n  links:\n"
        "    not_found: warn\n    anchors: warn\nmarkdown_extensions:\n  - toc\n"
    )
    return subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


@needs_mkdocs
def test_a_link_to_a_missing_page_or_anchor_fails_the_strict_build_naming_the_page(tmp_path):
    result = build_tiny_site(
        tmp_path,
        {
            "index.md": "# Home\n\n## Real section\n\n[fine](#real-section)\n",
            "guide.md": "# Guide\n\n[gone](nowhere.md) and [lost](index.md#no-such-anchor)\n",
        },
    )
    assert result.returncode != 0
    assert "guide.md" in result.stderr and "nowhere.md" in result.stderr
    assert "no-such-anchor" in result.stderr


@needs_mkdocs
def test_a_missing_result_file_fails_the_build_naming_the_page_and_line(tmp_path):
    result = build_tiny_site(
        tmp_path, {"index.md": "# Home\n\nMeasured:\n\n<!-- table: never-run.json -->\n"}
    )
    assert result.returncode != 0
    assert "docs/index.md:5: the table marker names" in result.stderr
    assert "never-run.json, which does not exist" in result.stderr


@pytest.mark.large
@needs_mkdocs
def test_site_builds_strictly(tmp_path):
    result = subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
