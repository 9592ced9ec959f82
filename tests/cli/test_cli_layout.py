"""The command line's two packages import one way: `keras_vae_cli` (standard library only) is
a leaf that the library and its commands import, and its console-script module alone reaches
into `keras_vae`; no import cycle runs through either; the names they share are defined once.

The imports are read from the source with `ast`, wherever they stand (in functions too), so a
call-time import counts like one at the top of a file.
"""

import ast
import configparser
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("keras_vae", "keras_vae_cli")
# Folders of code that could repeat a shared name (the examples write run folders too).
CODE = ("keras_vae", "keras_vae_cli", "examples", "benchmarks", "tools")


def console_script() -> tuple[str, str]:
    """The module and function of the `keras-vae` console script, as setup.cfg declares it."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.entry_points"]["console_scripts"].strip().splitlines()
    scripts = dict(map(str.strip, line.split("=", 1)) for line in lines)
    module, function = scripts["keras-vae"].split(":")
    return module, function


ENTRY, _ = console_script()


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for package in PACKAGES
    for path in sorted((ROOT / package).rglob("*.py"))
}


def _dynamic_import(node) -> bool:
    """Whether `node` is a call of `importlib.import_module` or `__import__`."""
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return name in ("import_module", "__import__")


def imported_names(module: str) -> set:
    """Every module name `module` imports: its import statements wherever they stand, and the
    names given to `importlib.import_module`. A call with a computed name counts as importing
    every module whose name the file spells as a string (keras_vae's lazy table, say)."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    names, computed = set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names |= {f"{base}.{alias.name}" for alias in node.names} | {base}
        elif _dynamic_import(node):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
            else:
                computed = True
    if computed:
        names |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in MODULES
        }
    return names


def edges(module: str) -> set:
    """The project's modules that importing `module` runs: each imported module and the
    packages above it, less the packages above `module` itself (Python runs those first)."""
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    found = set()
    for name in imported_names(module):
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in MODULES and prefix not in own and prefix != module:
                found.add(prefix)
    return found


GRAPH = {module: edges(module) for module in MODULES}


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def cycle_through(start: str):
    """An import path from `start` back to itself, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, path = stack.pop()
        for target in GRAPH[module]:
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_the_console_script_is_a_module_of_the_tensorflow_free_package():
    assert in_package(ENTRY, "keras_vae_cli") and ENTRY in MODULES, ENTRY


def test_keras_vae_cli_imports_nothing_of_keras_vae_but_from_its_console_script():
    reaching = {
        module: sorted(t for t in GRAPH[module] if in_package(t, "keras_vae"))
        for module in MODULES
        if in_package(module, "keras_vae_cli") and module != ENTRY
    }
    assert {module: targets for module, targets in reaching.items() if targets} == {}
    # The console script does reach the commands: the test above would pass on an empty graph.
    assert "keras_vae.cli.run" in GRAPH[ENTRY]


def test_nothing_imports_the_console_script():
    assert [module for module, targets in GRAPH.items() if ENTRY in targets] == []


@pytest.mark.parametrize(
    "module",
    sorted(m for m in MODULES if in_package(m, "keras_vae_cli") or in_package(m, "keras_vae.cli")),
)
def test_no_import_cycle_runs_through_the_command_line(module):
    assert cycle_through(module) is None, " -> ".join(cycle_through(module))


def test_the_graph_finds_a_cycle_where_there_is_one():
    # The check above on a graph holding the cycle this layout removed: keras_vae_cli's face
    # dispatching into keras_vae.cli, which imported that face back.
    saved = {key: set(value) for key, value in GRAPH.items()}
    try:
        GRAPH["keras_vae_cli"].add("keras_vae.cli.run")
        assert cycle_through("keras_vae_cli") is not None
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_the_names_the_parser_and_the_library_share_are_defined_once():
    from keras_vae_cli import names

    shared = {
        value
        for key, value in vars(names).items()
        if key.isupper() and isinstance(value, str | tuple)
    }
    copies = []
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "keras_vae_cli" / "names.py":
                continue
            for node in ast.parse(path.read_text()).body:
                if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                    continue
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                if isinstance(value, str | tuple) and value in shared:
                    copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {value!r}")
    assert copies == []


@pytest.mark.subprocess
def test_the_console_script_answers_help_without_importing_tensorflow():
    module, function = console_script()
    code = f"""
import contextlib, io, sys
from {module} import {function} as main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main(["--help"])
    except SystemExit as exit:
        code = exit.code
heavy = [m for m in ("tensorflow", "keras", "numpy", "keras_vae") if m in sys.modules]
print(code, heavy, "usage: keras-vae" in out.getvalue())
"""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["0", "[]", "True"]
