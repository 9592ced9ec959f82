"""Screenshots of the web page of an export, in headless Chromium (docs/images/web_page.png).

    python tools/web_screenshots.py --export runs/mnist_vae/<run>/export_web

Opens the page with a pool and seed, moves the explorer's point a little off the pool's mean
(as a person dragging would) and saves the whole page.
"""

import argparse
import pathlib
import sys

from keras_vae.export.web_browser import PageBrowser
from keras_vae.export.web_server import PageServer

DEFAULT_OUT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images" / "web_page.png"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", required=True, help="an export folder with web/, or web/")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--pool", default="7")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with PageServer(args.export) as server, PageBrowser(viewport=(1000, 760)) as browser:
        result = browser.open(
            f"{server.url}index.html?pool={args.pool}&n={args.n}&seed={args.seed}"
        )
        if "error" in result:
            raise SystemExit(f"the page failed: {result['error']}")
        pad = browser.page.locator("#kv-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        # A short drag from the chosen pool's dot: the view shows the decoded point.
        xk, yk = browser.page.evaluate(f"kv.config.explorer.coordinates[{result['pool']}]")
        extent = browser.page.evaluate("kv.config.explorer.extent")
        x = box["x"] + (xk + extent) / (2 * extent) * box["width"]
        y = box["y"] + box["height"] - (yk + extent) / (2 * extent) * box["height"]
        browser.page.mouse.move(x, y)
        browser.page.mouse.down()
        browser.page.mouse.move(x + 12, y - 8, steps=4)
        browser.page.mouse.up()
        browser.page.wait_for_timeout(400)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        browser.page.screenshot(path=str(args.out), full_page=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
