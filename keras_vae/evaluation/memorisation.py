"""Do generated images copy the training images? The distance to the nearest one."""

import numpy as np
from sklearn.neighbors import NearestNeighbors

from keras_vae.validation import as_float_array


def nearest_neighbour_distances(images, reference) -> np.ndarray:
    """The Euclidean pixel distance from each of `images` to its nearest image in `reference`.

    A sampler that memorises draws images closer to the training set than new images of
    the same kind are. Decoded images are smoother than real ones, which alone brings them
    closer to everything, so read the mean for generated images against the mean for the
    model's reconstructions of held-out images (`nearest_neighbour_distances(
    model.reconstruct(x_test), x_train)`): a sampler that makes new images sits near that
    floor, one that copies far under it. The search is scikit-learn's exact
    `NearestNeighbors`.

    Args:
        images: float array `(n, *image_shape)`, finite.
        reference: float array `(m, *image_shape)` of the same image shape, finite; usually
            the training images.

    Returns:
        float64 array `(n,)`.

    Example:
    ```python
    from keras_vae import evaluation

    drawn = evaluation.nearest_neighbour_distances(vae.sample(1000, seed=0), x_train)
    floor = evaluation.nearest_neighbour_distances(vae.reconstruct(x_test), x_train)
    print(drawn.mean(), floor.mean())  # much lower than the floor: the draws copy
    ```
    """
    method = "nearest_neighbour_distances()"
    reference = np.asarray(reference)
    shape = tuple(reference.shape[1:])
    reference = as_float_array(reference, "reference", shape, method)
    if not shape:
        raise ValueError(
            f"{method} expects `reference` as a batch of images (m, *image_shape); got shape"
            f" {reference.shape}."
        )
    images = as_float_array(images, "images", shape, method)
    search = NearestNeighbors(n_neighbors=1).fit(reference.reshape(len(reference), -1))
    distances, _ = search.kneighbors(images.reshape(len(images), -1))
    return distances[:, 0].astype("float64")
