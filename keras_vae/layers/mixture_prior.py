"""Kept so that `keras_vae.layers.mixture_prior.MixturePrior` still imports: the class lives
in `keras_vae.priors.mixture`."""

from keras_vae.priors.mixture import COVARIANCES, MixturePrior

__all__ = ["COVARIANCES", "MixturePrior"]
