"""Runs the benchmarks (`make bench`): likelihood, generation, conditional, learned prior,
throughput, speed, export and microcontroller. Each prints its table and writes its results under
`benchmarks/results/`.

Each runs in its own process (its own arguments, its own TensorFlow state), one after the
other, and a failing one does not stop the rest; the exit status says whether all passed.
The defaults take a few hours on two shared CPU cores; `--quick` gives a smoke run (few
epochs, small samples) that checks the suite works but whose numbers mean little.

    python benchmarks/run.py --only likelihood generation
"""

import argparse
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent

# name -> (script, arguments of a smoke run)
BENCHMARKS = {
    "likelihood": (
        "likelihood.py",
        ["--epochs", "2", "--test-images", "100", "--num-samples", "50"],
    ),
    "generation": ("generation.py", ["--quick"]),
    "conditional": ("conditional.py", ["--quick"]),
    "learned_prior": (
        "learned_prior.py",
        ["--configurations", "0", "3:20", "--epochs", "1", "--draws", "100"],
    ),
    "throughput": (
        "throughput.py",
        ["--rounds", "1", "--eval-images", "20", "--eval-samples", "50", "--memory-sizes"],
    ),
    "speed": ("speed.py", ["--quick"]),
    "export": ("export_benchmark.py", ["--epochs", "1"]),
    "micro": (
        "micro.py",
        ["--epochs", "1", "--judge-epochs", "1", "--out", "runs/micro-quick", "--kernels"]
        + ["cmsis_nn", "--board-images", "20", "--pool-images", "2"],
    ),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, numbers not meaningful")
    parser.add_argument("--only", nargs="+", choices=tuple(BENCHMARKS), default=None)
    args = parser.parse_args(argv)
    failed = []
    for name in args.only or BENCHMARKS:
        script, quick = BENCHMARKS[name]
        print(f"\n== {name} ({script}) ==", flush=True)
        start = time.perf_counter()
        command = [sys.executable, str(HERE / script), *(quick if args.quick else [])]
        returncode = subprocess.run(command, check=False).returncode
        print(f"== {name}: exit {returncode} after {time.perf_counter() - start:.0f} s ==")
        if returncode:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
