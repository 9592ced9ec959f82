"""Keras's own layer test harness on the package's layers: config and serialization round
trips, weight counts, symbolic and eager calls, a training step, `compute_output_shape`, and
the mixed-precision check (outputs in the compute dtype, weights in float32).

`keras.src.testing.TestCase.run_layer_test` is private Keras API, so these tests run only on
the Keras major.minor they were written against and skip with the reason on any other."""

import keras
import pytest

TESTED_KERAS = "3.15"
INSTALLED_KERAS = ".".join(keras.__version__.split(".")[:2])

pytestmark = pytest.mark.skipif(
    INSTALLED_KERAS != TESTED_KERAS,
    reason=(
        f"keras.src.testing.TestCase.run_layer_test is private Keras API, checked against Keras"
        f" {TESTED_KERAS}; Keras {keras.__version__} is installed."
    ),
)

if INSTALLED_KERAS == TESTED_KERAS:
    from keras.src.testing import TestCase as KerasTestCase
else:  # pragma: no cover - the module-level skip above explains it
    KerasTestCase = object

from keras_vae import Decoder, Encoder, Sampling  # noqa: E402
from keras_vae.layers.upsampling import NearestUpsampling  # noqa: E402

SMALL_CONV = {"conv_filters": (4, 8), "dense_units": (16,)}
SMALL_IMAGE = (16, 16, 1)


class TestLayersWithKerasHarness(KerasTestCase):
    def _encoder(self, init_kwargs, input_shape, weights_per_head):
        probabilistic = init_kwargs.get("probabilistic", True)
        latent = (input_shape[0], init_kwargs["latent_dim"])
        self.run_layer_test(
            Encoder,
            init_kwargs=init_kwargs,
            input_shape=input_shape,
            expected_output_shape=(latent, latent) if probabilistic else latent,
            expected_num_trainable_weights=weights_per_head + (4 if probabilistic else 2),
            expected_num_non_trainable_weights=0,
            run_mixed_precision_check=True,
        )

    def test_encoder_conv_probabilistic(self):
        self._encoder(
            {"latent_dim": 3, "input_shape": SMALL_IMAGE, **SMALL_CONV}, (2, *SMALL_IMAGE), 6
        )

    def test_encoder_conv_deterministic(self):
        init = {"latent_dim": 3, "input_shape": SMALL_IMAGE, "probabilistic": False, **SMALL_CONV}
        self._encoder(init, (2, *SMALL_IMAGE), 6)

    def test_encoder_dense_probabilistic(self):
        init = {"latent_dim": 2, "input_shape": (10,), "architecture": "dense", "dense_units": (8,)}
        self._encoder(init, (2, 10), 2)

    def test_encoder_dense_deterministic(self):
        init = {
            "latent_dim": 2,
            "input_shape": (10,),
            "architecture": "dense",
            "dense_units": (8, 8),
            "probabilistic": False,
        }
        self._encoder(init, (2, 10), 4)

    def _decoder(self, init_kwargs, output_shape, num_weights):
        self.run_layer_test(
            Decoder,
            init_kwargs=init_kwargs,
            input_shape=(2, init_kwargs["latent_dim"]),
            expected_output_shape=(2, *output_shape),
            expected_num_trainable_weights=num_weights,
            expected_num_non_trainable_weights=0,
            run_mixed_precision_check=True,
        )

    def test_decoder_conv_resize(self):
        init = {"latent_dim": 3, "output_shape": (16, 16, 1), "upsampling": "resize"}
        self._decoder({**init, **SMALL_CONV, "conv_filters": (8, 4)}, (16, 16, 1), 10)

    def test_decoder_conv_transpose(self):
        init = {"latent_dim": 3, "output_shape": (16, 16, 2), "upsampling": "transpose"}
        self._decoder({**init, **SMALL_CONV, "conv_filters": (8, 4)}, (16, 16, 2), 10)

    def test_decoder_dense(self):
        for upsampling in ("resize", "transpose"):
            init = {
                "latent_dim": 2,
                "output_shape": (10,),
                "architecture": "dense",
                "dense_units": (8,),
                "upsampling": upsampling,
            }
            self._decoder(init, (10,), 4)

    def test_sampling(self):
        self.run_layer_test(
            Sampling,
            init_kwargs={"seed": 3},
            input_shape=[(4, 2), (4, 2)],
            expected_output_shape=(4, 2),
            expected_num_trainable_weights=0,
            expected_num_seed_generators=1,
            run_training_check=False,  # no weights to train
            run_mixed_precision_check=True,
        )

    def test_nearest_upsampling(self):
        self.run_layer_test(
            NearestUpsampling,
            init_kwargs={"factor": 3},
            input_shape=(2, 4, 5, 3),
            expected_output_shape=(2, 12, 15, 3),
            expected_num_trainable_weights=0,
            run_training_check=False,  # no weights to train
            run_mixed_precision_check=True,
        )
