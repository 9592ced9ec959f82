"""Where one epoch of the example's VAE goes: training steps, validation, each callback, and
the input pipeline alone.

Builds the VAE, the data pipeline and the callbacks exactly as `examples/mnist_vae.py` does
at its defaults (its own `parse_args` and `load_data`), trains a few epochs with every
callback wrapped in a timer, and prints, per epoch (the first, which traces the graphs, is
left out of the means):

- training steps: the train function's calls, waiting for input included;
- validation: the evaluation `fit` runs at the end of each epoch;
- each callback: the time spent in its hooks (checkpoint saves, backup, TensorBoard, image
  logger, NaN guard, KL warm-up);
- the input pipeline alone: one pass over the training `tf.data` pipeline with no model;
- the callbacks' share of the epoch, against the target of at most 10%.

- the time from each epoch's start to its first step, epoch by epoch.

The table is also written to `benchmarks/results/epoch_profile.json` (`harness.write_results`).

    python benchmarks/epoch_profile.py                 # about 4 epochs of the example's VAE
    python benchmarks/epoch_profile.py --epochs 6 --dataset sample
    python benchmarks/epoch_profile.py --model autoencoder --autotune on   # autotuning back on
"""

import argparse
import collections
import importlib.util
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "mnist_vae.py"
TARGET_SHARE = 0.10
HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
)


def load_example():
    spec = importlib.util.spec_from_file_location("mnist_vae_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Timed(keras.callbacks.Callback):
    """Runs `callback`'s hooks and adds up the seconds each epoch spends in them."""

    def __init__(self, callback, clock):
        super().__init__()
        self.callback, self.clock = callback, clock
        self.seconds = collections.defaultdict(float)  # epoch -> seconds
        for hook in HOOKS:
            setattr(self, hook, self._timed(hook))

    def set_model(self, model):
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.callback.set_params(params)

    def _timed(self, hook):
        inner = getattr(self.callback, hook)

        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[self.clock.epoch] += time.perf_counter() - start

        return run


class Clock(keras.callbacks.Callback):
    """First in the list: the epoch's wall time, its training steps and its validation."""

    def __init__(self):
        super().__init__()
        self.epoch = -1
        self.wall, self.steps, self.validation = (collections.defaultdict(float) for _ in "abc")
        self.first_step, self.before_first_step = {}, {}
        self._epoch_start = self._batch_start = self._test_start = None

    def on_epoch_begin(self, epoch, logs=None):
        now = time.perf_counter()
        if self._epoch_start is not None:
            self.wall[self.epoch] = now - self._epoch_start
        self.epoch, self._epoch_start = epoch, now

    def on_train_end(self, logs=None):
        self.wall[self.epoch] = time.perf_counter() - self._epoch_start

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = time.perf_counter()
        self.before_first_step.setdefault(self.epoch, self._batch_start - self._epoch_start)

    def on_train_batch_end(self, batch, logs=None):
        seconds = time.perf_counter() - self._batch_start
        self.steps[self.epoch] += seconds
        self.first_step.setdefault(self.epoch, seconds)

    def on_test_begin(self, logs=None):
        self._test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        self.validation[self.epoch] += time.perf_counter() - self._test_start


def callback_name(callback) -> str:
    names = {
        "AtomicCheckpoint": "checkpoint saves (last + best .keras)",
        "ResumableBackup": "backup to resume from (weights .h5)",
        "TensorBoard": "TensorBoard scalars",
        "VAEImageLogger": "image logger (images, histograms, KL)",
        "NaNGuard": "NaN guard",
        "KLWarmup": "KL warm-up",
    }
    return names.get(type(callback).__name__, type(callback).__name__)


def pipeline_seconds(dataset) -> tuple[float, int]:
    start, images = time.perf_counter(), 0
    for batch in dataset:
        images += int(keras.ops.shape(batch[0] if isinstance(batch, tuple) else batch)[0])
    return time.perf_counter() - start, images


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=4, help="Default: 4 (the first is traced).")
    parser.add_argument("--dataset", default=None, help="The example's --dataset; its default.")
    parser.add_argument(
        "--model",
        choices=("vae", "autoencoder"),
        default="vae",
        help="Which of the example's two models to profile. Default: vae.",
    )
    parser.add_argument(
        "--autotune",
        choices=("off", "on"),
        default="off",
        help="tf.data's autotuning on the training pipeline: 'off' as keras_vae.data builds it,"
        " 'on' to measure the first-step stall it causes. Default: off.",
    )
    options = parser.parse_args(argv)
    if options.epochs < 2:
        parser.error("--epochs must be >= 2: the first epoch traces the graphs.")
    return options


def example_data(example, args, autotune: str):
    """The example's data at its defaults, with tf.data's autotuning as `--autotune` says."""
    data = example.load_data(args)
    if autotune == "on":
        import tensorflow as tf

        tuned = tf.data.Options()
        tuned.autotune.enabled = True
        data.train = data.train.with_options(tuned)
    return data


def profiled_fit(example, data, args, model: str, epochs: int):
    """Trains the example's model with every callback timed; returns `(model, clock, timed)`."""
    import keras_vae

    keras.utils.set_random_seed(args.seed)
    if model == "vae":
        vae = keras_vae.VAE(
            latent_dim=args.latent_dim, beta=args.beta, seed=args.seed, prior="standard_normal"
        )
    else:
        vae = keras_vae.AutoEncoder(latent_dim=args.latent_dim, seed=args.seed)
    vae.compile(optimizer=keras_vae.recommended_optimizer(args.ema_momentum))
    clock = Clock()
    with tempfile.TemporaryDirectory() as scratch:
        log_dir = pathlib.Path(scratch) / "tensorboard" / "vae"
        timed = [Timed(c, clock) for c in example.training_callbacks(vae, data, args, log_dir)]
        vae.fit(
            data.train,
            validation_data=data.test_images,
            epochs=epochs,
            callbacks=[clock, *timed],
            verbose=0,
            shuffle=False,
        )
    return vae, clock, timed


def epoch_rows(clock, timed, epochs: int) -> tuple[float, float, list]:
    """`(wall seconds, callbacks' seconds, rows)` per epoch, the means of epochs 2 on."""
    measured = list(range(1, epochs))

    def mean(values: dict) -> float:
        return float(np.mean([values[epoch] for epoch in measured]))

    wall = mean(clock.wall)
    rows = [("training steps (waiting for input included)", mean(clock.steps))]
    rows.append(("  of which the first step", mean(clock.first_step)))
    rows.append(("epoch start to first step (iterator)", mean(clock.before_first_step)))
    rows.append(("validation", mean(clock.validation)))
    callback_total = 0.0
    for callback in timed:
        cost = mean(callback.seconds)
        callback_total += cost
        rows.append((callback_name(callback.callback), cost))
    rest = wall - mean(clock.steps) - mean(clock.validation) - callback_total
    rows.append(("the rest of fit (iterators, logs)", rest))
    return wall, callback_total, rows


def main(argv=None) -> int:
    options = parse(argv)
    example = load_example()
    args = example.parse_args([] if options.dataset is None else ["--dataset", options.dataset])
    data = example_data(example, args, options.autotune)
    cpu = harness.cpu_description()
    print(f"Data: {data.description}; tf.data autotuning {options.autotune}")
    print(f"CPU: {cpu['model']}, {cpu['cores']} logical cores")
    seconds, images = pipeline_seconds(data.train)
    seconds, images = pipeline_seconds(data.train)  # the second pass: files cached, as in fit
    print(f"Input pipeline alone: {seconds:.2f} s per epoch ({images} images)")
    vae, clock, timed = profiled_fit(example, data, args, options.model, options.epochs)
    wall, callback_total, rows = epoch_rows(clock, timed, options.epochs)
    title = (
        f"Per epoch, mean of epochs 2-{options.epochs} ({type(vae).__name__},"
        f" latent_dim={args.latent_dim}, batch {args.batch_size}):"
    )
    table = [{"part": "epoch (wall)", "seconds": wall, "share": "100.0%"}]
    table += [{"part": name, "seconds": cost, "share": f"{cost / wall:.1%}"} for name, cost in rows]
    harness.print_table(title, table)
    share = callback_total / wall
    verdict = "met" if share <= TARGET_SHARE else "MISSED"
    summary = (
        f"Callbacks: {callback_total:.2f} s = {share:.1%} of the epoch (target <= "
        f"{TARGET_SHARE:.0%}: {verdict}). Input pipeline alone: {seconds:.2f} s ="
        f" {seconds / wall:.1%} of the epoch (it runs ahead of the steps, so this is an upper"
        " bound on their wait)."
    )
    print(f"\n{summary}")
    starts = ", ".join(f"{clock.before_first_step[e]:.2f}" for e in range(options.epochs))
    print(f"Epoch start to first step, epoch by epoch (s): {starts}")
    harness.write_results(
        "epoch_profile",
        table,
        notes=f"{title} {summary}",
        extra={"settings": vars(options), "epoch_starts_seconds": starts},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
