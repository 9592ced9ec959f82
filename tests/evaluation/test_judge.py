"""The judge of generated images and the Frechet distance: closed forms, real digits, errors."""

import math

import numpy as np
import pytest

from keras_vae import evaluation
from keras_vae.evaluation import Judge, frechet_distance, frechet_distance_of_features


def _rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q


def test_frechet_distance_of_commuting_gaussians_is_the_closed_form():
    # Covariances sharing eigenvectors commute: (C1 C2)^(1/2) = R diag(sqrt(a b)) R^T, so the
    # distance is |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2.
    rotation = _rotation(5, 0)
    a, b = np.array([1.0, 2.0, 0.5, 3.0, 0.1]), np.array([4.0, 1.0, 0.5, 0.3, 2.0])
    m1, m2 = np.arange(5.0), np.arange(5.0)[::-1]
    cov1, cov2 = rotation @ np.diag(a) @ rotation.T, rotation @ np.diag(b) @ rotation.T
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(m1, cov1, m2, cov2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(m1, cov1, m1, cov1) == pytest.approx(0.0, abs=1e-9)
    # Symmetric in its two Gaussians.
    assert frechet_distance(m2, cov2, m1, cov1) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_one_dimension_is_the_wasserstein_distance():
    # In 1-D: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)


def test_frechet_distance_estimated_from_samples_approaches_the_closed_form():
    rng = np.random.default_rng(1)
    cov1 = np.array([[2.0, 0.6], [0.6, 1.0]])
    cov2 = np.array([[0.5, -0.2], [-0.2, 1.5]])
    m1, m2 = np.array([0.0, 1.0]), np.array([1.0, -1.0])
    x1 = rng.multivariate_normal(m1, cov1, 200_000)
    x2 = rng.multivariate_normal(m2, cov2, 200_000)
    # Non-commuting covariances: the trace term through the symmetric form
    # tr((C1^(1/2) C2 C1^(1/2))^(1/2)), equal to tr((C1 C2)^(1/2)).
    w, v = np.linalg.eigh(cov1)
    root1 = v @ np.diag(np.sqrt(w)) @ v.T
    w, v = np.linalg.eigh(root1 @ cov2 @ root1)
    cross = np.sum(np.sqrt(w))
    expected = np.sum((m1 - m2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * cross
    assert frechet_distance_of_features(x1, x2) == pytest.approx(expected, rel=0.02)


def test_frechet_distance_with_a_constant_feature_is_finite():
    x = np.random.default_rng(0).standard_normal((100, 3))
    x[:, 1] = 0.0
    assert np.isfinite(frechet_distance_of_features(x, x + 1.0))
    assert frechet_distance_of_features(x, x + 1.0) == pytest.approx(3.0, rel=1e-3)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match="`cov2` of shape \\(2, 2\\) for d = 3"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="`features1` as finite vectors"):
        frechet_distance_of_features(np.zeros((1, 3)), np.zeros((5, 3)))


@pytest.fixture(scope="module")
def digits(mnist_sample):
    images, labels = mnist_sample
    held_out = np.arange(len(images)) % 5 == 4
    return images[~held_out][::2], labels[~held_out][::2], images[held_out], labels[held_out]


@pytest.fixture(scope="module")
def judge(digits):
    x_train, y_train, x_test, y_test = digits
    return Judge.fit(x_train, y_train, epochs=4, seed=3, validation_data=(x_test, y_test))


def test_the_judge_is_a_good_classifier_and_seeded(judge, digits):
    x_train, y_train, x_test, _ = digits
    assert judge.accuracy > 0.93 and judge.num_classes == 10
    again = Judge.fit(x_train, y_train, epochs=4, seed=3)
    np.testing.assert_array_equal(again.features(x_test[:50]), judge.features(x_test[:50]))
    assert judge.features(x_test[:7]).shape == (7, 128)


def test_real_digits_pass_and_blank_images_fail(judge, digits):
    _, _, x_test, _ = digits
    real = judge.report(x_test[::2], real=x_test[1::2])
    assert real.count == 500 and real.frechet_sample_size == 250
    # A judge trained for seconds is cautious: most real digits, not all, pass.
    assert real.recognisable > 0.75
    assert real.rarest_class_share > 0.05
    assert real.class_entropy > 0.95 * math.log(10)
    # Real against real: within a small factor of the floor, which is itself real vs real.
    assert real.frechet < 3 * real.frechet_floor
    blank = judge.report(np.zeros((300, 28, 28, 1), "float32"), real=x_test)
    assert blank.rarest_class_share == 0.0 and blank.class_entropy == pytest.approx(0.0)
    assert blank.frechet > 10 * blank.frechet_floor
    assert blank.predictions.shape == blank.confidences.shape == (300,)
    assert np.all(blank.predictions == blank.predictions[0])


def test_judge_errors(judge, digits):
    x_train, y_train, x_test, _ = digits
    with pytest.raises(ValueError, match="needs labelled images"):
        Judge.fit(x_train, None)
    with pytest.raises(ValueError, match=r"one class per image, shape \(2000,\); got \(10,\)"):
        Judge.fit(x_train, y_train[:10])
    with pytest.raises(
        ValueError, match=r"`generated` of shape \(None, 28, 28, 1\); got \(5, 784\)"
    ):
        judge.report(x_test[:5].reshape(5, 784), real=x_test)
    with pytest.raises(ValueError, match="pixel values in \\[0, 1\\]"):
        judge.report(x_test[:5] * 255, real=x_test)
    with pytest.raises(TypeError, match="integer"):
        judge.classify((x_test[:5] * 255).astype("uint8"))
    with pytest.raises(ValueError, match="at least 2 classes"):
        Judge.fit(x_train[:20], np.zeros(20, int))
    assert evaluation.RECOGNISABLE_PROBABILITY == 0.9
