"""Kept so that `keras_vae.layers.class_prior.ClassConditionalPrior` still imports: the class
lives in `keras_vae.priors.class_conditional`."""

from keras_vae.priors.class_conditional import ClassConditionalPrior

__all__ = ["ClassConditionalPrior"]
