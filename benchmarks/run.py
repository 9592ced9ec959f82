"""Runs every benchmark (`make bench`): likelihood, throughput, speed and, when its module is
present, export. Each prints its table and writes JSON under `benchmarks/results/`.

The defaults take about an hour on two shared CPU cores; `--quick` gives a smoke run
(few epochs, small K) that checks the suite works but whose numbers mean little.
"""

import argparse
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import likelihood  # noqa: E402
import speed  # noqa: E402
import throughput  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, numbers not meaningful")
    parser.add_argument(
        "--only", nargs="+", choices=("likelihood", "throughput", "speed", "export"), default=None
    )
    args = parser.parse_args(argv)
    selected = set(args.only or ("likelihood", "throughput", "speed", "export"))
    if "likelihood" in selected:
        print("== Likelihood ==", flush=True)
        quick = ["--epochs", "2", "--test-images", "100", "--num-samples", "50"]
        likelihood.main(quick if args.quick else [])
    if "throughput" in selected:
        print("\n== Throughput ==", flush=True)
        quick = ["--rounds", "1", "--eval-images", "20", "--eval-samples", "50"]
        throughput.main(quick + ["--memory-sizes"] if args.quick else [])
    if "speed" in selected:
        print("\n== Speed ==", flush=True)
        speed.main(["--quick"] if args.quick else [])
    if "export" in selected:
        print("\n== Export ==", flush=True)
        export = HERE / "export_benchmark.py"
        if not export.exists():
            print("export: skipped, benchmarks/export_benchmark.py is not present.")
        else:
            # Its own process: the export benchmark owns its arguments and its TF state.
            quick = ["--epochs", "1"] if args.quick else []
            return subprocess.run([sys.executable, str(export), *quick], check=False).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
