"""The guides' Python blocks run as written, and the site builds strictly.

Every fenced block whose info string starts with `python` runs, unless the line before it is
`<!-- skip -->` (blocks that need trained models or data). A page's blocks share one
namespace, in order, in a temporary working directory; a failing block is reported with its
file and line.
"""

import os
import re
import shutil
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(\s*)```python\b.*$")


def python_blocks(path: Path):
    """(line number, code) of each block of `path` that is not marked skip."""
    lines = path.read_text().split("\n")
    blocks, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match:
            previous = next((x.strip() for x in reversed(lines[:index]) if x.strip()), "")
            start, body = index + 1, []
            index += 1
            while index < len(lines) and lines[index].strip() != "```":
                body.append(lines[index])
                index += 1
            if previous != "<!-- skip -->":
                blocks.append((start + 1, textwrap.dedent("\n".join(body))))
        index += 1
    return blocks


PAGES = sorted(p for p in DOCS.rglob("*.md") if python_blocks(p))


def test_some_guides_have_runnable_blocks():
    assert PAGES, "no runnable python block in docs/"


@pytest.mark.large
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_blocks_of_the_guides_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for line, code in python_blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        try:
            exec(compile(code, where, "exec"), namespace)
        except Exception:
            pytest.fail(f"the block at {where} failed:\n{traceback.format_exc()}")


def test_python_blocks_report_file_and_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n<!-- skip -->\n```python\nnot run\n```\n\n```python\nx = 1\n```\n")
    assert python_blocks(page) == [(9, "x = 1")]


@pytest.mark.large
@pytest.mark.skipif(
    shutil.which("mkdocs") is None and not (Path(sys.prefix) / "bin" / "mkdocs").exists(),
    reason="mkdocs not installed (pip install -e '.[docs]')",
)
def test_site_builds_strictly(tmp_path):
    mkdocs = shutil.which("mkdocs") or str(Path(sys.prefix) / "bin" / "mkdocs")
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
