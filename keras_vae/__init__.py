"""keras-vae: variational autoencoders on Keras 3 and TensorFlow.

The core (`Sampling`, `Encoder`, `Decoder`, `AutoEncoder`, `VAE` and the loss functions) is
imported eagerly; the modules that pull in more (data loading through TensorFlow Datasets,
export through LiteRT, evaluation, latent tools, callbacks) are imported on first use.
"""

import importlib
import os


def _require_tensorflow_backend(backend: str) -> None:
    if backend != "tensorflow":
        raise ImportError(
            "keras_vae requires the TensorFlow backend of Keras; the active backend is"
            f" {backend!r}. Set KERAS_BACKEND=tensorflow before importing keras."
        )


# Checked before importing keras too: another backend may fail inside keras's own import.
_require_tensorflow_backend(os.environ.get("KERAS_BACKEND", "tensorflow"))

import keras  # noqa: E402

_require_tensorflow_backend(keras.config.backend())

from keras_vae import losses, priors  # noqa: E402
from keras_vae.layers.decoder import Decoder  # noqa: E402
from keras_vae.layers.encoder import Encoder  # noqa: E402
from keras_vae.layers.residual import ResidualBlock  # noqa: E402
from keras_vae.layers.sampling import Sampling  # noqa: E402
from keras_vae.layers.upsampling import NearestUpsampling  # noqa: E402
from keras_vae.models.autoencoder import AutoEncoder  # noqa: E402
from keras_vae.models.base import BaseAutoEncoder  # noqa: E402
from keras_vae.models.conditional_vae import ConditionalVAE  # noqa: E402
from keras_vae.models.optimizer import recommended_optimizer  # noqa: E402
from keras_vae.models.vae import VAE  # noqa: E402
from keras_vae.priors import (  # noqa: E402
    ClassConditionalPrior,
    MixturePrior,
    Prior,
    StandardNormalPrior,
    VampPrior,
)

__version__ = "0.1.0"

# Public names provided by optional modules, loaded on first attribute access.
_LAZY = {
    "KLWarmup": "keras_vae.callbacks",
    "LatentPools": "keras_vae.latent",
    "Judge": "keras_vae.evaluation",
    "GaussianMixtureSampler": "keras_vae.samplers",
    "PoolSampler": "keras_vae.samplers",
    "PriorSampler": "keras_vae.samplers",
    "load_sampler": "keras_vae.samplers",
    "ExportReport": "keras_vae.export",
    "export_decoder": "keras_vae.export",
    "export_encoder": "keras_vae.export",
    "DatasetUnavailableError": "keras_vae.data",
    "DataSource": "keras_vae.data",
    "resolve_data_source": "keras_vae.data",
    "load_mnist": "keras_vae.data",
    "load_fashion_mnist": "keras_vae.data",
    "load_mnist_sample": "keras_vae.data",
    "VAEImageLogger": "keras_vae.callbacks",
    "write_embedding_projector": "keras_vae.callbacks",
    "recommended_vae": "keras_vae.models.recommended",
    "ModelFileError": "keras_vae.saving",
    "load_model": "keras_vae.saving",
    "save_model": "keras_vae.saving",
    "AtomicCheckpoint": "keras_vae.callbacks",
    "NaNGuard": "keras_vae.callbacks",
    "NonFiniteLossError": "keras_vae.callbacks",
    "ResumableBackup": "keras_vae.callbacks",
    "reliable_callbacks": "keras_vae.callbacks",
    "set_reproducible": "keras_vae.reproducibility",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keras_vae' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AutoEncoder",
    "BaseAutoEncoder",
    "ClassConditionalPrior",
    "ConditionalVAE",
    "Decoder",
    "Encoder",
    "MixturePrior",
    "Prior",
    "StandardNormalPrior",
    "VampPrior",
    "ResidualBlock",
    "NearestUpsampling",
    "Sampling",
    "VAE",
    "losses",
    "priors",
    "recommended_optimizer",
]
