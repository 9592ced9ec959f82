"""The checks every layer and model of the package must pass, in one place (as keras-hub's
`run_layer_test`): config round trip, symbolic and eager calls, a `fit` step and a `.keras`
save/load round trip with identical outputs."""

import json

import keras
import numpy as np


def _normalized(config):
    """Configs compared as saved: JSON turns tuples into lists."""
    return json.loads(json.dumps(config, default=str))


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def run_layer_test(layer_cls, init_kwargs, input_data, expected_output_shape, tmp_path):
    """Checks a layer: config, symbolic and eager calls, a fit step, `.keras` round trip."""
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert _normalized(layer_cls.from_config(config).get_config()) == _normalized(config)
    for key in init_kwargs:
        assert key in config, f"get_config() of {layer_cls.__name__} lost {key!r}"

    inputs = _as_list(input_data)
    symbolic = [keras.Input(shape=x.shape[1:]) for x in inputs]
    symbolic_out = _as_list(layer(symbolic if len(symbolic) > 1 else symbolic[0]))
    # One shape is a tuple of ints; several outputs are given as a list of such tuples.
    expected = (
        list(expected_output_shape)
        if isinstance(expected_output_shape, list)
        else [expected_output_shape]
    )
    assert [tuple(t.shape) for t in symbolic_out] == [(None, *s[1:]) for s in expected]

    eager_out = _as_list(layer(input_data))
    assert [tuple(t.shape) for t in eager_out] == [tuple(s) for s in expected]

    # Wrap in a functional model to exercise fit and saving the way users would.
    model = keras.Model(symbolic, _as_list(layer(symbolic if len(symbolic) > 1 else symbolic[0])))
    model.compile(optimizer="adam", loss="mse")
    targets = [np.zeros(s, "float32") for s in expected]
    history = model.fit(input_data, targets, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    path = tmp_path / f"{layer_cls.__name__}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    if init_kwargs.get("seed") is None and layer_cls.__name__ == "Sampling":
        return model
    for before, after in zip(
        _as_list(model.predict(input_data, verbose=0)),
        _as_list(reloaded.predict(input_data, verbose=0)),
    ):
        np.testing.assert_array_equal(before, after)
    return model


def run_model_test(model_cls, init_kwargs, images, tmp_path, check_outputs):
    """Checks a model: config, symbolic and eager calls, a fit step, `.keras` round trip.

    `check_outputs(model)` returns a dict of numpy arrays computed deterministically from the
    model (e.g. `encode`/`decode` outputs); they must be identical after reloading.
    """
    model = model_cls(**init_kwargs)
    config = model.get_config()
    clone = model_cls.from_config(config)
    assert _normalized(clone.get_config()) == _normalized(config)
    for key in init_kwargs:
        assert key in config, f"get_config() of {model_cls.__name__} lost {key!r}"

    symbolic_out = model(keras.Input(shape=images.shape[1:]))
    assert tuple(symbolic_out.shape) == (None, *images.shape[1:])
    eager_out = keras.ops.convert_to_numpy(model(images[:4]))
    assert eager_out.shape == (4, *images.shape[1:])

    model.compile()
    weights_before = [w.copy() for w in model.get_weights()]
    history = model.fit(images, epochs=1, batch_size=64, verbose=0)
    for name in model.loss_names:
        assert np.isfinite(history.history[name][0]), name
    assert any(not np.array_equal(a, b) for a, b in zip(weights_before, model.get_weights())), (
        "one fit epoch changed no weight"
    )

    path = tmp_path / f"{model_cls.__name__}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded) is model_cls
    assert _normalized(reloaded.get_config()) == _normalized(model.get_config())
    before, after = check_outputs(model), check_outputs(reloaded)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)
    return model, reloaded
