"""Evaluation against exact answers: log p(x) by quadrature on a 1-D latent model, ROC AUC
by counting pairs, KL and activity from the encoder outputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae import evaluation


def _tiny_vae(seed=0):
    """A VAE on 8 binary features with a 1-D latent: log p(x) is a 1-D integral."""
    keras.utils.set_random_seed(seed)
    encoder = keras_vae.Encoder(
        latent_dim=1, input_shape=(8,), architecture="dense", dense_units=(16,)
    )
    decoder = keras_vae.Decoder(
        latent_dim=1, output_shape=(8,), architecture="dense", dense_units=(16,)
    )
    # N(0, I): the exact likelihood below integrates against the standard normal.
    return keras_vae.VAE(
        encoder,
        decoder,
        latent_dim=1,
        input_shape=(8,),
        architecture="dense",
        seed=seed,
        prior="standard_normal",
    )


def _binary_data(n, seed=0):
    """Noisy copies of two prototypes: a 1-D latent can explain them."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((2, 8)) < 0.5
    chosen = prototypes[rng.integers(0, 2, n)]
    return np.where(rng.random((n, 8)) < 0.1, ~chosen, chosen).astype("float32")


def exact_log_likelihood(model, x):
    """log p(x) = log of the integral of p(x | z) N(z; 0, 1) dz, by the rectangle rule on a
    fine grid (the integrand is smooth and negligible beyond |z| = 12)."""
    grid = np.linspace(-12.0, 12.0, 48001)
    logits = keras.ops.convert_to_numpy(model.decoder(grid[:, None].astype("float32")))
    logits = logits.astype("float64")
    log_px_z = (x[:, None, :] * logits[None] - np.logaddexp(0.0, logits)[None]).sum(-1)
    log_joint = log_px_z - 0.5 * (np.log(2 * np.pi) + grid**2)[None]
    peak = log_joint.max(axis=1, keepdims=True)
    integral = np.exp(log_joint - peak).sum(axis=1) * (grid[1] - grid[0])
    return peak[:, 0] + np.log(integral)


@pytest.fixture(scope="module")
def trained_tiny():
    model = _tiny_vae()
    x = _binary_data(256)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    model.fit(x, epochs=60, batch_size=64, verbose=0)
    return model, x[:32]


def test_iw_estimate_matches_quadrature(trained_tiny):
    model, x = trained_tiny
    exact = exact_log_likelihood(model, x)
    estimate = evaluation.log_likelihood(model, x, num_samples=2000, seed=1, verbose=0)
    # Measured: mean error ~0.004 nats, worst example ~0.04 nats.
    assert abs(np.mean(estimate - exact)) < 0.02
    np.testing.assert_allclose(estimate, exact, atol=0.15)


def test_chunking_does_not_change_the_estimate(trained_tiny):
    model, x = trained_tiny
    exact = exact_log_likelihood(model, x)
    # 37 does not divide 2000: the last chunk is shorter, the running log-sum-exp joins them.
    chunked = evaluation.log_likelihood(
        model, x, num_samples=2000, samples_per_chunk=37, batch_size=11, seed=2, verbose=0
    )
    assert abs(np.mean(chunked - exact)) < 0.02
    same_seed = evaluation.log_likelihood(
        model, x, num_samples=2000, samples_per_chunk=37, batch_size=11, seed=2, verbose=0
    )
    np.testing.assert_array_equal(chunked, same_seed)


def test_bound_tightens_with_more_samples():
    # An untrained encoder is a poor proposal, so the gap to log p(x) is large at K = 1
    # and closes as K grows; the means are averaged over 64 examples.
    model = _tiny_vae(seed=3)
    for weight in model.decoder.weights:
        weight.assign(weight * 3.0)
    x = _binary_data(64, seed=3)
    exact = exact_log_likelihood(model, x).mean()
    bounds = [
        evaluation.log_likelihood(model, x, num_samples=k, seed=4, verbose=0).mean()
        for k in (1, 10, 100, 1000)
    ]
    assert bounds[0] < bounds[1] < bounds[2]
    assert all(bound < exact + 0.02 for bound in bounds)
    assert exact - bounds[-1] < 0.3 * (exact - bounds[0])


def test_elbo_terms(trained_tiny):
    model, x = trained_tiny
    terms = evaluation.elbo(model, x, num_samples=50, seed=0)
    z_mean, z_log_var = model.encode(x)
    expected_kl = 0.5 * (z_mean**2 + np.exp(z_log_var) - 1 - z_log_var).sum(-1)
    np.testing.assert_allclose(terms["kl_loss"], expected_kl, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(terms["loss"], terms["reconstruction_loss"] + terms["kl_loss"])
    # -ELBO >= -log p(x), on average over the Monte Carlo noise of the reconstruction term.
    assert np.mean(-terms["loss"]) <= np.mean(exact_log_likelihood(model, x)) + 0.01


def test_dataset_input_gives_the_same_numbers(trained_tiny):
    model, x = trained_tiny
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(len(x)))).batch(10)
    from_array = evaluation.log_likelihood(
        model, x, num_samples=20, batch_size=10, seed=5, verbose=0
    )
    from_dataset = evaluation.log_likelihood(model, dataset, num_samples=20, seed=5, verbose=0)
    np.testing.assert_allclose(from_dataset, from_array, rtol=1e-6)


def test_latent_statistics(trained_tiny):
    model, x = trained_tiny
    z_mean, z_log_var = model.encode(x)
    stats = evaluation.latent_statistics(model, x, batch_size=7)
    np.testing.assert_allclose(stats["activity"], z_mean.astype("float64").var(axis=0), rtol=1e-4)
    kl = 0.5 * (z_mean**2 + np.exp(z_log_var) - 1 - z_log_var)
    np.testing.assert_allclose(stats["kl_per_dimension"], kl.mean(axis=0), rtol=1e-4)
    assert evaluation.active_units(model, x) == int((z_mean.var(axis=0) > 0.01).sum()) == 1
    assert evaluation.active_units(model, x, threshold=1e6) == 0


def test_anomaly_scores(trained_tiny):
    model, x = trained_tiny
    rng = np.random.default_rng(0)
    outliers = (rng.random((32, 8)) < 0.5).astype("float32")
    for method in ("elbo", "iw"):
        inlier_scores = evaluation.anomaly_scores(model, x, method=method, seed=0)
        outlier_scores = evaluation.anomaly_scores(model, outliers, method=method, seed=0)
        labels = np.r_[np.zeros(32), np.ones(32)]
        assert evaluation.roc_auc(labels, np.r_[inlier_scores, outlier_scores]) > 0.8
    with pytest.raises(ValueError, match="method"):
        evaluation.anomaly_scores(model, x, method="mahalanobis")


def test_roc_auc_counts_pairs():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.normal(size=200) + labels, 1)  # rounding makes ties
    positive, negative = scores[labels == 1], scores[labels == 0]
    greater = (positive[:, None] > negative[None]).sum()
    ties = (positive[:, None] == negative[None]).sum()
    expected = (greater + 0.5 * ties) / (len(positive) * len(negative))
    assert evaluation.roc_auc(labels, scores) == pytest.approx(expected)
    assert evaluation.roc_auc([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0
    assert evaluation.roc_auc([0, 0, 1, 1], [4, 3, 2, 1]) == 0.0
    with pytest.raises(ValueError, match="both classes"):
        evaluation.roc_auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="binary"):
        evaluation.roc_auc([0, 2], [0.1, 0.2])


def test_bad_inputs(trained_tiny):
    model, x = trained_tiny
    with pytest.raises(TypeError, match="VAE"):
        evaluation.log_likelihood(keras_vae.AutoEncoder(latent_dim=2), x)
    with pytest.raises(ValueError, match="num_samples"):
        evaluation.log_likelihood(model, x, num_samples=0)
    with pytest.raises(ValueError, match=r"shape \(None, 8\)"):
        evaluation.elbo(model, x[:, :4])
    with pytest.raises(ValueError, match="labels"):
        evaluation.elbo(model, x, labels=np.zeros(len(x), int))


@pytest.mark.large
def test_mnist_against_notmnist(mnist_sample, mnist_test_set, notmnist_test_set):
    """The README's worked example: a VAE trained on MNIST scores notMNIST letters as
    anomalies."""
    images, _ = mnist_sample
    keras.utils.set_random_seed(0)
    model = keras_vae.VAE(latent_dim=8, architecture="dense", seed=0)
    model.compile()
    model.fit(images, epochs=5, batch_size=128, verbose=0)
    digits, letters = mnist_test_set[0][:500], notmnist_test_set[:500]
    labels = np.r_[np.zeros(len(digits)), np.ones(len(letters))]
    aucs = {}
    for method, num_samples in (("elbo", 1), ("iw", 50)):
        scores = np.r_[
            evaluation.anomaly_scores(model, digits, method, num_samples=num_samples, seed=0),
            evaluation.anomaly_scores(model, letters, method, num_samples=num_samples, seed=0),
        ]
        aucs[method] = evaluation.roc_auc(labels, scores)
    print("MNIST vs notMNIST ROC AUC:", aucs)
    assert aucs["elbo"] > 0.9 and aucs["iw"] > 0.9
