"""The optimizer `compile()` gives a model when none is chosen, and its weight averaging."""

import keras


def recommended_optimizer(ema_momentum: float | None = None):
    """The optimizer `compile()` uses when none is given: Adam with a learning rate of 1e-3.

    Args:
        ema_momentum: float in (0, 1) or None. With a momentum, Adam also keeps an
            exponential moving average of the weights (Keras's `use_ema`), and `fit` ends
            by writing the averaged weights into the model. The average forgets the weights
            of k steps ago by a factor `ema_momentum ** k`, so it suits runs of many times
            `1 / (1 - ema_momentum)` steps; the recommended configuration uses
            `RECOMMENDED_EMA_MOMENTUM` (0.98). Defaults to `None`: no average.
    """
    if ema_momentum is None:
        return keras.optimizers.Adam(learning_rate=1e-3)
    if (
        isinstance(ema_momentum, bool)
        or not isinstance(ema_momentum, int | float)
        or not 0 < ema_momentum < 1
    ):
        raise ValueError(
            "recommended_optimizer() expects `ema_momentum` as a float in (0, 1) or None;"
            f" got {ema_momentum!r}."
        )
    return keras.optimizers.Adam(learning_rate=1e-3, use_ema=True, ema_momentum=float(ema_momentum))
