"""The checks every layer, model and export of the package must pass, in one place (as
keras-hub's `TestCase`): `run_layer_test`, `run_model_test` and `run_export_test`.

Built on Keras's public API only (`get_config`/`from_config`, `keras.saving`, `keras.Input`,
`compute_output_spec`, dtype policies), so no Keras version gate is needed: the private
`keras.src.testing.TestCase` changes between releases, these calls do not."""

import json
import pathlib

import keras
import numpy as np


def _normalized(config):
    """Configs compared as saved: JSON turns tuples into lists."""
    return json.loads(json.dumps(config, default=str))


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def _single_or_list(items):
    return items if len(items) > 1 else items[0]


def _is_float(dtype):
    return keras.backend.standardize_dtype(dtype).startswith(("float", "bfloat"))


def _check_config_and_serialization(cls, init_kwargs, instance):
    """`from_config(get_config())` keeps the config, every argument is in it, and the
    registered name survives `keras.saving.serialize_keras_object`."""
    config = instance.get_config()
    assert _normalized(cls.from_config(config).get_config()) == _normalized(config)
    for key in init_kwargs:
        assert key in config, f"get_config() of {cls.__name__} lost {key!r}"
    assert keras.saving.get_registered_name(cls) == f"keras_vae>{cls.__name__}"
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(instance))
    assert type(revived) is cls
    assert _normalized(revived.get_config()) == _normalized(config)


def _check_weight_counts(layer, trainable, non_trainable, seed_generators):
    if trainable is not None:
        assert len(layer.trainable_weights) == trainable, [w.path for w in layer.trainable_weights]
    if non_trainable is not None:
        assert len(layer.non_trainable_weights) == non_trainable, [
            w.path for w in layer.non_trainable_weights
        ]
    if seed_generators is not None:
        # `Layer.weights` leaves out the seed generators' state (and metric variables, which
        # no layer of the package has); `Layer.variables` holds them: the difference counts
        # the seed generators of the layer and its sublayers.
        states = len(layer.variables) - len(layer.weights)
        assert states == seed_generators, f"{states} seed generator states"


def _check_mixed_precision(layer_cls, init_kwargs, input_data, compute_dtype):
    """Under `mixed_float16` the layer computes in `compute_dtype`, the outputs have the
    dtypes the symbolic call promises and every float weight stays float32."""
    layer = layer_cls(**{**init_kwargs, "dtype": "mixed_float16"})
    assert (layer.compute_dtype, layer.variable_dtype) == (compute_dtype, "float32")
    eager = _as_list(layer(input_data))
    specs = [
        keras.KerasTensor(x.shape, dtype=layer.compute_dtype if _is_float(x.dtype) else x.dtype)
        for x in _as_list(input_data)
    ]
    symbolic = _as_list(layer.compute_output_spec(_single_or_list(specs)))
    assert [keras.backend.standardize_dtype(t.dtype) for t in eager] == [
        keras.backend.standardize_dtype(s.dtype) for s in symbolic
    ]
    for weight in layer.weights:
        if _is_float(weight.dtype):
            assert keras.backend.standardize_dtype(weight.dtype) == "float32", weight.path


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    tmp_path,
    *,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    expected_num_seed_generators=None,
    run_training_check=True,
    run_mixed_precision_check=True,
    mixed_precision_compute_dtype="float16",
):
    """Checks a layer: config and serialization round trips, symbolic and eager calls of the
    expected shapes, `compute_output_shape` where the layer defines it, weight and seed
    generator counts, a `fit` step, a `.keras` round trip with identical outputs, and
    (`run_mixed_precision_check`) under `mixed_float16` compute in
    `mixed_precision_compute_dtype` (float32 for a prior, whose densities are losses) with
    float32 weights.

    `expected_output_shape` is one shape tuple, or a list of them for several outputs.
    Returns the functional model that wraps the layer.
    """
    layer = layer_cls(**init_kwargs)
    _check_config_and_serialization(layer_cls, init_kwargs, layer)

    inputs = _as_list(input_data)
    symbolic = [keras.Input(shape=x.shape[1:]) for x in inputs]
    symbolic_out = _as_list(layer(_single_or_list(symbolic)))
    expected = (
        list(expected_output_shape)
        if isinstance(expected_output_shape, list)
        else [expected_output_shape]
    )
    assert [tuple(t.shape) for t in symbolic_out] == [(None, *s[1:]) for s in expected]
    if type(layer).compute_output_shape is not keras.layers.Layer.compute_output_shape:
        shapes = layer.compute_output_shape(_single_or_list([x.shape for x in inputs]))
        if all(d is None or isinstance(d, int) for d in shapes):  # one output
            shapes = [shapes]
        assert [tuple(s) for s in shapes] == [tuple(s) for s in expected]

    eager_out = _as_list(layer(input_data))
    assert [tuple(t.shape) for t in eager_out] == [tuple(s) for s in expected]
    _check_weight_counts(
        layer,
        expected_num_trainable_weights,
        expected_num_non_trainable_weights,
        expected_num_seed_generators,
    )

    # Wrap in a functional model to exercise fit and saving the way users would.
    model = keras.Model(symbolic, _as_list(layer(_single_or_list(symbolic))))
    if run_training_check:
        model.compile(optimizer="adam", loss="mse")
        targets = [np.zeros(s, "float32") for s in expected]
        weights_before = [w.copy() for w in model.get_weights()]
        history = model.fit(input_data, targets, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert not model.trainable_weights or any(
            not np.array_equal(a, b) for a, b in zip(weights_before, model.get_weights())
        ), "one fit step changed no weight"

    path = tmp_path / f"{layer_cls.__name__}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    for before, after in zip(
        _as_list(model.predict(input_data, verbose=0)),
        _as_list(reloaded.predict(input_data, verbose=0)),
    ):
        np.testing.assert_array_equal(before, after)

    if run_mixed_precision_check:
        _check_mixed_precision(layer_cls, init_kwargs, input_data, mixed_precision_compute_dtype)
    return model


def run_model_test(model_cls, init_kwargs, images, tmp_path, check_outputs):
    """Checks a model: config and serialization round trips, symbolic and eager calls, a fit
    step that moves the weights, `.keras` round trip.

    `check_outputs(model)` returns a dict of numpy arrays computed deterministically from the
    model (e.g. `encode`/`decode` outputs); they must be identical after reloading.
    """
    model = model_cls(**init_kwargs)
    _check_config_and_serialization(model_cls, init_kwargs, model)

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


def _decode_with_litert(path, z, one_hot=None):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner("decode")
    inputs = {"z": z} if one_hot is None else {"z": z, "labels": one_hot}
    return runner(**inputs)["image"]


def run_export_test(model, directory, *, atol=1e-5, **export_kwargs):
    """Checks `export_decoder(model, directory, **export_kwargs)`: every variant the report
    lists is a file of the reported size, `report.json` reads back equal to the report, every
    `.tflite` holds TFLite builtins only (no Flex, custom or random op), and the float32
    file (when exported) decodes fresh latents as `model.decode` does, within `atol`.

    Returns `(directory, report)`.
    """
    # Imported here so that the layer and model tests do not load the converter.
    from export_helpers import ops_of

    from keras_vae import export
    from keras_vae.export.report import ExportReport

    report = export.export_decoder(model, directory, **export_kwargs)
    for name, variant in report.variants.items():
        path = pathlib.Path(variant.path)
        assert path.is_file() and path.resolve().parent == directory.resolve(), f"{name}: {path}"
        assert variant.size_bytes == path.stat().st_size, name
    assert ExportReport.from_json((directory / "report.json").read_text()) == report
    for path in directory.glob("*.tflite"):
        ops = set(ops_of(path)[1])
        odd = {op for op in ops if "FLEX" in op.upper() or "RANDOM" in op.upper()}
        assert not odd and "CUSTOM" not in ops, (path.name, odd)

    if "float32" in report.variants:
        float32 = report.variants["float32"].path
        z = np.random.default_rng(1).standard_normal((8, model.latent_dim)).astype("float32")
        if model.is_conditional:
            labels = np.arange(8) % model.num_classes
            one_hot = np.eye(model.num_classes, dtype="float32")[labels]
            got = _decode_with_litert(float32, z, one_hot)
            expected = model.decode(z, labels)
        else:
            got = _decode_with_litert(float32, z)
            expected = model.decode(z)
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(expected), atol=atol)
    return directory, report
