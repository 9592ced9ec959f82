"""The default networks follow the image: depth from its size, widths growing with depth,
odd sizes padded and cropped, and the MNIST network unchanged."""

import keras
import numpy as np
import pytest
from export_helpers import SMALL

import keras_vae
from keras_vae import export
from keras_vae.layers.encoder import default_conv_filters, padding_for


@pytest.mark.parametrize(
    "shape, filters",
    [
        ((28, 28, 1), (32, 64)),
        ((16, 16, 3), (32, 64)),
        ((8, 8, 1), (32,)),
        ((32, 32, 3), (32, 64, 128)),
        ((64, 64, 3), (32, 64, 128, 128)),
        ((100, 75, 3), (32, 64, 128, 128)),
        ((3, 3, 1), (32,)),
    ],
)
def test_depth_follows_the_shorter_side(shape, filters):
    assert default_conv_filters(shape) == filters
    # Halving (rounding up) once per convolution leaves a map of at most 7 on the shorter side.
    side = min(shape[:2])
    for _ in filters:
        side = -(-side // 2)
    assert side <= 7


def test_padding_closed_form():
    assert padding_for((28, 28, 1), 2) == (0, 0)
    assert padding_for((30, 45, 3), 3) == (2, 3)
    assert padding_for((7, 9, 1), 0) == (0, 0)


def test_the_mnist_network_is_what_it_was():
    vae = keras_vae.VAE(latent_dim=2, prior="standard_normal")
    assert vae.count_params() == 1_685_318
    # The default adds its prior's parameters only: 20 Gaussians' means, log-variances,
    # logits and (full covariances) the 2 x 2 factors below the diagonal.
    assert keras_vae.VAE(latent_dim=2).count_params() == 1_685_318 + 20 * (2 + 2 + 1 + 4)
    assert vae.encoder.conv_filters == (32, 64) and vae.decoder.conv_filters == (64, 32)
    names = [layer.name for layer in vae.decoder.hidden_layers]
    assert names == [
        "dense_0", "project", "feature_map", "upsample_0", "conv_0", "upsample_1", "conv_1",
        "logits",
    ]  # fmt: skip
    assert [layer.name for layer in vae.encoder.hidden_layers] == [
        "conv_0", "conv_1", "flatten", "dense_0",
    ]  # fmt: skip


def test_the_mnist_network_has_the_same_weights_and_layer_configs():
    # What a `.keras` file saved before the networks scaled holds: every weight by path and
    # shape, and the convolution and dense layers' configs as they were with (32, 64).
    vae = keras_vae.VAE(latent_dim=2)
    networks = vae.encoder.weights + vae.decoder.weights
    shapes = {w.path.split("/", 1)[1]: tuple(w.shape) for w in networks}
    assert shapes == {
        "encoder/conv_0/kernel": (3, 3, 1, 32), "encoder/conv_0/bias": (32,),
        "encoder/conv_1/kernel": (3, 3, 32, 64), "encoder/conv_1/bias": (64,),
        "encoder/dense_0/kernel": (3136, 256), "encoder/dense_0/bias": (256,),
        "encoder/z_mean/kernel": (256, 2), "encoder/z_mean/bias": (2,),
        "encoder/z_log_var/kernel": (256, 2), "encoder/z_log_var/bias": (2,),
        "decoder/dense_0/kernel": (2, 256), "decoder/dense_0/bias": (256,),
        "decoder/project/kernel": (256, 3136), "decoder/project/bias": (3136,),
        "decoder/conv_0/kernel": (3, 3, 64, 64), "decoder/conv_0/bias": (64,),
        "decoder/conv_1/kernel": (3, 3, 64, 32), "decoder/conv_1/bias": (32,),
        "decoder/logits/kernel": (3, 3, 32, 1), "decoder/logits/bias": (1,),
    }  # fmt: skip
    for layer in vae.encoder.hidden_layers[:2]:
        assert (layer.strides, layer.padding, layer.activation.__name__) == ((2, 2), "same", "relu")
    for layer in [vae.decoder.hidden_layers[i] for i in (4, 6)]:
        assert (layer.strides, layer.padding, layer.activation.__name__) == ((1, 1), "same", "relu")
    explicit = keras_vae.Encoder(conv_filters=(32, 64), name="e").get_config()
    assert keras_vae.Encoder(name="e").get_config() == explicit
    explicit = keras_vae.Decoder(conv_filters=(64, 32), name="d").get_config()
    assert keras_vae.Decoder(name="d").get_config() == explicit


def test_sizes_too_small_for_the_depth_are_refused_and_small_ones_work():
    # 3x3 takes one convolution (padded to 4x4), and comes back at 3x3.
    vae = keras_vae.VAE(latent_dim=2, input_shape=(3, 3, 1), seed=0)
    assert vae.encoder.conv_filters == (32,)
    assert vae.sample(2, seed=0).shape == (2, 3, 3, 1)
    with pytest.raises(ValueError, match=r"input_shape` height and width >= 2 .*; got \(1, 1, 3\)"):
        keras_vae.VAE(input_shape=(1, 1, 3))
    with pytest.raises(ValueError, match=r">= 5 with 3 .*=\(8, 8, 8\).*got \(3, 3, 1\)"):
        keras_vae.Encoder(input_shape=(3, 3, 1), conv_filters=(8, 8, 8))
    with pytest.raises(ValueError, match=r"image shape >= 1; got \(0, 28, 1\)"):
        keras_vae.VAE(input_shape=(0, 28, 1))
    with pytest.raises(ValueError, match=r"image shape >= 1; got \(28, -4, 3\)"):
        keras_vae.VAE(input_shape=(28, -4, 3))
    # The dense architecture takes any size.
    assert keras_vae.VAE(input_shape=(1, 1, 3), architecture="dense").decode(
        np.zeros((1, 2), "float32")
    ).shape == (1, 1, 1, 3)


@pytest.mark.parametrize("shape", [(64, 64, 3), (96, 96, 3), (128, 128, 3)])
def test_colour_models_stay_small(shape):
    vae = keras_vae.VAE(latent_dim=32, input_shape=shape)
    assert vae.count_params() < 3.1e6, vae.count_params()
    if shape == (64, 64, 3):
        assert vae.count_params() < 3e6


@pytest.mark.parametrize("shape", [(30, 30, 1), (45, 45, 3), (100, 75, 3)])
def test_odd_sizes_come_back_at_their_size(shape):
    vae = keras_vae.VAE(latent_dim=4, input_shape=shape, seed=0)
    images = np.random.default_rng(0).random((2, *shape)).astype("float32")
    assert vae.reconstruct(images).shape == (2, *shape)
    assert vae.sample(3, seed=0).shape == (3, *shape)
    kinds = [type(layer).__name__ for layer in vae.decoder.hidden_layers]
    assert kinds[-1] == "Cropping2D"
    assert type(vae.encoder.hidden_layers[0]).__name__ == "ZeroPadding2D"


def test_explicit_filters_pad_too_and_round_trip(tmp_path):
    vae = keras_vae.VAE(
        latent_dim=3,
        input_shape=(30, 30, 1),
        encoder=keras_vae.Encoder(3, (30, 30, 1), conv_filters=(8, 8, 8), dense_units=(16,)),
        decoder=keras_vae.Decoder(3, (30, 30, 1), conv_filters=(8, 8, 8), dense_units=(16,)),
        seed=1,
    )
    images = np.random.default_rng(1).random((4, 30, 30, 1)).astype("float32")
    before = vae.reconstruct(images)
    assert before.shape == images.shape
    vae.save(tmp_path / "odd.keras")
    again = keras.saving.load_model(tmp_path / "odd.keras")
    np.testing.assert_array_equal(again.reconstruct(images), before)
    assert again.decoder.conv_filters == (8, 8, 8)


def test_auto_is_resolved_in_the_saved_config():
    decoder = keras_vae.Decoder(latent_dim=2, output_shape=(64, 64, 3))
    assert decoder.get_config()["conv_filters"] == (128, 128, 64, 32)
    assert keras_vae.Decoder.from_config(decoder.get_config()).conv_filters == (128, 128, 64, 32)


@pytest.mark.parametrize("shape", [(32, 32, 3), (30, 30, 3)])
def test_colour_decoders_export_to_every_variant(shape, tmp_path):
    keras.utils.set_random_seed(0)
    vae = keras_vae.VAE(latent_dim=4, input_shape=shape, seed=0)
    vae(np.zeros((1, *shape), "float32"))
    report = export.export_decoder(
        vae,
        tmp_path / "colour",
        **SMALL,
    )
    assert set(report.variants) >= {"float32", "float16", "dynamic_range", "int8"}
    z = np.random.default_rng(2).standard_normal((8, 4)).astype("float32")
    interpreter = keras_vae.saving.load_tflite(tmp_path / "colour" / "decoder_float32.tflite")
    runner = interpreter.get_signature_runner("decode")
    (got,) = runner(z=z).values()
    assert got.shape == (8, *shape)
    np.testing.assert_allclose(got, vae.decode(z), atol=1e-5)
    assert report.variants["int8"].psnr_db >= 25.0
    assert report.passed


def test_residual_block_closed_form():
    block = keras_vae.ResidualBlock(3, kernel_size=1, activation="relu")
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype("float32")
    block.build(x.shape)
    a, b = np.eye(3, dtype="float32")[None, None] * 2.0, np.eye(3, dtype="float32")[None, None]
    block.conv_a.set_weights([a, np.zeros(3, "float32")])
    block.conv_b.set_weights([b, np.ones(3, "float32")])
    # relu(x + 1 * relu(2 x) + 1)
    expected = np.maximum(x + np.maximum(2 * x, 0) + 1, 0)
    np.testing.assert_allclose(block(x), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="3 channels"):
        keras_vae.ResidualBlock(3).build((None, 4, 4, 5))
    with pytest.raises(ValueError, match="filters"):
        keras_vae.ResidualBlock(0)


def test_residual_networks_train_and_round_trip(tmp_path):
    shape = (30, 30, 3)
    vae = keras_vae.VAE(
        latent_dim=3,
        input_shape=shape,
        encoder=keras_vae.Encoder(3, shape, residual=True, name="encoder"),
        decoder=keras_vae.Decoder(3, shape, residual=True, name="decoder"),
        seed=0,
    )
    kinds = [type(layer).__name__ for layer in vae.decoder.hidden_layers]
    assert kinds.count("ResidualBlock") == len(vae.decoder.conv_filters)
    images = np.random.default_rng(0).random((8, *shape)).astype("float32")
    vae.compile()
    history = vae.fit(images, epochs=2, batch_size=4, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    vae.save(tmp_path / "residual.keras")
    again = keras.saving.load_model(tmp_path / "residual.keras")
    assert again.encoder.residual and again.decoder.residual
    np.testing.assert_array_equal(again.reconstruct(images), vae.reconstruct(images))
    report = export.export_decoder(
        vae, tmp_path / "export", **(SMALL | dict(formats=("float32",), num_verification_samples=8))
    )
    assert report.variants["float32"].max_abs_error < 1e-5


def test_residual_blocks_take_the_networks_dtype_policy():
    shape = (30, 30, 3)
    encoder = keras_vae.Encoder(2, shape, residual=True, dtype="mixed_bfloat16")
    decoder = keras_vae.Decoder(2, shape, residual=True, dtype="mixed_bfloat16")
    images = np.zeros((2, *shape), "float32")
    z_mean, _ = encoder(images)
    assert decoder(keras.ops.convert_to_numpy(z_mean)).shape == (2, *shape)
    blocks = [
        layer
        for network in (encoder, decoder)
        for layer in network.hidden_layers
        if isinstance(layer, keras_vae.ResidualBlock)
    ]
    assert len(blocks) == 2 * len(encoder.conv_filters)
    for block in blocks:
        assert block.conv_a.compute_dtype == "bfloat16" == block.conv_b.compute_dtype
        assert block.conv_a.kernel.dtype == "float32"


@pytest.mark.parametrize("shape", [(64, 64, 3), (30, 30, 3)])
def test_conditional_vae_scales_and_crops_too(shape, tmp_path):
    cvae = keras_vae.ConditionalVAE(num_classes=3, latent_dim=4, input_shape=shape, seed=0)
    assert cvae.count_params() < 3e6, cvae.count_params()
    images = np.random.default_rng(0).random((2, *shape)).astype("float32")
    labels = np.array([0, 2])
    assert cvae.reconstruct(images, labels=labels).shape == (2, *shape)
    cvae.save(tmp_path / "cvae.keras")
    again = keras.saving.load_model(tmp_path / "cvae.keras")
    np.testing.assert_array_equal(
        again.sample(3, labels=[0, 1, 2], seed=1), cvae.sample(3, labels=[0, 1, 2], seed=1)
    )
