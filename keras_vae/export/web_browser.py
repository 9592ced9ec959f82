"""Opening the web page in headless Chromium, for its tests, benchmark and screenshots.

Drives the system browser (Debian's `chromium`, or `$KERAS_VAE_CHROMIUM`) with Playwright
(`pip install keras-vae[web]`); Playwright's own browser downloads are never used.
"""

import json
import os
import shutil
import tempfile

CHROMIUM_ENV = "KERAS_VAE_CHROMIUM"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str | None:
    return (
        os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def missing_browser() -> str | None:
    """Why the page cannot be opened here (one line), or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install keras-vae[web])"
    if chromium_path() is None:
        return f"no Chromium found (apt-get install chromium, or set ${CHROMIUM_ENV})"
    return None


class PageBrowser:
    """A headless Chromium with a fresh profile; `open(url)` returns the page's result.

    Use as a context manager. `extra_flags` are added to `CHROMIUM_FLAGS` (e.g.
    `--js-flags=--noexpose_wasm`, a browser without WebAssembly).
    """

    # One Playwright driver per process (its sync API allows one), shared by open browsers.
    _driver = None
    _users = 0

    def __init__(self, extra_flags=(), viewport=(1100, 820)):
        self.extra_flags, self.viewport = tuple(extra_flags), viewport
        self.page = None

    def __enter__(self) -> "PageBrowser":
        reason = missing_browser()
        if reason:
            raise RuntimeError(f"cannot open the web page: {reason}")
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="kv-chromium-")
        if PageBrowser._driver is None:
            PageBrowser._driver = sync_playwright().start()
        PageBrowser._users += 1
        self._context = PageBrowser._driver.chromium.launch_persistent_context(
            self._profile,
            executable_path=chromium_path(),
            args=[*CHROMIUM_FLAGS, *self.extra_flags],
            headless=True,
            viewport={"width": self.viewport[0], "height": self.viewport[1]},
        )
        self.page = self._context.new_page()
        return self

    def open(self, url: str, timeout_s: float = 60.0) -> dict:
        """Loads `url`, waits for `document.body.dataset.ready` and returns the parsed
        `#kv-result` (`{"error": ...}` when the page failed)."""
        self.page.goto(url)
        self.page.wait_for_function(
            "document.body && document.body.dataset.ready === 'true'", timeout=timeout_s * 1000
        )
        return self.result()

    def result(self) -> dict:
        return json.loads(self.page.locator("#kv-result").text_content())

    def __exit__(self, *exc) -> None:
        self._context.close()
        PageBrowser._users -= 1
        if PageBrowser._users == 0:
            PageBrowser._driver.stop()
            PageBrowser._driver = None
        shutil.rmtree(self._profile, ignore_errors=True)
