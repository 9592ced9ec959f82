"""Input checks shared by the models: clear errors that name the argument, what was expected
and what came. Nothing here reshapes, casts integers silently or clips."""

import numpy as np


def _describe(array) -> str:
    return f"shape {tuple(array.shape)} and dtype {array.dtype}"


def as_float_array(value, name: str, expected_shape: tuple, method: str) -> np.ndarray:
    """Converts `value` to a float32 numpy array of shape `(batch, *expected_shape)`.

    Raises `TypeError` for non-numeric or integer data and `ValueError` for a wrong shape,
    an empty batch or non-finite values.
    """
    expected = "(None, " + ", ".join(str(d) for d in expected_shape) + ")"
    if expected.endswith(", )"):
        expected = expected[:-3] + ",)"
    try:
        array = np.asarray(value)
    except Exception as error:  # e.g. ragged nested lists
        raise TypeError(
            f"{method} expects `{name}` as an array of shape {expected}; got {type(value).__name__}"
            f" that cannot be converted to an array ({error})."
        ) from None
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{method} expects `{name}` as floats (images scaled to [0, 1]); got integer"
            f" data ({_describe(array)}). Divide uint8 images by 255 first."
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{method} expects `{name}` as a float array; got {_describe(array)}.")
    if array.ndim != len(expected_shape) + 1 or tuple(array.shape[1:]) != tuple(expected_shape):
        raise ValueError(
            f"{method} expects `{name}` of shape {expected}; got {tuple(array.shape)}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{method} expects a non-empty batch for `{name}`; got 0 examples.")
    finite = np.isfinite(array)
    if not finite.all():
        index = int(np.argwhere(~finite.reshape(array.shape[0], -1).all(axis=1))[0, 0])
        raise ValueError(
            f"{method} expects finite values in `{name}`; got NaN or infinity in example"
            f" {index} ({int((~finite).sum())} values in all)."
        )
    return array.astype(np.float32, copy=False)


def check_unit_range(array: np.ndarray, name: str, method: str) -> None:
    """The Bernoulli likelihood is defined for pixel values in [0, 1] only."""
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{method} expects `{name}` with pixel values in [0, 1] for the Bernoulli likelihood;"
            f" got values in [{low:g}, {high:g}]. Scale images to [0, 1] (e.g. divide by 255)."
        )


def check_positive_int(value, name: str, method: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{method} expects `{name}` as a positive int; got {value!r}.")
    if value < 1:
        raise ValueError(f"{method} expects `{name}` >= 1; got {value}.")
    return int(value)
