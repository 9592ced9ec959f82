"""The web page of an export (`export_decoder(web=True)`, `keras-vae export --web`,
`keras-vae serve`): what it writes, what it refuses, and, in the system Chromium, that the
page draws what LiteRT Python draws from the same file and noise, that its explorer moves
continuously, and that every bad input ends in a clear message on the page."""

import json
import pathlib
import shutil

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from export_helpers import SMALL, untrained_small_vae

from keras_vae import cli
from keras_vae.export import export_decoder, web
from keras_vae.export.web_browser import PageBrowser, missing_browser
from keras_vae.export.web_server import PageServer
from keras_vae.latent import LatentPools

LITERTJS = pathlib.Path(__file__).resolve().parents[2] / "node_modules" / "@litertjs"
WEB_SMALL = dict(SMALL, batch1_variant=True)


def litertjs_missing():
    try:
        web.find_litertjs()
    except web.WebExportError:
        return f"the LiteRT.js runtime is not installed (run `npm ci` in {LITERTJS.parents[1]})"
    return None


needs_litertjs = pytest.mark.skipif(litertjs_missing() is not None, reason=str(litertjs_missing()))
needs_browser = pytest.mark.skipif(
    litertjs_missing() is not None or missing_browser() is not None,
    reason=f"no browser test: {litertjs_missing() or missing_browser()}",
)


@pytest.fixture(scope="module")
def digit_export(tmp_path_factory, mnist_sample):
    """A small VAE, trained for a few epochs so its images differ, exported with web=True:
    its generate draws from the ten digit pools."""
    model = untrained_small_vae(4, 0)
    # The sample is sorted by class: a spread of indices covers all ten digits.
    images, labels = mnist_sample[0][::5], mnist_sample[1][::5]
    model.compile()
    model.fit(images, epochs=3, batch_size=64, verbose=0)
    pools = LatentPools.fit(model, images, labels)
    out = tmp_path_factory.mktemp("web") / "export"
    export_decoder(model, out, formats=("int8", "float32"), sampler=pools, web=True, **WEB_SMALL)
    return model, pools, out


def psnr(a, b):
    mse = float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def litert_generate(path, noise, component):
    runner = Interpreter(model_path=str(path)).get_signature_runner("generate")
    return np.stack(
        [
            runner(noise=n[None].astype("float32"), component=np.array([c], "int32"))["image"][0]
            for n, c in zip(noise, component)
        ]
    )


def litert_decode(path, z):
    runner = Interpreter(model_path=str(path)).get_signature_runner("decode")
    return runner(z=np.asarray(z, "float32")[None])["image"][0]


# What is written and what is refused (no browser) -----------------------------------------


@needs_litertjs
def test_the_web_folder_holds_the_page_the_batch1_decoder_and_the_pools(digit_export):
    model, pools, out = digit_export
    folder = out / "web"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "decoder_int8_batch1.tflite",
        "index.html",
        "kv_page.js",
        "litertjs",
        "web.json",
    ]
    assert (folder / web.MODEL_FILE).read_bytes() == (out / web.MODEL_FILE).read_bytes()
    for build in web.WASM_BUILDS:
        assert (folder / "litertjs" / "wasm" / f"{build}.wasm").stat().st_size > 1_000_000
    config = json.loads((folder / web.WEB_JSON).read_text())
    assert [p["name"] for p in config["pools"]] == [str(d) for d in range(10)]
    np.testing.assert_allclose([p["mean"] for p in config["pools"]], pools.means, atol=1e-5)
    assert config["latent_dim"] == 4 and config["image_shape"] == [28, 28, 1]
    assert config["model_bytes"] == (folder / web.MODEL_FILE).stat().st_size
    directions = np.array(config["explorer"]["directions"])
    np.testing.assert_allclose(directions @ directions.T, np.eye(2), atol=1e-5)
    # The coordinates are the centred means on those directions.
    means = np.asarray(pools.means, "float64")
    np.testing.assert_allclose(
        config["explorer"]["coordinates"], (means - means.mean(0)) @ directions.T, atol=1e-4
    )


def test_web_without_a_sampler_is_refused_before_anything_is_written(tmp_path):
    model = untrained_small_vae(4, 0)
    out = tmp_path / "export"
    with pytest.raises(web.WebExportError, match="needs a sampler.*prior_sampler"):
        export_decoder(model, out, web=True, **WEB_SMALL)
    assert not out.exists()


def test_web_without_the_int8_batch1_file_is_refused(tmp_path):
    model = untrained_small_vae(4, 0)
    with pytest.raises(web.WebExportError, match="'int8' in `formats` and batch1_variant"):
        export_decoder(
            model,
            tmp_path / "a",
            formats=("float32",),
            sampler=model.prior_sampler(),
            web=True,
            **WEB_SMALL,
        )


def test_a_missing_litertjs_names_the_npm_command_and_keeps_an_earlier_export(tmp_path):
    model = untrained_small_vae(4, 0)
    out = tmp_path / "export"
    out.mkdir()
    (out / "decoder_int8.tflite").write_bytes(b"earlier export")
    with pytest.raises(web.WebExportError, match=r"npm install @litertjs/core@~2\.5"):
        export_decoder(
            model,
            out,
            sampler=model.prior_sampler(),
            web=True,
            litertjs_dir=tmp_path / "none",
            overwrite=True,
            **WEB_SMALL,
        )
    assert (out / "decoder_int8.tflite").read_bytes() == b"earlier export"
    assert sorted(p.name for p in out.iterdir()) == ["decoder_int8.tflite"]


def test_cli_web_on_an_autoencoder_without_pools_names_what_is_missing(tmp_path, capsys):
    import keras_vae
    from keras_vae import saving

    model = keras_vae.AutoEncoder(latent_dim=4)
    model(np.zeros((1, 28, 28, 1), "float32"))
    saving.save_model(model, tmp_path / "run" / "model.keras")
    argv = ["export", "--model", str(tmp_path / "run"), "--output-dir", str(tmp_path / "out")]
    assert cli.main([*argv, "--web"]) == 1
    error = capsys.readouterr().err
    assert "--web" in error and "pools.npz" in error and "mixture.json" in error
    assert not (tmp_path / "out").exists()


def test_cli_web_on_a_run_folder_without_a_model_names_the_file(tmp_path, capsys):
    argv = ["export", "--model", str(tmp_path), "--output-dir", str(tmp_path / "out"), "--web"]
    assert cli.main(argv) == 1
    error = capsys.readouterr().err
    assert "model.keras" in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_serve_a_folder_without_the_page_is_one_line(tmp_path, capsys):
    assert cli.main(["serve", str(tmp_path)]) == 1
    error = capsys.readouterr().err.strip()
    assert "keras-vae export" in error and "--web" in error and len(error.splitlines()) == 1


# In the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with PageBrowser() as opened:
        yield opened


@needs_browser
def test_the_page_draws_what_litert_python_draws_from_the_same_file_and_noise(
    digit_export, browser
):
    _, _, out = digit_export
    with PageServer(out) as server:
        result = browser.open(f"{server.url}index.html?pool=7&n=6&seed=11")
        again = browser.open(f"{server.url}index.html?pool=7&n=6&seed=11")
        other = browser.open(f"{server.url}index.html?pool=7&n=6&seed=12")
    assert "error" not in result, result
    assert (result["pool"], result["pool_name"], result["n"], result["seed"]) == (7, "7", 6, 11)
    assert result["backend"] == "wasm" and result["ms_per_image"] > 0
    assert result["component"] == [7] * 6
    noise = np.array(result["noise"])
    assert noise.shape == (6, 4) and abs(noise.mean()) < 1.5
    assert again["noise"] == result["noise"] and other["noise"] != result["noise"]
    page = np.array(result["images"]).reshape(6, 28, 28, 1)
    python = litert_generate(out / "web" / web.MODEL_FILE, noise, result["component"])
    assert psnr(page, python) >= 40.0
    assert not np.allclose(page[0], page[1])


@needs_browser
def test_temperature_scales_the_pages_noise_and_the_draw_follows(digit_export, browser):
    _, _, out = digit_export
    with PageServer(out) as server:
        plain = browser.open(f"{server.url}index.html?pool=2&n=3&seed=9")
        cooled = browser.open(f"{server.url}index.html?pool=2&n=3&seed=9&temperature=0.5")
    assert plain["temperature"] == 1 and cooled["temperature"] == 0.5
    np.testing.assert_allclose(cooled["noise"], 0.5 * np.array(plain["noise"]), rtol=1e-6)
    page = np.array(cooled["images"]).reshape(3, 28, 28, 1)
    python = litert_generate(out / "web" / web.MODEL_FILE, np.array(cooled["noise"]), [2] * 3)
    assert psnr(page, python) >= 40.0
    assert not np.allclose(page, np.array(plain["images"]).reshape(3, 28, 28, 1))


@needs_browser
def test_a_pool_is_chosen_by_name_as_by_index(digit_export, browser):
    with PageServer(digit_export[2]) as server:
        by_name = browser.open(f"{server.url}index.html?pool=3&n=2&seed=5")
    assert by_name["pool"] == 3 and by_name["pool_name"] == "3"


@needs_browser
def test_the_explorer_moves_the_image_continuously(digit_export, browser):
    _, _, out = digit_export
    with PageServer(out) as server:
        browser.open(f"{server.url}index.html?pool=2&n=1&seed=1")
        extent = browser.page.evaluate("kv.config.explorer.extent")
        path = np.linspace(-extent, extent, 25)
        frames = np.array(
            [browser.page.evaluate("([x, y]) => kv.explore(x, y)", [x, 0.5 * x]) for x in path]
        )
        z = browser.page.evaluate(
            "kv.latentAt(0.3, -0.2).then ? null : Array.from(kv.latentAt(0.3, -0.2))"
        )
        frame = browser.page.evaluate("kv.explore(0.3, -0.2)")
        # A drag on the pad re-decodes too: the view's pixels change.
        before = browser.page.evaluate("document.getElementById('kv-view').toDataURL()")
        browser.page.locator("#kv-pad").scroll_into_view_if_needed()
        box = browser.page.locator("#kv-pad").bounding_box()
        browser.page.mouse.move(box["x"] + 20, box["y"] + 20)
        browser.page.mouse.down()
        browser.page.mouse.move(box["x"] + 200, box["y"] + 200, steps=8)
        browser.page.mouse.up()
        browser.page.wait_for_timeout(300)
        after = browser.page.evaluate("document.getElementById('kv-view').toDataURL()")
    successive = np.abs(np.diff(frames, axis=0)).mean(axis=1)
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(frames), (200, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    random = np.abs(frames[pairs[:, 0]] - frames[pairs[:, 1]]).mean(axis=1)
    assert successive.mean() < 0.5 * random.mean()
    assert np.percentile(successive, 90) < np.median(random)
    assert psnr(frame, litert_decode(out / "web" / web.MODEL_FILE, z).reshape(-1)) >= 40.0
    assert before != after


BAD_QUERIES = {
    "pool=10&n=2&seed=1": 'Pool "10" does not exist: this model has 10 pools',
    "pool=seven": 'Pool "seven" does not exist',
    "n=0": 'n as a whole number from 1 to 256; got "0"',
    "n=abc": "n as a whole number",
    "seed=-1": "seed as a whole number from 0 to 4294967295",
    "colour=red": 'does not know the parameter "colour"',
    "temperature=0": 'temperature as a number from 0.05 to 2; got "0"',
    "temperature=warm": "temperature as a number",
    "model=../x.tflite": "model as the name of a .tflite file",
}


@needs_browser
@pytest.mark.parametrize("query", list(BAD_QUERIES))
def test_bad_arguments_are_an_error_result_and_a_message_on_the_page(digit_export, browser, query):
    with PageServer(digit_export[2]) as server:
        result = browser.open(f"{server.url}index.html?{query}")
    assert set(result) == {"error"} and BAD_QUERIES[query] in result["error"]
    shown = browser.page.locator("#kv-error")
    assert shown.is_visible() and shown.text_content() == result["error"]


@pytest.fixture
def damaged_copy(digit_export, tmp_path):
    folder = tmp_path / "web"
    shutil.copytree(digit_export[2] / "web", folder)
    return folder


@needs_browser
def test_a_missing_decoder_says_how_to_write_it_again(damaged_copy, browser):
    (damaged_copy / web.MODEL_FILE).unlink()
    with PageServer(damaged_copy) as server:
        result = browser.open(f"{server.url}index.html?pool=1")
    assert "decoder_int8_batch1.tflite is missing" in result["error"]
    assert "HTTP 404" in result["error"] and "--web" in result["error"]
    assert browser.page.locator("#kv-error").is_visible()


@needs_browser
def test_a_truncated_decoder_is_named_with_its_size(damaged_copy, browser):
    path = damaged_copy / web.MODEL_FILE
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with PageServer(damaged_copy) as server:
        result = browser.open(f"{server.url}index.html")
    assert f"{len(content) // 2} bytes where the export wrote {len(content)}" in result["error"]


@needs_browser
def test_a_browser_without_webassembly_is_told_so(digit_export):
    # Chromium offers no switch that removes WebAssembly (--js-flags=--noexpose_wasm leaves
    # it), so the page runs where a script removed it before the page's own scripts.
    with PageServer(digit_export[2]) as server, PageBrowser() as no_wasm:
        no_wasm.page.add_init_script("delete globalThis.WebAssembly")
        result = no_wasm.open(f"{server.url}index.html")
        shown = no_wasm.page.locator("#kv-error").text_content()
    assert "This browser has no WebAssembly" in result["error"] and shown == result["error"]


# The command line ------------------------------------------------------------------------


@needs_litertjs
@pytest.mark.subprocess
def test_cli_export_web_draws_from_the_runs_pools_and_serve_serves_it(
    digit_export, tmp_path, capsys
):
    import os
    import subprocess
    import sys
    import urllib.request

    from keras_vae import saving

    model, pools, _ = digit_export
    run = tmp_path / "run"
    saving.save_model(model, run / cli.MODEL_FILE)
    pools.save(run / cli.POOLS_FILE)
    out = tmp_path / "export"
    argv = ["export", "--model", str(run), "--output-dir", str(out), "--formats", "int8", "--web"]
    assert cli.main(argv) == 0
    assert f"keras-vae serve {out}" in capsys.readouterr().out
    config = json.loads((out / "web" / web.WEB_JSON).read_text())
    assert [p["name"] for p in config["pools"]] == [str(d) for d in range(10)]

    server = subprocess.Popen(
        [sys.executable, "-m", "keras_vae.cli", "serve", str(out), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).resolve().parents[2])},
    )
    try:
        line = server.stdout.readline()
        assert line.startswith(f"serving {out / 'web'} at http://127.0.0.1:")
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "index.html", timeout=30) as response:
            assert b'id="kv-result"' in response.read()
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        with urllib.request.urlopen(url + "litertjs/wasm/litert_wasm_internal.wasm") as response:
            assert response.headers["Content-Type"] == "application/wasm"
    finally:
        server.terminate()
        server.wait(timeout=30)


@needs_browser
def test_a_conditional_model_draws_its_class_with_the_choice_the_page_reports(
    mnist_sample, tmp_path, browser
):
    from test_export_conditional import tiny_cvae

    model = tiny_cvae()
    model.compile()
    model.fit(mnist_sample[0][::20], mnist_sample[1][::20], epochs=2, batch_size=32, verbose=0)
    out = tmp_path / "cvae"
    export_decoder(model, out, formats=("int8",), sampler=model.prior, web=True, **WEB_SMALL)
    with PageServer(out) as server:
        result = browser.open(f"{server.url}index.html?pool=4&n=5&seed=2")
        browser.page.evaluate("kv.explore(0.2, 0.1)")
    assert "error" not in result, result
    choice = np.array(result["choice"], "int32")
    assert choice.shape == (5,) and len(set(choice.tolist())) > 1
    runner = Interpreter(model_path=str(out / "web" / web.MODEL_FILE)).get_signature_runner(
        "generate"
    )
    python = np.stack(
        [
            runner(
                noise=np.array([n], "float32"),
                component=np.array([4], "int32"),
                choice=np.array([c], "int32"),
            )["image"][0]
            for n, c in zip(result["noise"], choice)
        ]
    )
    assert psnr(np.array(result["images"]).reshape(python.shape), python) >= 40.0
