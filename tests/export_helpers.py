"""What the export tests share: small export settings, a small untrained VAE, the op list of
a .tflite file and the reference generator's path."""

import pathlib

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

import keras_vae

RUN_TFLITE = pathlib.Path(__file__).resolve().parents[1] / "keras_vae" / "export" / "run_tflite.py"
# Enough examples to verify and calibrate a tiny model, and one timed run: fast tests.
SMALL = dict(
    num_verification_samples=16,
    num_calibration_samples=16,
    latency_repeats=1,
    batch1_variant=False,
    micro=False,
    verbose=0,
)


def ops_of(path):
    """The interpreter of a .tflite file and its op names, in execution order.

    Without the default XNNPACK delegate, which would fuse the ops into one DELEGATE node.
    """
    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    return interpreter, [op["op_name"] for op in interpreter._get_ops_details()]


def untrained_small_vae(latent_dim: int, seed: int, **vae_kwargs):
    """A seeded VAE with a small default-architecture decoder, built on one probe batch:
    quick to convert, with every op of the default decoder. `vae_kwargs` go to `VAE`."""
    keras.utils.set_random_seed(seed)
    decoder = keras_vae.Decoder(
        latent_dim=latent_dim, conv_filters=(8, 4), dense_units=(16,), name="decoder"
    )
    model = keras_vae.VAE(decoder=decoder, latent_dim=latent_dim, seed=seed, **vae_kwargs)
    model(np.zeros((1, 28, 28, 1), "float32"))
    return model
