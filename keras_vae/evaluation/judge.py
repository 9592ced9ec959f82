"""A judge of generated images: a small classifier trained on the user's labelled real images.

For a batch of generated images the judge reports how many it would call a clear example of
some class (its top probability above `RECOGNISABLE_PROBABILITY`), how evenly the classes
come out, and the Frechet distance between its penultimate features of the generated
images and of held-out real images (the FID formula on the judge's own features), beside
the same distance between two sets of real images of the same size: the floor that a
perfect generator would reach.

Example:
<!-- skip: trains the judge's classifier -->
```python
judge = Judge.fit(x_train, y_train, seed=0)
report = judge.report(vae.sample(1000, seed=0), real=x_test)
print(report.recognisable, report.rarest_class_share, report.frechet, report.frechet_floor)
```
"""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from keras_vae import validation
from keras_vae.evaluation.frechet import frechet_distance_of_features

# A generated image counts as recognisable when the judge gives one class more than this.
RECOGNISABLE_PROBABILITY = 0.9


@dataclasses.dataclass
class GenerationReport:
    """What the judge says of `count` generated images.

    Attributes:
        count: int. Images judged.
        recognisable: float. Share with a top probability above `RECOGNISABLE_PROBABILITY`.
        class_shares: float array `(num_classes,)`. Share of the images in each class.
        rarest_class_share: float. The smallest entry of `class_shares`.
        class_entropy: float. Entropy of `class_shares` in nats (`log(num_classes)` when
            every class comes out equally often).
        frechet: float. Frechet distance from the held-out real images' features.
        frechet_floor: float. The same distance for real images, at the same sample size.
        frechet_sample_size: int. Images on each side of the two distances.
        predictions: int array `(count,)`. The judge's class for each image.
        confidences: float array `(count,)`. Its probability for that class.
    """

    count: int
    recognisable: float
    class_shares: np.ndarray
    rarest_class_share: float
    class_entropy: float
    frechet: float
    frechet_floor: float
    frechet_sample_size: int
    predictions: np.ndarray
    confidences: np.ndarray


def _check_images(images, input_shape, name: str, owner: str) -> np.ndarray:
    array = validation.as_float_array(images, name, input_shape, owner)
    validation.check_unit_range(array, name, owner)
    return array


def _build_network(input_shape, num_classes: int, seed: int) -> keras.Model:
    """Two conv blocks and a 128-unit feature layer; every random choice comes from `seed`."""
    seeds = iter(range(seed * 100, seed * 100 + 100))

    def init():
        return keras.initializers.GlorotUniform(seed=next(seeds))

    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init())(
        inputs
    )
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init())(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.3, seed=next(seeds))(x)
    features = keras.layers.Dense(
        128, activation="relu", kernel_initializer=init(), name="features"
    )(x)
    x = keras.layers.Dropout(0.3, seed=next(seeds))(features)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_initializer=init(), name="probabilities"
    )(x)
    return keras.Model(inputs, [outputs, features], name="judge")


class Judge:
    """A seeded classifier of real images that judges generated ones. Build it with `fit`.

    Args:
        network: `keras.Model` mapping images to `[probabilities, features]`.
        num_classes: int. Number of classes.
        seed: int. Seed of training and of the real-image split in `report`.
    """

    def __init__(self, network: keras.Model, num_classes: int, seed: int = 0):
        self.network = network
        self.num_classes = int(num_classes)
        self.input_shape = tuple(int(d) for d in network.input_shape[1:])
        self.seed = int(seed)
        self.accuracy = None

    @classmethod
    def fit(
        cls,
        images,
        labels,
        epochs: int = 10,
        batch_size: int = 64,
        seed: int = 0,
        validation_data=None,
        verbose: int = 0,
    ) -> "Judge":
        """Trains a judge on labelled real images `(n, H, W, C)` in [0, 1].

        The same `seed` gives the same judge: weights, dropout and the order of the examples
        all come from it (on the same machine and TensorFlow build).

        Args:
            images: float array `(n, H, W, C)` in [0, 1].
            labels: int array `(n,)` of classes `0 .. num_classes - 1`.
            epochs: int. Defaults to `10`.
            batch_size: int. Defaults to `64`.
            seed: int. Defaults to `0`.
            validation_data: `(images, labels)` or None. Held-out real images; the judge's
                accuracy on them is kept as `judge.accuracy`.
            verbose: int. `1` shows a progress bar. Defaults to `0`.
        """
        owner = "Judge.fit()"
        epochs = validation.check_positive_int(epochs, "epochs", owner)
        batch_size = validation.check_positive_int(batch_size, "batch_size", owner)
        images = np.asarray(images)
        if images.ndim < 3:
            raise ValueError(
                f"{owner} expects `images` of shape (n, height, width, channels); got"
                f" {images.shape}."
            )
        images = _check_images(images, images.shape[1:], "images", owner)
        labels = cls._check_labels(labels, len(images), owner)
        num_classes = int(labels.max()) + 1
        if len(np.unique(labels)) < 2:
            raise ValueError(
                f"{owner} expects labels of at least 2 classes; got {np.unique(labels)}."
            )
        network = _build_network(images.shape[1:], num_classes, seed)
        network.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=[keras.losses.SparseCategoricalCrossentropy(), None],
        )
        dataset = (
            tf.data.Dataset.from_tensor_slices((images, labels))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
        )
        network.fit(dataset, epochs=epochs, verbose=verbose, shuffle=False)
        judge = cls(network, num_classes, seed)
        if validation_data is not None:
            x_valid, y_valid = validation_data
            predicted, _ = judge.classify(x_valid)
            y_valid = cls._check_labels(y_valid, len(predicted), owner)
            judge.accuracy = float(np.mean(predicted == y_valid))
        return judge

    @staticmethod
    def _check_labels(labels, count: int, owner: str) -> np.ndarray:
        if labels is None:
            raise ValueError(
                f"{owner} needs labelled images: the judge learns the classes from them; got"
                " labels=None."
            )
        array = np.asarray(labels)
        if array.ndim != 1 or len(array) != count:
            raise ValueError(
                f"{owner} expects `labels` as one class per image, shape ({count},); got"
                f" {array.shape}."
            )
        if not np.issubdtype(array.dtype, np.integer) or array.min() < 0:
            raise ValueError(
                f"{owner} expects `labels` as ints 0 .. num_classes - 1; got dtype {array.dtype}"
                f" with values in [{array.min()}, {array.max()}]."
            )
        return array.astype("int64")

    def _outputs(self, images, name: str, owner: str):
        images = _check_images(images, self.input_shape, name, owner)
        probabilities, features = self.network.predict(images, batch_size=500, verbose=0)
        return probabilities.astype("float64"), features.astype("float64")

    def classify(self, images) -> tuple:
        """The judge's class `(n,)` and its probability `(n,)` for each image."""
        probabilities, _ = self._outputs(images, "images", "Judge.classify()")
        return probabilities.argmax(axis=1), probabilities.max(axis=1)

    def features(self, images) -> np.ndarray:
        """The judge's penultimate features `(n, 128)` of images."""
        return self._outputs(images, "images", "Judge.features()")[1]

    def report(self, generated, real) -> GenerationReport:
        """Judges `generated` images against held-out `real` ones (not used to train the judge).

        The real images are shuffled (seeded) and split: `m = min(len(generated),
        len(real) // 2)` of them are the floor's sample, the rest the reference. The Frechet
        distance compares `m` generated images (a seeded random subset) with the reference;
        the floor compares the `m` real ones with the same reference.
        """
        owner = "Judge.report()"
        probabilities, generated_features = self._outputs(generated, "generated", owner)
        _, real_features = self._outputs(real, "real", owner)
        if len(real_features) < 4:
            raise ValueError(f"{owner} expects at least 4 `real` images; got {len(real_features)}.")
        predictions = probabilities.argmax(axis=1)
        confidences = probabilities.max(axis=1)
        shares = np.bincount(predictions, minlength=self.num_classes) / len(predictions)
        nonzero = shares[shares > 0]
        m = max(2, min(len(generated_features), len(real_features) // 2))
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(real_features))
        floor_sample, reference = real_features[order[:m]], real_features[order[m:]]
        # A random subset, not the first m: generated images may come ordered by class.
        generated_sample = generated_features[rng.permutation(len(generated_features))[:m]]
        return GenerationReport(
            count=len(predictions),
            recognisable=float(np.mean(confidences > RECOGNISABLE_PROBABILITY)),
            class_shares=shares,
            rarest_class_share=float(shares.min()),
            class_entropy=float(-(nonzero * np.log(nonzero)).sum()),
            frechet=frechet_distance_of_features(generated_sample, reference),
            frechet_floor=frechet_distance_of_features(floor_sample, reference),
            frechet_sample_size=m,
            predictions=predictions,
            confidences=confidences,
        )

    @property
    def max_entropy(self) -> float:
        """The class entropy of a perfectly even mix, `log(num_classes)`."""
        return math.log(self.num_classes)
