"""The Frechet distance between two Gaussians, as FID computes it on network features."""

import warnings

import numpy as np
import scipy.linalg

# Added to both covariances' diagonals when the product's square root is not finite: a
# feature that is constant over a sample makes a covariance singular.
SQRTM_JITTER = 1e-6


def gaussian_statistics(features, name: str = "features") -> tuple:
    """Mean `(d,)` and covariance `(d, d)` of feature vectors `(n, d)`, as float64.

    Args:
        features: array `(n, d)`. Feature vectors.
        name: str. The argument's name in error messages. Defaults to `"features"`.
    """
    array = np.asarray(features, dtype="float64")
    if array.ndim != 2 or len(array) < 2 or not np.isfinite(array).all():
        raise ValueError(
            f"gaussian_statistics() expects `{name}` as finite vectors (n >= 2, d); got shape"
            f" {array.shape}."
        )
    return array.mean(axis=0), np.atleast_2d(np.cov(array, rowvar=False))


def frechet_distance(mean1, cov1, mean2, cov2) -> float:
    """The Frechet (2-Wasserstein) distance between N(mean1, cov1) and N(mean2, cov2), squared:

    `||mean1 - mean2||^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2))` (Dowson and Landau, 1982),
    the formula of the FID (Heusel et al., 2017).

    Args:
        mean1: array `(d,)`. Mean of the first Gaussian.
        cov1: array `(d, d)`. Its covariance.
        mean2: array `(d,)`. Mean of the second Gaussian.
        cov2: array `(d, d)`. Its covariance.
    """
    mean1, mean2 = np.asarray(mean1, "float64"), np.asarray(mean2, "float64")
    cov1, cov2 = np.asarray(cov1, "float64"), np.asarray(cov2, "float64")
    d = mean1.shape[0] if mean1.ndim == 1 else -1
    for name, value, shape in (
        ("mean2", mean2, (d,)),
        ("cov1", cov1, (d, d)),
        ("cov2", cov2, (d, d)),
    ):
        if d < 1 or value.shape != shape:
            raise ValueError(
                f"frechet_distance() expects `mean1` (d,), `cov1` and `cov2` (d, d) and `mean2`"
                f" (d,); got `{name}` of shape {value.shape} for d = {d}."
            )
    with warnings.catch_warnings():
        # A singular product warns; the jittered retry below is the answer to it.
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            root = scipy.linalg.sqrtm(cov1 @ cov2)
        except scipy.linalg.LinAlgWarning:
            root = np.full((d, d), np.nan)
    if not np.isfinite(root).all():
        jitter = SQRTM_JITTER * np.eye(d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            root = scipy.linalg.sqrtm((cov1 + jitter) @ (cov2 + jitter))
    # Rounding leaves a tiny imaginary part on a matrix whose root is real.
    root = np.real(root)
    distance = np.sum(np.square(mean1 - mean2)) + np.trace(cov1 + cov2 - 2.0 * root)
    return float(max(distance, 0.0))


def frechet_distance_of_features(features1, features2) -> float:
    """The Frechet distance between Gaussians fitted to two sets of feature vectors.

    Args:
        features1: array `(n1, d)`. The first set of feature vectors.
        features2: array `(n2, d)`. The second set.
    """
    return frechet_distance(
        *gaussian_statistics(features1, "features1"), *gaussian_statistics(features2, "features2")
    )
