"""Property tests: whatever shapes, dtypes, ranges, NaN/inf, empty arrays or batch sizes come
in, `fit`, `encode`, `decode`, `sample`, `log_likelihood` and `export_decoder` either work
(returning finite values of the right shape) or raise `ValueError`/`TypeError` with a message
naming the argument. Nothing crashes and nothing returns NaN silently."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import keras_vae
from keras_vae import evaluation

IMAGE_SHAPE = (8, 8, 1)
LATENT_DIM = 2
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def vae():
    model = keras_vae.VAE(
        latent_dim=LATENT_DIM, input_shape=IMAGE_SHAPE, architecture="dense", seed=0
    )
    model.compile()
    return model


def _call(function, names, *args, **kwargs):
    """Calls `function`; a ValueError/TypeError must name one of `names` in backticks."""
    try:
        return function(*args, **kwargs), None
    except (ValueError, TypeError) as error:
        message = str(error)
        assert any(f"`{name}`" in message for name in names), (
            f"{type(error).__name__} does not name any of {names}: {message}"
        )
        return None, error


def _assert_finite(*arrays):
    for array in arrays:
        array = np.asarray(array)
        assert array.dtype.kind == "f" and np.isfinite(array).all(), array


# Strategies -----------------------------------------------------------------------------

DTYPES = ["float32", "float64", "float16", "uint8", "int32", "bool", "complex64", "str"]
RANGES = ["unit", "wide", "nan", "inf", "-inf", "huge"]
BATCH_SIZES = st.one_of(
    st.integers(1, 8),
    st.integers(-3, 40),
    st.integers(2**31, 2**62),
    st.sampled_from([1.5, "8", None, True, math.nan]),
)


@st.composite
def arrays(draw, item_shape):
    """Arrays of valid or wrong shape, any dtype, values in range or not, possibly empty."""
    n = draw(st.integers(0, 5))
    layout = draw(st.sampled_from(["ok", "ok", "ok", "flat", "extra_axis", "wrong_size"]))
    shape = {
        "ok": (n, *item_shape),
        "flat": (n, math.prod(item_shape)),
        "extra_axis": (n, *item_shape, 1),
        "wrong_size": (n, *(d + 1 for d in item_shape)),
    }[layout]
    values = np.random.default_rng(draw(st.integers(0, 2**16))).uniform(size=shape)
    kind = draw(st.sampled_from(RANGES))
    if kind == "wide":
        values = values * 4 - 2
    elif kind == "huge":
        values = values * 1e30
    elif values.size:
        values.flat[draw(st.integers(0, values.size - 1))] = {
            "nan": np.nan,
            "inf": np.inf,
            "-inf": -np.inf,
            "unit": values.flat[0],
        }[kind]
    dtype = draw(st.sampled_from(DTYPES))
    if dtype == "str":
        return values.astype(str)
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


def valid_arrays(item_shape, max_n=40):
    """Float32 arrays in [0, 1] of the right shape: drawn often, so the working path runs."""
    return st.builds(
        lambda n, seed: (
            np.random.default_rng(seed).uniform(size=(n, *item_shape)).astype("float32")
        ),
        st.integers(1, max_n),
        st.integers(0, 2**16),
    )


ODD_INPUTS = st.sampled_from([None, "images", {"x": 1}, [[0.5, 0.5], [0.5]], 3.0])


# Properties -----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    x=st.one_of(valid_arrays(IMAGE_SHAPE), arrays(IMAGE_SHAPE), ODD_INPUTS), batch_size=BATCH_SIZES
)
@example(x=np.full((3, *IMAGE_SHAPE), 0.5, "float32"), batch_size=2)
def test_encode(vae, x, batch_size):
    result, error = _call(vae.encode, ["x", "batch_size"], x, batch_size=batch_size)
    if error is None:
        z_mean, z_log_var = result
        assert z_mean.shape == z_log_var.shape == (len(x), LATENT_DIM)
        _assert_finite(z_mean, z_log_var)


@PROPERTY_SETTINGS
@given(
    z=st.one_of(valid_arrays((LATENT_DIM,)), arrays((LATENT_DIM,)), ODD_INPUTS),
    batch_size=BATCH_SIZES,
)
@example(z=np.zeros((3, LATENT_DIM), "float64"), batch_size=2**40)
def test_decode(vae, z, batch_size):
    images, error = _call(vae.decode, ["z", "batch_size"], z, batch_size=batch_size)
    if error is None:
        assert images.shape == (len(z), *IMAGE_SHAPE)
        _assert_finite(images)
        assert images.min() >= 0 and images.max() <= 1


@PROPERTY_SETTINGS
@given(
    n=st.one_of(st.integers(-2, 3000), st.sampled_from([2.0, "3", None, True])),
    seed=st.one_of(st.none(), st.integers(-(2**70), 2**70), st.sampled_from([1.5, "seed", [1, 2]])),
)
@example(n=3000, seed=2**40)
def test_sample(vae, n, seed):
    images, error = _call(vae.sample, ["n", "seed"], n, seed=seed)
    if error is None:
        assert images.shape == (n, *IMAGE_SHAPE)
        _assert_finite(images)


@pytest.mark.large
@PROPERTY_SETTINGS
@given(
    data=st.one_of(valid_arrays(IMAGE_SHAPE), arrays(IMAGE_SHAPE), st.sampled_from(["x", {}])),
    num_samples=st.one_of(st.integers(-1, 6), st.sampled_from([2.5, None])),
    batch_size=BATCH_SIZES,
)
@example(data=np.full((5, *IMAGE_SHAPE), 0.5, "float16"), num_samples=3, batch_size=2)
def test_log_likelihood(vae, data, num_samples, batch_size):
    estimates, error = _call(
        evaluation.log_likelihood,
        ["data", "num_samples", "batch_size"],
        vae,
        data,
        num_samples=num_samples,
        batch_size=batch_size,
        seed=0,
        verbose=0,
    )
    if error is None:
        assert estimates.shape == (len(data),)
        _assert_finite(estimates)


@pytest.mark.parametrize("data", [None, 3.0])
def test_log_likelihood_of_non_arrays_names_data(vae, data):
    estimates, error = _call(
        evaluation.log_likelihood, ["data"], vae, data, num_samples=2, verbose=0
    )
    assert estimates is None and error is not None, f"accepted data={data!r}"


@pytest.mark.large
@settings(PROPERTY_SETTINGS, max_examples=10)
@given(
    x=st.one_of(valid_arrays(IMAGE_SHAPE, max_n=6), arrays(IMAGE_SHAPE), ODD_INPUTS),
    batch_size=st.one_of(st.integers(2**31, 2**40), st.integers(-1, 4), st.sampled_from([1.5])),
)
@example(x=np.full((5, *IMAGE_SHAPE), 0.5, "float32"), batch_size=2**40)
def test_fit(x, batch_size):
    model = keras_vae.VAE(
        latent_dim=LATENT_DIM, input_shape=IMAGE_SHAPE, architecture="dense", seed=0
    )
    model.compile()
    history, error = _call(model.fit, ["x", "batch_size"], x, batch_size=batch_size, verbose=0)
    if error is None:
        _assert_finite(*history.history.values())


@pytest.mark.large
@settings(PROPERTY_SETTINGS, max_examples=20)
@given(
    formats=st.one_of(
        st.sampled_from([(), ("float64",), "float32", None, ("int8", "bogus"), [3]]),
    ),
    num_verification_samples=st.one_of(st.integers(-2, 0), st.sampled_from([1.5, None])),
    representative_samples=st.one_of(st.none(), arrays((LATENT_DIM,)), arrays(IMAGE_SHAPE)),
    directory=st.sampled_from(["dir", "file", 5, None]),
)
def test_export_decoder_rejects_bad_arguments(
    vae, tmp_path_factory, formats, num_verification_samples, representative_samples, directory
):
    """Draws at least one bad argument each time: a valid export converts (seconds), and the
    export tests cover that path; these check that bad arguments fail before any work."""
    from keras_vae.export import export_decoder

    folder = tmp_path_factory.mktemp("export")
    if directory == "dir":
        directory = folder / "out"
    elif directory == "file":
        directory = folder / "a_file"
        directory.write_text("the user's file")
    _, error = _call(
        export_decoder,
        ["formats", "num_verification_samples", "representative_samples", "directory"],
        vae,
        directory,
        formats=formats,
        num_verification_samples=num_verification_samples,
        representative_samples=representative_samples,
        verbose=0,
    )
    assert error is not None
    if directory is not None and not isinstance(directory, int) and directory.is_file():
        assert directory.read_text() == "the user's file"
