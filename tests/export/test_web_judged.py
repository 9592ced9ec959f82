"""The page's draws judged: the package's pretrained digits (`VAE.from_preset("mnist_digits")`)
with its ten digit pools, exported with `web=True` and drawn in the system Chromium, are read
as their pool's digit by a judge trained on real MNIST test digits the model never saw.
Needs the browser and LiteRT.js (as tests/export/test_web.py) and ../shared/data/mnist."""

import numpy as np
import pytest
from test_web import WEB_SMALL, needs_browser

import keras_vae
from keras_vae.evaluation import Judge
from keras_vae.export import export_decoder
from keras_vae.export.web_browser import PageBrowser
from keras_vae.export.web_server import PageServer
from keras_vae.latent import LatentPools

DRAWS_PER_POOL = 50
# Issue 31's target: the page's draws from pool k read as k at least 90% of the time. The
# preset's pools reach it at temperature 0.8 (95% in docs/guides/web.md), not at 1 (87-89%):
# at 1 the test holds the floor that measurement gives, so a regression still fails.
TARGET = {0.8: 0.90, 1.0: 0.80}


@pytest.fixture(scope="module")
def judge(mnist_test_set):
    images, labels = mnist_test_set
    fitted = Judge.fit(
        images[:8000],
        labels[:8000],
        epochs=3,
        seed=0,
        validation_data=(images[8000:], labels[8000:]),
    )
    # A judge that cannot read real digits says nothing about generated ones.
    assert fitted.accuracy >= 0.97, fitted.accuracy
    return fitted


@needs_browser
def test_the_pages_draws_from_each_pool_are_read_as_its_digit(tmp_path, mnist_sample, judge):
    vae = keras_vae.VAE.from_preset("mnist_digits")
    pools = LatentPools.fit(vae, *mnist_sample)
    export_decoder(
        vae, tmp_path / "export", formats=("int8",), sampler=pools, web=True, **WEB_SMALL
    )
    shares = {}
    with PageServer(tmp_path / "export") as server, PageBrowser() as browser:
        for temperature in TARGET:
            pages = []
            for pool in range(10):
                result = browser.open(
                    f"{server.url}index.html?pool={pool}&n={DRAWS_PER_POOL}&seed={100 + pool}"
                    f"&temperature={temperature}"
                )
                assert "error" not in result, result
                pages.append(np.array(result["images"], "float32").reshape(-1, 28, 28, 1))
            predicted = judge.classify(np.concatenate(pages))[0]
            wanted = np.repeat(np.arange(10), DRAWS_PER_POOL)
            per_pool = [round(float(np.mean(predicted[wanted == k] == k)), 2) for k in range(10)]
            shares[temperature] = (float(np.mean(predicted == wanted)), per_pool)
    for temperature, floor in TARGET.items():
        share, per_pool = shares[temperature]
        assert share >= floor, (
            f"at temperature {temperature}, read as their pool's digit: {share:.1%} < {floor:.0%};"
            f" per pool {per_pool}"
        )
