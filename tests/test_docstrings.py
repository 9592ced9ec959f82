"""Every public name of keras_vae and its subpackages has a docstring, with `Args:` where it
takes arguments (the API reference pages are generated from them)."""

import dataclasses
import importlib
import inspect

import pytest

PACKAGES = [
    "keras_vae",
    "keras_vae.callbacks",
    "keras_vae.cli",
    "keras_vae.data",
    "keras_vae.evaluation",
    "keras_vae.export",
    "keras_vae.priors",
    "keras_vae.samplers",
]


def public_objects():
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{package}.{name}", obj


def takes_arguments(obj) -> bool:
    # Result records (GenerationReport, ExportReport, ...) are built by the library, not by
    # the user; their fields are documented in their class docstring.
    if dataclasses.is_dataclass(obj):
        return False
    target = obj.__init__ if inspect.isclass(obj) else obj
    if inspect.isclass(obj) and target is object.__init__:
        return False
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name not in ("self", "cls", "args", "kwargs")
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in parameters
    )


def own_docstring(obj) -> str:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return doc or ""


def test_every_public_name_has_a_docstring_with_args_where_it_takes_arguments():
    failures = []
    for name, obj in public_objects():
        doc = own_docstring(obj)
        if not doc.strip():
            failures.append(f"{name}: no docstring")
        elif takes_arguments(obj) and "Args:" not in doc:
            init_doc = obj.__init__.__doc__ or "" if inspect.isclass(obj) else ""
            if "Args:" not in init_doc:
                failures.append(f"{name}: takes arguments but its docstring has no `Args:`")
    assert not failures, "\n".join(failures)


def test_every_public_name_has_an_api_reference_entry():
    from pathlib import Path

    pages = "\n".join(
        p.read_text() for p in (Path(__file__).parents[1] / "docs" / "api").glob("*.md")
    )
    missing = [
        f"{package}.{name}"
        for package in PACKAGES
        for name in importlib.import_module(package).__all__
        if f"::: {package}.{name}\n" not in pages
    ]
    assert not missing, f"not in docs/api/*.md: {missing}"


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_have_a_module_docstring(package):
    assert importlib.import_module(package).__doc__
