"""Which exported file runs in which engine: LiteRT, TFLite Micro and Arm NN, measured.

    python benchmarks/engines.py runs/micro/micro [--num 16]

Reads an export directory (written by `export_decoder` with tflite-micro installed), runs
every `decoder_*.tflite` with LiteRT on `--num` prior latents, takes the TFLM result from
`report.json`, and runs each file with Arm NN (CpuRef) through `keras_vae/export/run_armnn.py`
in the system Python (`apt-get install -y python3-pyarmnn`). Prints the Markdown table of
docs/guides/export.md: per file, "runs" with the largest difference from LiteRT, or the refusal;
writes it to `benchmarks/results/engines.json` (`harness.write_results`).
"""

import argparse
import json
import pathlib
import shutil
import subprocess
import tempfile

import harness
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def litert_outputs(path, z):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner("decode")
    return np.concatenate([runner(z=z[i : i + 1])["image"] for i in range(len(z))])


def armnn_cell(path, z, reference, python) -> str:
    if python is None:
        return "not tested (apt-get install -y python3-pyarmnn)"
    with tempfile.TemporaryDirectory() as work:
        np.save(f"{work}/z.npy", z)
        done = subprocess.run(
            [
                python,
                str(ROOT / "keras_vae" / "export" / "run_armnn.py"),
                str(path),
                f"{work}/z.npy",
                f"{work}/o",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if lines else {"ok": False, "error": done.stderr[-200:]}
        if not result["ok"]:
            return f"refused: {result['error'][:120]}"
        output = np.load(f"{work}/o.npy").reshape(reference.shape)
    return f"runs (max diff {np.abs(output - reference).max():.1e})"


def tflm_cell(micro) -> str:
    if micro is None:
        return "not tested (pip install keras-vae[micro])"
    if micro["accepted"] is None:
        return micro["reason"]
    if not micro["accepted"]:
        return f"refused: {micro['reason'][:120]}"
    return f"runs (max diff {micro['max_error_vs_litert']:.1e}, arena {micro['arena_bytes']:,} B)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--num", type=int, default=16)
    args = parser.parse_args()
    directory = pathlib.Path(args.directory)
    report = json.loads((directory / "report.json").read_text())
    python = shutil.which("python3", path="/usr/bin")
    if python and subprocess.run([python, "-c", "import pyarmnn"], capture_output=True).returncode:
        python = None
    latent_dim = report["input_shape"][-1]
    z = np.random.default_rng(0).standard_normal((args.num, latent_dim)).astype(np.float32)
    rows = []
    for variant in report["variants"].values():
        path = directory / pathlib.Path(variant["path"]).name
        reference = litert_outputs(path, z)
        rows.append(
            {
                "file": path.name,
                "LiteRT": "runs",
                "TFLite Micro": tflm_cell(variant["micro"]),
                "Arm NN (CpuRef)": armnn_cell(path, z, reference, python),
            }
        )
    harness.print_table(f"Engines for {directory}", rows)
    harness.write_results(
        "engines",
        rows,
        notes=f"{args.num} prior latents through every file of {directory}; differences are"
        " against LiteRT.",
    )


if __name__ == "__main__":
    main()
