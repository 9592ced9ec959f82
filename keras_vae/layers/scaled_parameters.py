"""What the learned priors share: their argument checks, and parameters stored divided by a
learning-rate multiplier so that the optimizer moves them that many times faster."""

from keras import ops


def check_int(owner: str, name: str, value, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{owner} expects `{name}` as an int >= {least}; got {value!r}.")
    return value


def check_multiplier(owner: str, multiplier) -> float:
    if isinstance(multiplier, bool) or not isinstance(multiplier, int | float) or multiplier <= 0:
        raise ValueError(
            f"{owner} expects `learning_rate_multiplier` as a number > 0; got {multiplier!r}."
        )
    return float(multiplier)


def unscaled(variables, multiplier) -> tuple:
    """The stored variables times the multiplier, as float32 tensors."""
    return tuple(variable * multiplier for variable in variables)


def assign_unscaled(method: str, variables, values, multiplier) -> None:
    """Stores each value divided by the multiplier, after checking its shape."""
    for variable, value in zip(variables, values, strict=True):
        value = ops.convert_to_numpy(value).astype("float32")
        if value.shape != tuple(variable.shape):
            raise ValueError(
                f"{method} expects {variable.name} of shape {tuple(variable.shape)}; got"
                f" {value.shape}."
            )
        variable.assign(value / multiplier)


def prior_config(base_config: dict, **arguments) -> dict:
    """A learned prior's config: the layer's own without `dtype` (a prior is float32 whatever
    the policy: its densities are losses), plus its constructor `arguments`."""
    config = {key: value for key, value in base_config.items() if key != "dtype"}
    config.update(arguments)
    return config
