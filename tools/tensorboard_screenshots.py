"""Can a person see the dashboards? Screenshots of TensorBoard in a real (headless) browser.

Trains a short run of the example's two models with the example's callbacks (or takes a
finished run with `--logdir`), starts TensorBoard on 127.0.0.1, opens its SCALARS, IMAGES
and PROJECTOR pages in headless Chromium and writes one PNG per page. It fails (exit 1) when
TensorBoard serves no data for a page or a screenshot is blank (nearly one colour), so a
dashboard that renders nothing cannot pass unnoticed. Not part of `make test`: it needs
Chromium (Debian: `apt-get install -y chromium`) and takes a few minutes.

    python tools/tensorboard_screenshots.py                    # -> docs/images/tensorboard_*.png
    python tools/tensorboard_screenshots.py --logdir runs/mnist_vae/<time>/tensorboard
"""

import argparse
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TAG_FILTER = "^epoch_(loss|reconstruction_loss|kl_loss)$|^kl/"
# Each page: its URL fragment, the TensorBoard data route that must hold something, and how
# long the browser may run scripts before the screenshot (the projector computes a PCA).
PAGES = {
    # The loss terms of both models (train and validation) and the VAE's KL per dimension,
    # in one open group: what to look at first.
    "scalars": (
        "scalars&_smoothingWeight=0&tagFilter=" + urllib.parse.quote(TAG_FILTER, safe=""),
        "/data/plugin/scalars/tags",
        15000,
    ),
    "images": ("images", "/data/plugin/images/tags", 15000),
    "projector": ("projector", "/data/plugin/projector/runs", 40000),
}
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    # WebGL (the projector's 3-D view) in software, since the GPU is disabled.
    "--enable-unsafe-swiftshader",
]
# A screenshot is blank when fewer than this share of its pixels differ from the most common
# colour (the page background).
MIN_CONTENT_FRACTION = 0.02


def train_short_run(out: pathlib.Path, epochs: int, latent_dim: int) -> pathlib.Path:
    """The example's two models with the example's callbacks, on the 5,000-digit sample."""
    import keras

    import keras_vae
    from keras_vae.callbacks import VAEImageLogger, reliable_callbacks, write_embedding_projector
    from keras_vae.data import resolve_data_source

    source = resolve_data_source("sample")
    train, _ = source.arrays("train")
    test, test_labels = source.arrays("test")
    keras.utils.set_random_seed(0)
    logs = out / "tensorboard"
    models = {
        "autoencoder": keras_vae.AutoEncoder(latent_dim=latent_dim, seed=0),
        "vae": keras_vae.VAE(latent_dim=latent_dim, seed=0, prior="standard_normal"),
    }
    for name, model in models.items():
        model.compile()
        print(f"Training the {type(model).__name__} for {epochs} epochs", flush=True)
        callbacks = reliable_callbacks(
            out / "backup" / name, last_path=out / f"{name}_last.keras", save_freq=100
        )
        callbacks += [
            keras.callbacks.TensorBoard(str(logs / name)),
            VAEImageLogger(logs / name, test[:500]),
        ]
        model.fit(
            train,
            validation_data=test,
            epochs=epochs,
            batch_size=128,
            verbose=2,
            callbacks=callbacks,
        )
    # A folder of its own, without runs below it (see write_embedding_projector).
    z_mean, _ = models["vae"].encode(test)
    write_embedding_projector(
        logs / "latent_codes" / "vae", z_mean, test_labels, test, label_name="digit"
    )
    return logs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_for_data(base: str, route: str, timeout: float = 120.0):
    """Polls a TensorBoard data route until it returns something non-empty."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = get_json(base + route)
            if last:
                return last
        except OSError:
            pass
        time.sleep(1.0)
    raise SystemExit(f"error: TensorBoard served no data at {route} within {timeout:.0f} s: {last}")


def screenshot(browser: str, url: str, path: pathlib.Path, budget_ms: int, size: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            *BROWSER_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--virtual-time-budget={budget_ms}",
            f"--screenshot={path}",
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not path.exists():
        raise SystemExit(f"error: {browser} failed on {url}: {result.stderr[-2000:]}")


def content_fraction(path: pathlib.Path, top: int = 0) -> float:
    """The share of pixels (below `top`) that differ from the most common colour."""
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(path)[top:, :, :3]
    flat = np.round(pixels.reshape(-1, 3) * 255).astype(np.int32)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    return float(np.mean(np.abs(flat - background).max(axis=1) > 24))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logdir", type=pathlib.Path, help="a finished run's TensorBoard folder")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("docs/images"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--size", default="1400,1000", help="browser window, width,height")
    args = parser.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit(
            "error: Chromium not found; install it with `apt-get install -y chromium`."
        )
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        logdir = args.logdir or train_short_run(pathlib.Path(scratch), args.epochs, args.latent_dim)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tensorboard.main",
                "--logdir",
                str(logdir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        failures = []
        try:
            for page, (fragment, route, budget) in PAGES.items():
                data = wait_for_data(base, route)
                path = args.output / f"tensorboard_{page}.png"
                screenshot(browser, f"{base}/?darkMode=false#{fragment}", path, budget, args.size)
                # Below TensorBoard's header bar, which is never blank.
                fraction = content_fraction(path, top=120)
                verdict = "ok" if fraction >= MIN_CONTENT_FRACTION else "BLANK"
                print(
                    f"{page:<10} {verdict:<6} {fraction:6.1%} of pixels drawn  {path}"
                    f"  (data: {json.dumps(data)[:80]})"
                )
                if verdict != "ok":
                    failures.append(page)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if failures:
        print(f"error: blank page(s): {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
