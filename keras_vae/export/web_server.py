"""Serving an export's `web/` folder on 127.0.0.1 (standard library only).

The server sends the cross-origin isolation headers (`Cross-Origin-Opener-Policy: same-origin`,
`Cross-Origin-Embedder-Policy: require-corp`), so the page can load LiteRT.js's threaded
WebAssembly build, and the `application/wasm` type that streaming compilation needs.
"""

import functools
import http.server
import pathlib
import threading

from keras_vae.export.web import PAGE_FILES, WEB_DIR, WEB_JSON


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".json": "application/json",
        ".tflite": "application/octet-stream",
    }

    def __init__(self, *args, isolated: bool, quiet: bool, **kwargs):
        self.isolated, self.quiet = isolated, quiet
        super().__init__(*args, **kwargs)

    def end_headers(self):
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


def page_folder(directory, method="keras-vae serve") -> pathlib.Path:
    """`directory` if it holds the page, or its `web/` folder (an export folder); otherwise a
    `FileNotFoundError` that says how to write one."""
    directory = pathlib.Path(directory)
    for folder in (directory, directory / WEB_DIR):
        if all((folder / name).is_file() for name in (*PAGE_FILES, WEB_JSON)):
            return folder
    raise FileNotFoundError(
        f"{method} expects a folder written by `keras-vae export --web` (with index.html,"
        f" kv_page.js and {WEB_JSON}), or the export folder holding it as {WEB_DIR}/; got"
        f" {directory}, which holds none. Write one with `keras-vae export --model RUN"
        " --output-dir DIR --web`."
    )


class PageServer:
    """A threaded HTTP server for the page, on `host` (127.0.0.1) and `port` (0: any free).

    Use as a context manager (`with PageServer(folder) as server: server.url`) or call
    `serve_forever()`.
    """

    def __init__(
        self, directory, port: int = 0, host: str = "127.0.0.1", *, isolated=True, quiet=True
    ):
        self.directory = page_folder(directory)
        handler = functools.partial(
            _Handler, directory=str(self.directory), isolated=isolated, quiet=quiet
        )
        self.httpd = http.server.ThreadingHTTPServer((host, port), handler)
        self._thread = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def __enter__(self) -> "PageServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()
