"""Every public name of keras_vae and its subpackages has a docstring, with `Args:` where it
takes arguments (the API reference pages are generated from them), and the docstrings'
`Example:` blocks run: each in the namespace of its module, with a small untrained VAE and a
few hundred real digits as the `vae`, `x_train`, `y_train`, `x_test` they take as given. A
block that needs a trained model, a download or minutes is marked `<!-- skip -->` above its
fence; a block that fails is reported with its module, file and line."""

import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest
from docs_blocks import ExampleError, blocks, run_block

PACKAGES = [
    "keras_vae",
    "keras_vae.callbacks",
    "keras_vae.cli",
    "keras_vae.data",
    "keras_vae.evaluation",
    "keras_vae.export",
    "keras_vae.presets",
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
    pages = "\n".join(
        p.read_text() for p in (Path(__file__).parents[2] / "docs" / "api").glob("*.md")
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


# The docstrings' `Example:` blocks ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "keras_vae").rglob("*.py"))
EXAMPLES = [block for path in SOURCES for block in blocks(path)]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.fixture(scope="module")
def example_context(mnist_sample):
    """What the examples take as given: a small compiled VAE and a few hundred real digits."""
    import keras
    import numpy as np

    import keras_vae

    images, labels = mnist_sample
    every = np.arange(0, len(images), 25)  # 200 digits, every class (the sample is sorted)
    vae = keras_vae.VAE(latent_dim=2, architecture="dense", seed=0)
    vae.compile()
    z_mean, z_log_var = vae.encode(images[every[:8]])
    return {
        "keras": keras,
        "np": np,
        "keras_vae": keras_vae,
        "vae": vae,
        "x_train": images[every],
        "y_train": labels[every],
        "x_test": images[every + 1][:64],
        "y_test": labels[every + 1][:64],
        "x_val": images[every + 3][:64],
        "x_new": images[every + 2][:16],
        "x": images[every[:16]],
        "images": images[every],
        "labels": labels[every],
        "z_mean": z_mean,
        "z_log_var": z_log_var,
        "z": z_mean,
    }


def test_the_public_api_has_docstring_examples_that_run():
    assert len([b for b in EXAMPLES if not b.skipped]) >= 10


@pytest.mark.parametrize(
    "block",
    [b for b in EXAMPLES if not b.skipped],
    ids=lambda b: f"{b.path.relative_to(ROOT)}:{b.line}",
)
def test_docstring_examples_run(block, example_context, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in ("run", "runs/vae"):  # where the examples keep their files
        (tmp_path / folder).mkdir(parents=True)
    module = importlib.import_module(module_name(block.path))
    namespace = {**vars(module), **example_context}
    try:
        run_block(block, namespace, f"{module.__name__} ({block.path.relative_to(ROOT)})")
    except ExampleError as error:
        pytest.fail(str(error), pytrace=False)


def test_a_broken_docstring_example_is_reported_with_its_module_and_line(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text(
        'def f():\n    """Does nothing.\n\n    Example:\n    ```python\n    y = f()\n'
        '    y.missing\n    ```\n    """\n'
    )
    (example,) = blocks(source)
    assert example.line == 6
    with pytest.raises(ExampleError, match=r"^keras_vae\.broken:7: AttributeError"):
        run_block(example, {"f": lambda: None}, "keras_vae.broken")
