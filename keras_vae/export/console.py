"""What an export shows while it runs: named stages, and the converter's own output held back.

The TFLite converter and the LiteRT interpreter are C++ that writes to file descriptors 1 and
2 directly (`fully_quantize: 0, inference_type: 6, ...`, `INFO: Created TensorFlow Lite
XNNPACK delegate for CPU.`), past Python's `sys.stdout`. `native_output(verbose)` redirects
both descriptors to a temporary file for the length of one call and restores them after,
so nothing changes beyond the call; when the call fails, what was captured is written to
stderr before the error goes on, so a failing conversion still says what failed. With
`verbose=2` nothing is captured.
"""

import contextlib
import os
import sys
import tempfile
import time


@contextlib.contextmanager
def native_output(verbose: int):
    """Holds back what C++ (and Python) write to file descriptors 1 and 2 inside the block,
    unless `verbose >= 2`; replays it on stderr when the block raises."""
    if verbose >= 2:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as captured:
        for fd in saved:
            os.dup2(captured.fileno(), fd)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            if failed:
                captured.seek(0)
                text = captured.read().decode("utf-8", "replace")
                if text.strip():
                    sys.stderr.write(f"output of the failed step:\n{text}")
                    sys.stderr.flush()


class Stages:
    """Prints one numbered line per named stage of an export (`verbose >= 1`), with its time:

        [ 3/18] converting int8 ... 4.1 s

    Use `with stages.run("converting int8"):` around each; the block's own C++ output is
    held back (see `native_output`).
    """

    def __init__(self, total: int, verbose: int, stream=None):
        self.total, self.verbose, self.done = int(total), int(verbose), 0
        self.stream = stream

    def _print(self, text: str, end: str = "\n") -> None:
        print(text, end=end, file=self.stream or sys.stdout, flush=True)

    @contextlib.contextmanager
    def run(self, name: str):
        self.done += 1
        width = len(str(self.total))
        started = time.perf_counter()
        if self.verbose >= 1:
            # With verbose=2 the converter's lines follow, so the time goes on a line of its own.
            self._print(
                f"  [{self.done:>{width}}/{self.total}] {name} ...",
                end="\n" if self.verbose >= 2 else "",
            )
        try:
            with native_output(self.verbose):
                yield
        except BaseException:
            if self.verbose == 1:
                self._print(" failed")
            raise
        if self.verbose >= 1:
            elapsed = f"{time.perf_counter() - started:.1f} s"
            self._print(f" {elapsed}" if self.verbose == 1 else f"    {name}: {elapsed}")
