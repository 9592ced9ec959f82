"""The former home of the reliable-training callbacks, kept so that existing
`keras_vae.training.<name>` imports keep working. They live in `keras_vae.callbacks` (one
module each) and `set_reproducible` in `keras_vae.reproducibility`; import them from there.
"""

from keras_vae.callbacks import (  # noqa: F401
    AtomicCheckpoint,
    NaNGuard,
    NonFiniteLossError,
    ResumableBackup,
    reliable_callbacks,
)
from keras_vae.reproducibility import set_reproducible  # noqa: F401
