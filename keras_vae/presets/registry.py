"""The preset registry: every named configuration and pretrained model, read from
`registry.json` beside this file.

An entry has a `description` and either a `builder` with its `arguments` (a configuration:
`from_preset(name)` builds it untrained) or a `directory` (a pretrained preset: a preset
folder shipped in this package, which `from_preset(name)` loads). The registry is a JSON file
rather than a dict in code so that `keras_vae_cli` lists the configurations of
`keras-vae train --preset` without importing TensorFlow.
"""

import json
import pathlib

REGISTRY_FILE = pathlib.Path(__file__).with_name("registry.json")


def _read_registry() -> dict:
    entries = json.loads(REGISTRY_FILE.read_text())
    for name, entry in entries.items():
        # A registry edit that breaks an entry fails at import, in every test, not at use.
        if "description" not in entry or ("builder" in entry) == ("directory" in entry):
            raise ValueError(
                f"{REGISTRY_FILE}: the entry {name!r} needs a description and one of `builder`"
                f" or `directory`; got the keys {sorted(entry)}."
            )
    return entries


# Name -> entry, in the file's order.
PRESETS = _read_registry()


def preset_names() -> tuple:
    """Every name in the registry, configurations first as in `registry.json`."""
    return tuple(PRESETS)


def configuration_names() -> tuple:
    """The names that build an untrained model (what `keras-vae train --preset` accepts)."""
    return tuple(name for name, entry in PRESETS.items() if "builder" in entry)


def pretrained_names() -> tuple:
    """The names of the trained presets shipped in the package."""
    return tuple(name for name, entry in PRESETS.items() if "directory" in entry)


def preset_entry(name, owner: str) -> dict:
    """The registry entry of `name`; an unknown name raises a `ValueError` listing the known
    ones (`owner` begins the message)."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(
            f"{owner} expects `preset` as one of the presets {list(PRESETS)} or a preset"
            f" folder; got {name!r}."
        )
    return PRESETS[name]


def preset_directory(name: str) -> pathlib.Path:
    """The folder of the pretrained preset `name`, inside the installed package.

    Args:
        name: str. A pretrained name of the registry (`pretrained_names()`).
    """
    entry = preset_entry(name, "preset_directory()")
    if "directory" not in entry:
        raise ValueError(
            f"preset_directory() expects a pretrained preset (one of {list(pretrained_names())});"
            f" {name!r} is a configuration without files."
        )
    return REGISTRY_FILE.parent / entry["directory"]
