"""The learned class-conditional prior p(z | y): its density against scipy, the closed-form KL
against scipy's Monte Carlo, the likelihood and sampling through a ConditionalVAE, saving,
and the errors."""

import keras
import numpy as np
import pytest
from keras_test_case import run_layer_test
from scipy import stats
from scipy.special import logsumexp

import keras_vae
from keras_vae import evaluation, losses
from keras_vae.export import inputs as export_inputs
from keras_vae.samplers import GaussianMixtureSampler

C = 3  # classes in the small models here


def _set_prior(prior, means, log_vars, logits):
    prior.set_parameters(
        np.asarray(means, "float32"), np.asarray(log_vars, "float32"), np.asarray(logits, "float32")
    )


def _random_parameters(rng, c, k, d):
    return rng.normal(size=(c, k, d)), rng.normal(size=(c, k, d)) * 0.5, rng.normal(size=(c, k))


def _model(latent_dim=2, num_components=1, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    prior = keras_vae.ClassConditionalPrior(latent_dim, C, num_components=num_components, seed=seed)
    return keras_vae.ConditionalVAE(
        num_classes=C, latent_dim=latent_dim, architecture="dense", prior=prior, seed=seed, **kwargs
    )


def test_gaussian_kl_divergence_matches_scipy_monte_carlo():
    rng = np.random.default_rng(0)
    mq, lq, mp, lp = (rng.normal(size=(4, 3)) * 0.7 for _ in range(4))
    got = keras.ops.convert_to_numpy(losses.gaussian_kl_divergence(mq, lq, mp, lp))
    q = stats.norm(mq, np.exp(0.5 * lq))
    p = stats.norm(mp, np.exp(0.5 * lp))
    z = q.rvs(size=(200_000, 4, 3), random_state=1)
    expected = np.mean(q.logpdf(z).sum(-1) - p.logpdf(z).sum(-1), axis=0)
    np.testing.assert_allclose(got, expected, atol=0.02)
    # Against N(0, I) it is the standard KL term.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(losses.gaussian_kl_divergence(mq, lq, 0.0 * mp, 0.0 * lp)),
        keras.ops.convert_to_numpy(losses.kl_divergence(mq, lq)),
        rtol=1e-6,
    )


def test_log_prob_matches_scipy_for_each_class():
    rng = np.random.default_rng(0)
    k, d = 2, 3
    prior = keras_vae.ClassConditionalPrior(d, C, num_components=k)
    means, log_vars, logits = _random_parameters(rng, C, k, d)
    _set_prior(prior, means, log_vars, logits)
    labels = np.array([0, 2, 1, 2, 0])
    z = rng.normal(size=(len(labels), d))
    expected = []
    for row, y in zip(z, labels):
        log_w = logits[y] - logsumexp(logits[y])
        expected.append(
            logsumexp(
                [
                    log_w[j]
                    + stats.multivariate_normal(
                        means[y, j], np.diag(np.exp(log_vars[y, j]))
                    ).logpdf(row)
                    for j in range(k)
                ]
            )
        )
    one_hot = np.eye(C, dtype="float32")[labels]
    got = keras.ops.convert_to_numpy(prior.log_prob(z.astype("float32"), one_hot))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # Leading sample axes broadcast over the batch, as the IWAE pass needs: (s, batch, d).
    stacked = np.stack([z, z + 1.0]).astype("float32")
    got = keras.ops.convert_to_numpy(prior.log_prob(stacked, one_hot))
    assert got.shape == (2, len(labels))
    np.testing.assert_allclose(got[0], expected, rtol=1e-5)


def test_closed_form_kl_equals_the_kl_to_the_class_gaussian():
    rng = np.random.default_rng(1)
    prior = keras_vae.ClassConditionalPrior(3, C)
    means, log_vars, logits = _random_parameters(rng, C, 1, 3)
    _set_prior(prior, means, log_vars, logits)
    labels = np.array([2, 0, 1, 1])
    z_mean, z_log_var = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) * 0.3
    got = keras.ops.convert_to_numpy(
        prior.kl_divergence(
            z_mean.astype("float32"), z_log_var.astype("float32"), np.eye(C)[labels]
        )
    )
    m, v = means[labels, 0], np.exp(log_vars[labels, 0])
    expected = 0.5 * np.sum(
        np.log(v) - z_log_var + (np.exp(z_log_var) + (z_mean - m) ** 2) / v - 1.0, axis=-1
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="num_components=1 only; got num_components=2"):
        keras_vae.ClassConditionalPrior(3, C, num_components=2).kl_divergence(
            z_mean, z_log_var, np.eye(C)[labels]
        )


def test_layer_contract(tmp_path):
    rng = np.random.default_rng(0)
    run_layer_test(
        keras_vae.ClassConditionalPrior,
        {
            "latent_dim": 3,
            "num_classes": C,
            "num_components": 2,
            "learning_rate_multiplier": 5.0,
            "seed": 2,
        },
        [
            rng.normal(size=(5, 3)).astype("float32"),
            np.eye(C, dtype="float32")[rng.integers(0, C, 5)],
        ],
        (5,),
        tmp_path,
        mixed_precision_compute_dtype="float32",  # a prior is float32 under any policy
    )


def test_the_models_kl_term_is_the_closed_form(mnist_sample):
    model = _model(latent_dim=2)
    rng = np.random.default_rng(0)
    _set_prior(model.prior, *_random_parameters(rng, C, 1, 2))
    images = mnist_sample[0][:6]
    one_hot = np.eye(C, dtype="float32")[np.arange(6) % C]
    encoded = model.encode_tensors(images, one_hot)
    z_mean, z_log_var = (keras.ops.convert_to_numpy(t) for t in encoded)
    _, terms = model.compute_losses(
        keras.ops.convert_to_tensor(images), condition=keras.ops.convert_to_tensor(one_hot)
    )
    expected = model.prior.kl_divergence(z_mean, z_log_var, one_hot)
    np.testing.assert_allclose(terms["kl_loss"], expected, rtol=1e-6)
    # The Monte Carlo KL of `evaluation.elbo` (log q - log p over the draws) averages to it.
    estimate = evaluation.elbo(model, images, labels=np.arange(6) % C, num_samples=4000, seed=0)
    np.testing.assert_allclose(estimate["kl_loss"], expected, atol=0.1)


def test_standard_normal_classes_give_the_standard_likelihood(mnist_sample):
    """Every class at N(0, I): the same IWAE estimate as the model with the prior N(0, I)."""
    images, labels = mnist_sample[0][:6], np.arange(6) % C
    learned = _model(latent_dim=2)
    keras.utils.set_random_seed(0)
    standard = keras_vae.ConditionalVAE(
        num_classes=C, latent_dim=2, architecture="dense", prior=None, seed=0
    )
    for network in ("encoder", "decoder"):
        for source, target in zip(
            getattr(standard, network).weights, getattr(learned, network).weights
        ):
            target.assign(source)
    _set_prior(learned.prior, np.zeros((C, 1, 2)), np.zeros((C, 1, 2)), np.zeros((C, 1)))
    np.testing.assert_allclose(
        evaluation.log_likelihood(learned, images, labels, num_samples=64, seed=3, verbose=0),
        evaluation.log_likelihood(standard, images, labels, num_samples=64, seed=3, verbose=0),
        rtol=1e-5,
    )


def test_sampling_draws_from_the_prior_of_each_label():
    model = _model(latent_dim=2, num_components=2)
    means = np.array([[[5.0, 5.0], [5.0, -5.0]], [[-5.0, 0.0]] * 2, [[0.0, 9.0]] * 2])
    _set_prior(model.prior, means, np.full((C, 2, 2), np.log(0.01)), [[4.0, 0.0], [0, 0], [0, 0]])
    labels = np.arange(3000) % C
    z = model.prior_latents(3000, seed=0, labels=labels)
    assert np.linalg.norm(z[labels == 1] - [-5.0, 0.0], axis=1).max() < 1.0
    assert np.linalg.norm(z[labels == 2] - [0.0, 9.0], axis=1).max() < 1.0
    # Class 0's components weigh e^4 : 1.
    near_first = np.linalg.norm(z[labels == 0] - [5.0, 5.0], axis=1) < 1.0
    assert abs(near_first.mean() - np.exp(4) / (np.exp(4) + 1)) < 0.03
    np.testing.assert_array_equal(
        model.prior_latents(5, seed=1, labels=2), model.prior_latents(5, seed=1, labels=2)
    )
    sampler = model.prior_sampler(temperature=0.5, label=2)
    assert isinstance(sampler, GaussianMixtureSampler)
    np.testing.assert_allclose(sampler.scale_tril[0], 0.5 * 0.1 * np.eye(2), rtol=1e-5)
    assert np.linalg.norm(sampler.sample(50, seed=0) - [0.0, 9.0], axis=1).max() < 1.0
    # Export calibrates on latents from each label's prior.
    calibration = export_inputs.prior_inputs(model, 30, np.random.default_rng(0))
    from_label = calibration["labels"].argmax(axis=1)
    assert np.linalg.norm(calibration["z"][from_label == 2] - [0.0, 9.0], axis=1).max() < 1.0


def test_trains_saves_and_loads_with_identical_outputs(mnist_sample, tmp_path):
    images, labels = mnist_sample[0][:128], mnist_sample[1][:128] % C
    model = _model(latent_dim=3)
    model.compile()
    before = keras.ops.convert_to_numpy(model.prior.parameters()[0])
    history = model.fit(images, labels, epochs=1, batch_size=32, verbose=0)
    assert all(np.isfinite(history.history[name][0]) for name in model.loss_names)
    assert not np.array_equal(before, keras.ops.convert_to_numpy(model.prior.parameters()[0]))

    path = tmp_path / "class_prior.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded.prior, keras_vae.ClassConditionalPrior)
    z = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    one_hot = np.eye(C, dtype="float32")[[0, 1, 2, 0]]
    for a, b in [
        (reloaded.sample(6, labels=2, seed=0), model.sample(6, labels=2, seed=0)),
        (reloaded.decode(z, [0, 1, 2, 0]), model.decode(z, [0, 1, 2, 0])),
        (reloaded.prior_log_density(z, one_hot), model.prior_log_density(z, one_hot)),
    ]:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_bad_priors_are_refused():
    with pytest.raises(ValueError, match="VAE expects `prior` without a condition.*got a Class"):
        keras_vae.VAE(latent_dim=2, prior=keras_vae.ClassConditionalPrior(2, C))
    with pytest.raises(ValueError, match="num_classes 10 .*num_classes 3"):
        keras_vae.ConditionalVAE(latent_dim=2, prior=keras_vae.ClassConditionalPrior(2, C))
    with pytest.raises(ValueError, match="latent_dim 4 .*latent_dim 2"):
        keras_vae.ConditionalVAE(
            num_classes=C, latent_dim=4, prior=keras_vae.ClassConditionalPrior(2, C)
        )
    with pytest.raises(ValueError, match="num_classes.*int >= 2; got 1"):
        keras_vae.ClassConditionalPrior(2, 1)
    with pytest.raises(ValueError, match="num_components.*got 0"):
        keras_vae.ClassConditionalPrior(2, C, num_components=0)
    with pytest.raises(ValueError, match="learning_rate_multiplier.*got 0"):
        keras_vae.ClassConditionalPrior(2, C, learning_rate_multiplier=0)
    prior = keras_vae.ClassConditionalPrior(2, C)
    with pytest.raises(ValueError, match=r"one-hot rows \(batch, 3\); got \(4, 10\)"):
        prior.log_prob(np.zeros((4, 2), "float32"), np.zeros((4, 10), "float32"))
    with pytest.raises(ValueError, match=r"`label` as an int in \[0, 3\); got 3"):
        prior.component_parameters(3)
    model = _model()
    with pytest.raises(ValueError, match="needs `label`.*got None"):
        model.prior_sampler()
    with pytest.raises(ValueError, match="one label per example"):
        model.prior_latents(4, labels=[0, 1])


@pytest.mark.parametrize("latent_dim, components", [(1, 1), (2, 1), (3, 10), (16, 10)])
def test_the_default_conditional_vae_learns_a_prior_per_class(latent_dim, components):
    # One Gaussian per class for codes of up to two dimensions, a mixture of ten above.
    model = keras_vae.ConditionalVAE(
        num_classes=C, latent_dim=latent_dim, architecture="dense", seed=3
    )
    assert model.label_injection == "input"
    assert isinstance(model.prior, keras_vae.ClassConditionalPrior)
    assert (model.prior.num_classes, model.prior.num_components) == (C, components)
    assert model.prior.latent_dim == latent_dim
    assert model.prior.seed == 3
    standard = keras_vae.ConditionalVAE(num_classes=C, latent_dim=2, prior="standard_normal")
    assert isinstance(standard.prior, keras_vae.priors.StandardNormalPrior)
    assert standard.get_config()["prior"] is None


def test_temperature_scales_the_class_prior():
    model = _model(latent_dim=2)
    _set_prior(model.prior, np.full((C, 1, 2), 3.0), np.zeros((C, 1, 2)), np.zeros((C, 1)))
    full = model.prior_latents(4000, seed=0, labels=1)
    cool = model.prior_latents(4000, seed=0, labels=1, temperature=0.5)
    np.testing.assert_allclose(cool - 3.0, 0.5 * (full - 3.0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(full.std(axis=0), [1.0, 1.0], atol=0.05)
    images = model.sample(3, labels=1, seed=0, temperature=0.5)
    latents = model.prior_latents(3, seed=0, labels=1, temperature=0.5)
    np.testing.assert_array_equal(images, model.decode(latents, 1))
    with pytest.raises(ValueError, match="temperature.*got 0"):
        model.sample(3, labels=1, temperature=0)
    with pytest.raises(ValueError, match="with a `sampler` set its own temperature"):
        model.sample(3, labels=1, sampler=model.prior_sampler(label=1), temperature=0.5)


def test_the_sample_command_draws_from_the_prior_of_the_label(tmp_path):
    from keras_vae import cli, saving

    model = _model(latent_dim=2)
    _set_prior(model.prior, np.full((C, 1, 2), 2.0), np.zeros((C, 1, 2)), np.zeros((C, 1)))
    saving.save_model(model, tmp_path / cli.MODEL_FILE)
    argv = ["sample", "--model", str(tmp_path / cli.MODEL_FILE), "--output-dir"]
    argv += [str(tmp_path / "drawn"), "--label", "2", "--n", "4", "--seed", "0"]
    assert cli.main([*argv, "--temperature", "0.5"]) == 0
    np.testing.assert_allclose(
        np.load(tmp_path / "drawn" / "samples.npy"),
        model.sample(4, labels=2, seed=0, temperature=0.5),
        atol=1e-6,
    )
