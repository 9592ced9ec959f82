"""The former home of `KLWarmup`, kept so that existing imports keep working; it lives in
`keras_vae.callbacks.kl_warmup`."""

from keras_vae.callbacks.kl_warmup import SCHEDULES, KLWarmup  # noqa: F401
