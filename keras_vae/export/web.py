"""The web page of an export: `web/`, a static folder that draws from the pools in a browser.

`export_decoder(..., web=True)` (and `keras-vae export --web`) writes, beside the TFLite
files, `web/` with `index.html` and `kv_page.js` (the page, package data of keras_vae), the
int8 batch-1 decoder (LiteRT.js runs fixed shapes only) with its `decode` and `generate`
signatures, `web.json` (the pools' names, latent size, image shape, the explorer's
directions) and the LiteRT.js runtime copied from an npm install of `@litertjs/core`, so the
page works offline. `keras_vae.export.web_server` serves it on 127.0.0.1.

The page's automation contract: `index.html?pool=K&n=N&seed=S` writes its result (the
images, the noise, component and choice it fed, the time per image and the backend) into
`<script type="application/json" id="kv-result">` and sets `document.body.dataset.ready`.
"""

import hashlib
import importlib.resources
import json
import os
import pathlib
import shutil

import numpy as np

from keras_vae.export import inputs as export_inputs
from keras_vae.export import targets

WEB_DIR = "web"
WEB_JSON = "web.json"
PAGE_FILES = ("index.html", "kv_page.js")
MODEL_FILE = "decoder_int8_batch1.tflite"
LITERTJS_ENV = "KERAS_VAE_LITERTJS"
LITERTJS_VERSION = "2.5"
NPM_INSTALL = f"npm install @litertjs/core@~{LITERTJS_VERSION}.3"
# The WebAssembly builds the page may load: plain (relaxed SIMD), compat (without it) and
# threaded (when the server sends cross-origin isolation headers, as `keras-vae serve` does).
WASM_BUILDS = (
    "litert_wasm_internal",
    "litert_wasm_compat_internal",
    "litert_wasm_threaded_internal",
)


class WebExportError(ValueError):
    """The web page cannot be written: what is missing and how to get it."""


def find_litertjs(litertjs_dir=None, method="export_decoder()") -> pathlib.Path:
    """The `node_modules/@litertjs` folder of an npm install of `@litertjs/core`.

    Looked for in `litertjs_dir`, else the `KERAS_VAE_LITERTJS` environment variable, else
    `./node_modules/@litertjs` and the one of the source checkout keras_vae runs from.
    Raises `WebExportError` naming the npm command when none holds the runtime.
    """
    if litertjs_dir is not None:
        candidates, source = [pathlib.Path(litertjs_dir)], f"`litertjs_dir` {litertjs_dir}"
    elif os.environ.get(LITERTJS_ENV):
        candidates = [pathlib.Path(os.environ[LITERTJS_ENV])]
        source = f"${LITERTJS_ENV}={os.environ[LITERTJS_ENV]}"
    else:
        checkout = pathlib.Path(__file__).resolve().parents[2]
        candidates = [
            pathlib.Path.cwd() / "node_modules/@litertjs",
            checkout / "node_modules/@litertjs",
        ]
        source = " or ".join(str(path) for path in candidates)
    for folder in candidates:
        if _missing_runtime_files(folder) == []:
            return folder
    missing = _missing_runtime_files(candidates[0])
    raise WebExportError(
        f"{method} with web=True copies the LiteRT.js runtime beside the page; it is not in"
        f" {source} (missing {', '.join(missing[:3])}). Install it with `{NPM_INSTALL}` (or"
        f" `npm ci` in the keras-vae checkout) and pass its node_modules/@litertjs folder as"
        f" `litertjs_dir` (--litertjs-dir) or in ${LITERTJS_ENV}."
    )


def _runtime_files(folder: pathlib.Path) -> dict:
    """Destination under `web/litertjs/` -> source file."""
    files = {
        "core/index.js": folder / "core/dist/index.js",
        "wasm-utils/index.js": folder / "wasm-utils/dist/index.js",
    }
    for build in WASM_BUILDS:
        for suffix in (".js", ".wasm"):
            files[f"wasm/{build}{suffix}"] = folder / f"core/wasm/{build}{suffix}"
    return files


def _missing_runtime_files(folder: pathlib.Path) -> list:
    return [
        str(path.relative_to(folder))
        for path in _runtime_files(folder).values()
        if not path.is_file()
    ]


def check_web_request(model, mixture, options, method) -> None:
    """Refuses `web=True` before anything is written: the page needs `generate`, the int8
    format and its batch-1 file."""
    if mixture is None:
        kind = type(model).__name__
        how = (
            "pass `sampler` (e.g. model.prior_sampler(), a fitted GaussianMixtureSampler or"
            " LatentPools; on the command line --generate prior, mixture or pools)"
        )
        if not hasattr(model, "prior_sampler"):
            how = (
                "an autoencoder's codes fill no known distribution: fit one with"
                " GaussianMixtureSampler.fit or LatentPools.fit and pass it as `sampler`"
                " (on the command line --generate mixture or --generate pools, from the files"
                " `keras-vae train` writes)"
            )
        raise WebExportError(
            f"{method} with web=True draws in the page through the `generate` signature, which"
            f" needs a sampler; got none for a {kind}: {how}."
        )
    if "int8" not in options.formats or not options.batch1_variant:
        raise WebExportError(
            f"{method} with web=True puts {MODEL_FILE} on the page; it needs 'int8' in"
            f" `formats` and batch1_variant=True; got formats={options.formats},"
            f" batch1_variant={options.batch1_variant}."
        )


def explorer_axes(means) -> dict:
    """The two leading principal directions of the pool means, the means' coordinates on
    them and the pad's extent (the coordinates' range with a margin)."""
    means = np.asarray(means, "float64")
    centre = means.mean(axis=0)
    d = means.shape[1]
    if len(means) > 1:
        directions = np.linalg.svd(means - centre, full_matrices=False)[2][:2]
    else:
        directions = np.eye(d)[:1]
    if len(directions) < 2:
        # One pool (or means on a line): a second axis orthogonal to the first.
        extra = np.eye(d)[np.argmin(np.abs(directions[0]))]
        extra = extra - directions[0] * (extra @ directions[0])
        directions = np.stack([directions[0], extra / np.linalg.norm(extra)])
    coordinates = (means - centre) @ directions.T
    spread = max(float(np.abs(coordinates).max()), 1.0)
    return {
        "directions": directions.round(6).tolist(),
        "coordinates": coordinates.round(6).tolist(),
        "extent": round(1.25 * spread, 6),
    }


def page_config(model, mixture, model_path: pathlib.Path) -> dict:
    """`web.json`: the model file, its shapes and the pools of `mixture` (what
    `targets.generate_source` gives: a `GaussianMixture` or `ClassMixtures`) by name."""
    names, means = targets.pool_table(mixture)
    content = model_path.read_bytes()
    conditional = export_inputs.is_conditional(model)
    return {
        "format": 1,
        "model": model_path.name,
        "model_bytes": len(content),
        "model_sha256": hashlib.sha256(content).hexdigest(),
        "latent_dim": int(model.latent_dim),
        "image_shape": [int(d) for d in model.image_shape],
        "conditional": conditional,
        "num_classes": int(model.num_classes) if conditional else None,
        "choice_levels": targets.CHOICE_LEVELS if conditional else None,
        "pools": [
            {"index": i, "name": name, "mean": mean.round(6).tolist()}
            for i, (name, mean) in enumerate(zip(names, means))
        ],
        "explorer": explorer_axes(means),
    }


def write_web_folder(stage: pathlib.Path, model, mixture, litertjs: pathlib.Path) -> pathlib.Path:
    """Writes `web/` into the export's staging folder (published with the other files);
    `mixture` is what `generate` draws from (see `page_config`)."""
    web = stage / WEB_DIR
    web.mkdir()
    source = stage / MODEL_FILE
    if not source.is_file():
        raise WebExportError(f"the export wrote no {MODEL_FILE} for the web page.")
    shutil.copyfile(source, web / MODEL_FILE)
    page = importlib.resources.files("keras_vae.export") / "web_page"
    for name in PAGE_FILES:
        (web / name).write_bytes((page / name).read_bytes())
    for destination, path in _runtime_files(litertjs).items():
        (web / "litertjs" / destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, web / "litertjs" / destination)
    config = page_config(model, mixture, web / MODEL_FILE)
    (web / WEB_JSON).write_text(json.dumps(config, indent=1) + "\n")
    return web
