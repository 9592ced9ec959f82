"""Sampling, Encoder, Decoder, ResidualBlock and NearestUpsampling through the shared layer
checks (`keras_test_case.run_layer_test`: round trips, weight counts, a fit step, mixed
precision), plus their own behaviour."""

import keras
import numpy as np
import pytest
from keras import ops
from keras_test_case import run_layer_test

from keras_vae import Decoder, Encoder, ResidualBlock, Sampling
from keras_vae.layers.upsampling import NearestUpsampling


def test_sampling_layer_contract(tmp_path):
    z = np.zeros((8, 3), "float32")
    run_layer_test(
        Sampling,
        {"seed": 3},
        [z, z],
        (8, 3),
        tmp_path,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=1,
        run_training_check=False,  # no weights to train
    )


def test_sampling_has_the_requested_mean_and_variance():
    mean = np.full((20_000, 2), [1.5, -2.0], "float32")
    log_var = np.full((20_000, 2), [np.log(0.25), np.log(4.0)], "float32")
    z = ops.convert_to_numpy(Sampling(seed=0)([mean, log_var]))
    np.testing.assert_allclose(z.mean(0), [1.5, -2.0], atol=0.05)
    np.testing.assert_allclose(z.var(0), [0.25, 4.0], rtol=0.05)


def test_sampling_is_reproducible_with_a_seed_and_differs_between_calls():
    mean = log_var = np.zeros((4, 2), "float32")
    first = [ops.convert_to_numpy(Sampling(seed=7)([mean, log_var])) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])
    layer = Sampling(seed=7)
    draws = [ops.convert_to_numpy(layer([mean, log_var])) for _ in range(2)]
    assert not np.array_equal(draws[0], draws[1])


def test_sampling_passes_gradients_to_mean_and_log_variance():
    import tensorflow as tf

    mean = tf.Variable(np.zeros((3, 2), "float32"))
    log_var = tf.Variable(np.zeros((3, 2), "float32"))
    with tf.GradientTape() as tape:
        z = Sampling(seed=1)([mean, log_var])
        total = tf.reduce_sum(z)
    grad_mean, grad_log_var = tape.gradient(total, [mean, log_var])
    np.testing.assert_allclose(grad_mean.numpy(), 1.0)
    assert np.abs(grad_log_var.numpy()).sum() > 0


# (arguments, input shape, trainable weights): a kernel and a bias per convolution and per
# dense layer, plus the heads (z_mean and z_log_var, or one code layer when deterministic).
ENCODER_CASES = {
    "conv": (
        {"latent_dim": 3, "conv_filters": (4, 8), "dense_units": (16,)},
        (5, 28, 28, 1),
        2 * 3 + 4,
    ),
    "conv_small_image": (
        {"latent_dim": 3, "input_shape": (16, 16, 1), "conv_filters": (4, 8), "dense_units": (16,)},
        (2, 16, 16, 1),
        2 * 3 + 4,
    ),
    "conv_small_image_deterministic": (
        {
            "latent_dim": 3,
            "input_shape": (16, 16, 1),
            "conv_filters": (4, 8),
            "dense_units": (16,),
            "probabilistic": False,
        },
        (2, 16, 16, 1),
        2 * 3 + 2,
    ),
    "dense": (
        {"latent_dim": 2, "input_shape": (10,), "architecture": "dense", "dense_units": (8, 8)},
        (5, 10),
        2 * 2 + 4,
    ),
    "dense_one_layer": (
        {"latent_dim": 2, "input_shape": (10,), "architecture": "dense", "dense_units": (8,)},
        (2, 10),
        2 + 4,
    ),
    "dense_deterministic": (
        {
            "latent_dim": 2,
            "input_shape": (10,),
            "architecture": "dense",
            "dense_units": (8, 8),
            "probabilistic": False,
        },
        (2, 10),
        2 * 2 + 2,
    ),
    "deterministic": (
        {"latent_dim": 4, "conv_filters": (4,), "dense_units": (), "probabilistic": False},
        (5, 28, 28, 1),
        2 + 2,
    ),
    "residual_odd_size": (
        {"latent_dim": 3, "input_shape": (13, 10, 3), "conv_filters": (4, 8), "residual": True},
        (5, 13, 10, 3),
        None,
    ),
}


@pytest.mark.parametrize("case", ENCODER_CASES)
def test_encoder_layer_contract(case, tmp_path):
    kwargs, shape, num_weights = ENCODER_CASES[case]
    x = np.random.default_rng(0).uniform(size=shape).astype("float32")
    out = (shape[0], kwargs["latent_dim"])
    expected = out if kwargs.get("probabilistic") is False else [out, out]
    run_layer_test(
        Encoder,
        kwargs,
        x,
        expected,
        tmp_path,
        expected_num_trainable_weights=num_weights,
        expected_num_non_trainable_weights=0,
    )


# (arguments, image shape, trainable weights): a kernel and a bias per dense layer, for the
# projection to the first feature map, per convolution and for the output convolution.
DECODER_CASES = {
    "transpose": (
        {"latent_dim": 3, "conv_filters": (8, 4), "dense_units": (), "upsampling": "transpose"},
        (28, 28, 1),
        2 * 4,
    ),
    "transpose_two_channels": (
        {
            "latent_dim": 3,
            "output_shape": (16, 16, 2),
            "conv_filters": (8, 4),
            "dense_units": (16,),
            "upsampling": "transpose",
        },
        (16, 16, 2),
        2 * 5,
    ),
    "resize": (
        {
            "latent_dim": 3,
            "conv_filters": (8, 4),
            "upsampling": "resize",
            "output_shape": (16, 8, 3),
        },
        (16, 8, 3),
        None,
    ),
    "resize_small_image": (
        {
            "latent_dim": 3,
            "output_shape": (16, 16, 1),
            "conv_filters": (8, 4),
            "dense_units": (16,),
            "upsampling": "resize",
        },
        (16, 16, 1),
        2 * 5,
    ),
    "dense": (
        {"latent_dim": 2, "architecture": "dense", "output_shape": (10,), "dense_units": (8,)},
        (10,),
        2 * 2,
    ),
    "dense_transpose": (
        {
            "latent_dim": 2,
            "architecture": "dense",
            "output_shape": (10,),
            "dense_units": (8,),
            "upsampling": "transpose",
        },
        (10,),
        2 * 2,
    ),
    "residual_odd_size": (
        {"latent_dim": 3, "output_shape": (13, 10, 3), "conv_filters": (8, 4), "residual": True},
        (13, 10, 3),
        None,
    ),
    "transpose_residual_auto": (
        {"latent_dim": 2, "output_shape": (9, 9, 2), "upsampling": "transpose", "residual": True},
        (9, 9, 2),
        None,
    ),
}


@pytest.mark.parametrize("case", DECODER_CASES)
def test_decoder_layer_contract(case, tmp_path):
    kwargs, image_shape, num_weights = DECODER_CASES[case]
    z = np.random.default_rng(0).normal(size=(5, kwargs["latent_dim"])).astype("float32")
    run_layer_test(
        Decoder,
        kwargs,
        z,
        (5, *image_shape),
        tmp_path,
        expected_num_trainable_weights=num_weights,
        expected_num_non_trainable_weights=0,
    )


def test_decoder_mirrors_the_encoder_with_transposed_convolutions():
    decoder = Decoder(latent_dim=2, conv_filters=(64, 32), upsampling="transpose")
    decoder.build()
    kinds = [type(layer).__name__ for layer in decoder.hidden_layers]
    assert kinds.count("Conv2DTranspose") == 2
    assert [layer.filters for layer in decoder.hidden_layers if hasattr(layer, "filters")][:2] == [
        64,
        32,
    ]


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (Encoder, {"latent_dim": 0}, "latent_dim"),
        (Encoder, {"latent_dim": 2.5}, "latent_dim"),
        (Encoder, {"architecture": "rnn"}, "architecture"),
        (Encoder, {"input_shape": (784,)}, "architecture='dense'"),
        (Decoder, {"output_shape": (0, 28, 1)}, "image shape >= 1"),
        (Encoder, {"input_shape": (28, -2, 1)}, "image shape >= 1"),
        (Encoder, {"conv_filters": "big"}, "conv_filters"),
        (Decoder, {"upsampling": "bilinear"}, "upsampling"),
        (Decoder, {"conv_filters": (0, 4)}, "conv_filters"),
        (
            Encoder,
            {"input_shape": (1, 1, 3)},
            r"`input_shape` height and width >= 2 .*; got \(1, 1, 3\)",
        ),
        (
            Decoder,
            {"output_shape": (3, 3, 1), "conv_filters": (8, 8, 8)},
            r"`output_shape` height and width >= 5 .*; got \(3, 3, 1\)",
        ),
        (
            Encoder,
            {"input_shape": (40, 4, 1), "conv_filters": (8, 8, 8, 8)},
            r">= 9 with 4 strided convolutions .*; got \(40, 4, 1\)",
        ),
    ],
)
def test_bad_layer_arguments_are_rejected_with_the_argument_named(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_residual_block_layer_contract(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 6, 5, 3)).astype("float32")
    kwargs = {"filters": 3, "kernel_size": 1, "activation": "tanh"}
    run_layer_test(ResidualBlock, kwargs, x, (4, 6, 5, 3), tmp_path)


def test_layers_are_registered_under_the_package_name():
    for cls in (Sampling, Encoder, Decoder, ResidualBlock, NearestUpsampling):
        assert keras.saving.get_registered_name(cls) == f"keras_vae>{cls.__name__}"


def test_nearest_upsampling_contract_and_equivalence_to_upsampling2d(tmp_path):
    x = np.random.default_rng(0).normal(size=(3, 5, 4, 2)).astype("float32")
    run_layer_test(
        NearestUpsampling,
        {"factor": 3},
        x,
        (3, 15, 12, 2),
        tmp_path,
        expected_num_trainable_weights=0,
        run_training_check=False,  # no weights to train
    )
    expected = ops.convert_to_numpy(keras.layers.UpSampling2D(3)(x))
    np.testing.assert_array_equal(ops.convert_to_numpy(NearestUpsampling(3)(x)), expected)
    with pytest.raises(ValueError, match="factor"):
        NearestUpsampling(0)


def test_resize_decoder_keeps_static_image_sizes_under_a_dynamic_batch():
    import tensorflow as tf

    decoder = Decoder(latent_dim=2, conv_filters=(8, 4), upsampling="resize")
    traced = tf.function(decoder).get_concrete_function(tf.TensorSpec([None, 2], tf.float32))
    assert traced.structured_outputs.shape.as_list() == [None, 28, 28, 1]
