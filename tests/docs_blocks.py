"""The Python examples of the docs: the guides' fenced blocks and the docstrings' `Example:`
blocks, found with their file and line, and run so that a failure names both.

A block is a fence whose info string starts with `python`. It is skipped when the line
before it (blank lines aside) starts with `<!-- skip` (in a guide, or in a docstring, where
mkdocstrings renders the comment as nothing): blocks that need trained models, data
downloads or a browser.
"""

import dataclasses
import re
import textwrap
import traceback
from pathlib import Path

FENCE = re.compile(r"^(\s*)```python\b.*$")
SKIP_MARKER = "<!-- skip"


@dataclasses.dataclass
class Block:
    """One fenced block: its file, the line of its first code line, its code, and whether
    it is marked skip."""

    path: Path
    line: int
    code: str
    skipped: bool


class ExampleError(AssertionError):
    """A block raised: the message starts with `file:line` of the line that raised."""


def blocks(path: Path) -> list:
    """Every ```` ```python ```` block of `path` (a Markdown page or a Python source file)."""
    lines = path.read_text().split("\n")
    found, index = [], 0
    while index < len(lines):
        if FENCE.match(lines[index]):
            previous = next((x.strip() for x in reversed(lines[:index]) if x.strip()), "")
            start, body = index + 1, []
            index += 1
            while index < len(lines) and lines[index].strip() != "```":
                body.append(lines[index])
                index += 1
            code = textwrap.dedent("\n".join(body))
            found.append(Block(path, start + 1, code, previous.startswith(SKIP_MARKER)))
        index += 1
    return found


def runnable_blocks(path: Path) -> list:
    """The blocks of `path` that are not marked skip."""
    return [block for block in blocks(path) if not block.skipped]


def run_block(block: Block, namespace: dict, name: str | None = None) -> None:
    """Runs `block` in `namespace`; raises `ExampleError` naming `name:line` where it failed.

    The code is compiled with as many blank lines in front as it has in its file, so the
    traceback's line numbers are the file's own.
    """
    name = name or str(block.path)
    source = "\n" * (block.line - 1) + block.code
    try:
        exec(compile(source, name, "exec"), namespace)
    except SyntaxError as error:
        raise ExampleError(f"{name}:{error.lineno}: SyntaxError: {error.msg}") from error
    except Exception as error:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == name]
        line = frames[-1].lineno if frames else block.line
        detail = "".join(traceback.format_exception(error)[-12:])
        raise ExampleError(
            f"{name}:{line}: {type(error).__name__}: {error}\n(the block starting at line"
            f" {block.line})\n{detail}"
        ) from error
