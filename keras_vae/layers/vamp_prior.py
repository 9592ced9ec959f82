"""Kept so that `keras_vae.layers.vamp_prior.VampPrior` still imports: the class lives in
`keras_vae.priors.vamp`."""

from keras_vae.priors.vamp import VampPrior

__all__ = ["VampPrior"]
