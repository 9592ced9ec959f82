"""KL warm-up: schedules of the weight of the KL term, applied by a callback.

Early in training the KL term can pull every posterior onto the prior before the decoder has
learnt to use z (posterior collapse). Warm-up starts with a small KL weight and raises it:
linearly once (Bowman et al., 2016), or in cycles that repeat the ramp (Fu et al., 2019).
The callback assigns the model's `kl_weight` variable before each batch; `train_step` reads
the variable, so the compiled training function is traced once and never again.
"""

import keras
import numpy as np

SCHEDULES = ("linear", "cyclical")


def _check_number(value, name, low=None, high=None, integer=False):
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind | np.integer | np.floating):
        raise TypeError(
            f"KLWarmup expects `{name}` as {'an int' if integer else 'a number'}; got {value!r}."
        )
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"KLWarmup expects `{name}` {bounds}; got {value!r}.")


@keras.saving.register_keras_serializable(package="keras_vae")
class KLWarmup(keras.callbacks.Callback):
    """Sets `model.kl_weight` from a schedule over training steps (batches).

    `"linear"`: the weight rises from `start` to `stop` over `warmup_steps` steps, then
    stays at `stop`. `"cyclical"`: training is split into cycles of `cycle_steps` steps; in
    each, the weight rises from `start` to `stop` over the first `ratio` of the cycle and
    holds at `stop` for the rest. The step count continues across `fit` calls. The weight
    is added to the epoch logs as `kl_weight`, so it shows in the history and in
    TensorBoard (place `KLWarmup` before the TensorBoard callback).

    Args:
        schedule: str. `"linear"` or `"cyclical"`. Defaults to `"linear"`.
        warmup_steps: int >= 1. Length of the linear ramp. Defaults to `1000`.
        cycle_steps: int >= 1. Length of one cycle (`"cyclical"` only). Defaults to
            `warmup_steps`.
        ratio: float in (0, 1]. Share of each cycle spent rising. Defaults to `0.5`.
        start: float >= 0. Weight at step 0. Defaults to `0.0`.
        stop: float >= 0. Weight at the end of a ramp. Defaults to `1.0`.

    Example:
    ```python
    vae.fit(x_train, epochs=20, callbacks=[KLWarmup("cyclical", cycle_steps=2000)])
    ```
    """

    def __init__(
        self,
        schedule="linear",
        warmup_steps=1000,
        cycle_steps=None,
        ratio=0.5,
        start=0.0,
        stop=1.0,
    ):
        super().__init__()
        if schedule not in SCHEDULES:
            raise ValueError(f"KLWarmup expects `schedule` in {SCHEDULES}; got {schedule!r}.")
        _check_number(warmup_steps, "warmup_steps", low=1, integer=True)
        if cycle_steps is not None:
            _check_number(cycle_steps, "cycle_steps", low=1, integer=True)
        _check_number(ratio, "ratio", low=0, high=1)
        if ratio == 0:
            raise ValueError("KLWarmup expects `ratio` in (0, 1]; got 0.")
        _check_number(start, "start", low=0)
        _check_number(stop, "stop", low=0)
        self.schedule = schedule
        self.warmup_steps = int(warmup_steps)
        self.cycle_steps = None if cycle_steps is None else int(cycle_steps)
        self.ratio = float(ratio)
        self.start = float(start)
        self.stop = float(stop)
        self.step = 0

    def weight_at(self, step: int) -> float:
        """The KL weight the schedule gives at a training step (0-based)."""
        if self.schedule == "linear":
            progress = min(step / self.warmup_steps, 1.0)
        else:
            cycle = self.cycle_steps or self.warmup_steps
            position = (step % cycle) / cycle
            progress = min(position / self.ratio, 1.0)
        return self.start + (self.stop - self.start) * progress

    def on_train_begin(self, logs=None):
        weight = getattr(self.model, "kl_weight", None)
        if weight is None or not hasattr(weight, "assign"):
            raise TypeError(
                "KLWarmup expects a model with a `kl_weight` variable (a VAE); got"
                f" {type(self.model).__name__}."
            )
        self.step = self._trained_steps()

    def _trained_steps(self) -> int:
        # The optimizer's step count survives a restore (ResumableBackup, a reloaded model)
        # and does not count batches a resumed run skips, so the schedule continues where
        # the interrupted run left it.
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return self.step
        return int(keras.ops.convert_to_numpy(optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        step = self._trained_steps()
        self.model.kl_weight.assign(self.weight_at(step))
        self.step = step + 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["kl_weight"] = float(keras.ops.convert_to_numpy(self.model.kl_weight))

    def get_config(self):
        return {
            "schedule": self.schedule,
            "warmup_steps": self.warmup_steps,
            "cycle_steps": self.cycle_steps,
            "ratio": self.ratio,
            "start": self.start,
            "stop": self.stop,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
