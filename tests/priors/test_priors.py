"""The `keras_vae.priors` package: every prior's density, KL term and mixture against closed
forms and SciPy; the models' one `sample` signature and their condition checks."""

import keras
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import keras_vae
from keras_vae import priors
from keras_vae.latent import GaussianMixture

SHAPE = (8, 8, 1)
D = 2
C = 3


def _vae(prior=None):
    return keras_vae.VAE(latent_dim=D, input_shape=SHAPE, architecture="dense", prior=prior, seed=0)


def _cvae(prior="class_conditional"):
    return keras_vae.ConditionalVAE(
        num_classes=C, latent_dim=D, input_shape=SHAPE, architecture="dense", prior=prior, seed=0
    )


def _mixture_prior(covariance="diagonal"):
    rng = np.random.default_rng(0)
    prior = priors.MixturePrior(D, num_components=3, seed=1, covariance=covariance)
    prior.set_parameters(rng.normal(size=(3, D)), rng.normal(0, 0.4, (3, D)), rng.normal(size=3))
    if covariance == "full":
        prior.precision_offdiagonal.assign(rng.normal(0, 0.5, (3, D, D)).astype("float32"))
    return prior


def _class_prior(components=1):
    rng = np.random.default_rng(1)
    prior = priors.ClassConditionalPrior(D, C, num_components=components, seed=2)
    shape = (C, components, D)
    prior.set_parameters(
        rng.normal(size=shape), rng.normal(0, 0.4, shape), rng.normal(size=shape[:2])
    )
    return prior


def _vamp_model():
    prior = priors.VampPrior(D, num_components=4, input_shape=SHAPE, seed=3)
    prior.set_pseudo_inputs(np.random.default_rng(2).uniform(size=(4, *SHAPE)))
    return _vae(prior)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor).astype("float64")


def _z(n=7):
    return np.random.default_rng(5).normal(size=(n, D)).astype("float32")


def _scipy_mixture_log_prob(z, means, covariances, weights):
    per_component = np.stack(
        [stats.multivariate_normal(m, c).logpdf(z) for m, c in zip(means, covariances)], axis=1
    )
    return logsumexp(per_component + np.log(weights), axis=1)


# Densities and mixtures ---------------------------------------------------------------------


def test_standard_normal_log_prob_and_mixture_match_scipy():
    prior = priors.StandardNormalPrior(D)
    z = _z()
    expected = stats.multivariate_normal(np.zeros(D), np.eye(D)).logpdf(z)
    np.testing.assert_allclose(_numpy(prior.log_prob(z)), expected, rtol=1e-5)
    np.testing.assert_allclose(prior.as_mixture().log_prob(z), expected, rtol=1e-10)
    assert prior.is_learned is False and prior.description == "N(0, I)"


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_mixture_prior_as_mixture_gives_its_density(covariance):
    prior = _mixture_prior(covariance)
    z = _z()
    mixture = prior.as_mixture()
    assert mixture.n_components == 3
    expected = _scipy_mixture_log_prob(z, mixture._means, mixture.covariances, mixture._weights)
    np.testing.assert_allclose(mixture.log_prob(z), expected, rtol=1e-8)
    np.testing.assert_allclose(_numpy(prior.log_prob(z)), expected, rtol=1e-5, atol=1e-5)
    # A condition changes nothing for a prior without classes.
    np.testing.assert_array_equal(
        _numpy(prior.log_prob(z, np.eye(C, dtype="float32")[[0] * 7])), _numpy(prior.log_prob(z))
    )


def test_vamp_prior_takes_its_components_from_the_models_encoder():
    model = _vamp_model()
    z = _z()
    means, log_vars = (_numpy(t) for t in model.encode_tensors(model.prior.pseudo_inputs()))
    covariances = np.stack([np.diag(np.exp(v)) for v in log_vars])
    expected = _scipy_mixture_log_prob(z, means, covariances, np.full(4, 0.25))
    np.testing.assert_allclose(_numpy(model.prior.log_prob(z)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.prior.as_mixture().log_prob(z), expected, rtol=1e-5)
    np.testing.assert_allclose(_numpy(model.prior_log_density(z)), expected, rtol=1e-5, atol=1e-5)


def test_vamp_prior_without_its_model_says_what_it_needs():
    prior = priors.VampPrior(D, num_components=4, input_shape=SHAPE)
    with pytest.raises(ValueError, match="needs the encoder of its model"):
        prior.log_prob(_z())
    means, log_vars = np.zeros((4, D), "float32"), np.zeros((4, D), "float32")
    with pytest.warns(DeprecationWarning, match="posterior_log_prob"):
        old = prior.log_prob(_z(), means, log_vars)
    np.testing.assert_array_equal(
        _numpy(old), _numpy(prior.posterior_log_prob(_z(), means, log_vars))
    )


@pytest.mark.parametrize("components", [1, 2])
def test_class_prior_as_mixture_gives_each_class_density(components):
    prior = _class_prior(components)
    z = _z(6)
    labels = np.arange(6) % C
    one_hot = np.eye(C, dtype="float32")[labels]
    got = _numpy(prior.log_prob(z, one_hot))
    for label in range(C):
        rows = labels == label
        mixture = prior.as_mixture(label)
        expected = _scipy_mixture_log_prob(
            z[rows], mixture._means, mixture.covariances, mixture._weights
        )
        np.testing.assert_allclose(mixture.log_prob(z[rows]), expected, rtol=1e-8)
        np.testing.assert_allclose(got[rows], expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="needs `condition`, the class.*got None"):
        prior.as_mixture()


# KL terms -----------------------------------------------------------------------------------


def _posterior(n=5):
    rng = np.random.default_rng(7)
    return rng.normal(size=(n, D)).astype("float32"), rng.normal(0, 0.5, (n, D)).astype("float32")


def _gaussian_kl(mean_q, log_var_q, mean_p, log_var_p):
    """KL between diagonal Gaussians, summed over the last axis (the textbook formula)."""
    return 0.5 * np.sum(
        log_var_p
        - log_var_q
        + (np.exp(log_var_q) + (mean_q - mean_p) ** 2) / np.exp(log_var_p)
        - 1.0,
        axis=-1,
    )


def test_standard_normal_kl_is_the_closed_form_and_splits_per_dimension():
    prior = priors.StandardNormalPrior(D)
    z_mean, z_log_var = _posterior()
    expected = _gaussian_kl(z_mean, z_log_var, 0.0, 0.0)
    np.testing.assert_allclose(_numpy(prior.kl(z_mean, z_log_var)), expected, rtol=1e-5)
    per_dimension = _numpy(prior.kl_per_dimension(z_mean, z_log_var))
    np.testing.assert_allclose(per_dimension.sum(axis=-1), expected, rtol=1e-5)


def test_class_prior_of_one_gaussian_has_the_closed_form_kl():
    prior = _class_prior(1)
    z_mean, z_log_var = _posterior(6)
    one_hot = np.eye(C, dtype="float32")[np.arange(6) % C]
    means, log_vars, _ = (_numpy(t) for t in prior.parameters())
    label = np.arange(6) % C
    expected = _gaussian_kl(z_mean, z_log_var, means[label, 0], log_vars[label, 0])
    got = _numpy(prior.kl(z_mean, z_log_var, condition=one_hot))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert prior.kl_per_dimension(z_mean, z_log_var) is None


@pytest.mark.parametrize("make", [_mixture_prior, lambda: _class_prior(2)])
def test_kl_without_a_closed_form_is_the_estimate_at_the_sample(make):
    prior = make()
    z_mean, z_log_var = _posterior(6)
    z = _z(6)
    condition = np.eye(C, dtype="float32")[np.arange(6) % C] if prior.is_conditional else None
    entropy = 0.5 * np.sum(1.0 + np.log(2 * np.pi) + z_log_var, axis=-1)
    expected = -entropy - _numpy(prior.log_prob(z, condition))
    got = _numpy(prior.kl(z_mean, z_log_var, z=z, condition=condition))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="posterior sample `z`.*got z=None"):
        prior.kl(z_mean, z_log_var, condition=condition)


# The model asks its prior ---------------------------------------------------------------------


def test_none_and_standard_normal_give_the_standard_normal_prior():
    for argument in (None, "standard_normal"):
        model = _vae(argument)
        assert isinstance(model.prior, priors.StandardNormalPrior)
        assert model.get_config()["prior"] is None
    with pytest.raises(ValueError, match="`prior` as None or 'standard_normal'.*got 'normal'"):
        _vae("normal")
    with pytest.raises(ValueError, match="`prior` as None or 'standard_normal'.*got int"):
        _vae(3)


def test_mixture_gives_the_default_learned_prior_seeded_with_the_model():
    model = _vae("mixture")
    assert isinstance(model.prior, priors.MixturePrior)
    assert model.prior.num_components == priors.DEFAULT_MIXTURE_COMPONENTS
    assert model.prior.covariance == priors.DEFAULT_MIXTURE_COVARIANCE
    assert model.prior.seed == 0
    # Seeded: the same model twice has the same initial prior.
    np.testing.assert_array_equal(
        _numpy(_vae("mixture").prior.parameters()[0]), _numpy(model.prior.parameters()[0])
    )


def test_prior_sampler_is_built_from_the_prior_mixture():
    model = _vae(_mixture_prior())
    mixture = model.prior.as_mixture()
    sampler = model.prior_sampler(temperature=0.5)
    np.testing.assert_allclose(sampler.means, mixture.means)
    np.testing.assert_allclose(sampler.scale_tril, 0.5 * mixture.scale_tril, rtol=1e-6)
    means, scale_tril, weights = model.prior_components()
    np.testing.assert_array_equal(means, mixture.means)
    cvae = _cvae()
    np.testing.assert_allclose(cvae.prior_sampler(label=2).means, cvae.prior.as_mixture(2).means)
    with pytest.raises(ValueError, match="needs `label`.*got None"):
        cvae.prior_sampler()


def test_refit_asks_the_prior():
    images = np.random.default_rng(0).uniform(size=(20, *SHAPE)).astype("float32")
    for model, name in ((_vae(), "N\\(0, I\\)"), (_vamp_model(), "VampPrior")):
        assert model.prior.can_refit is False
        with pytest.raises(ValueError, match=f"refits a MixturePrior; the model's prior is {name}"):
            model.refit_prior(images)
    model = _vae(_mixture_prior())
    fit = model.refit_prior(images, seed=0)
    assert fit["after"] >= fit["before"]


def test_priors_keep_their_registered_names_and_old_import_paths():
    from keras_vae.layers.class_prior import ClassConditionalPrior
    from keras_vae.layers.mixture_prior import MixturePrior
    from keras_vae.layers.vamp_prior import VampPrior

    assert (MixturePrior, VampPrior, ClassConditionalPrior) == (
        priors.MixturePrior,
        priors.VampPrior,
        priors.ClassConditionalPrior,
    )
    assert keras_vae.MixturePrior is priors.MixturePrior
    for cls in (MixturePrior, VampPrior, ClassConditionalPrior, priors.StandardNormalPrior):
        assert keras.saving.get_registered_name(cls) == f"keras_vae>{cls.__name__}"


@pytest.mark.parametrize(
    "make",
    [
        lambda: priors.StandardNormalPrior(D),
        _mixture_prior,
        lambda: _mixture_prior("full"),
        lambda: priors.VampPrior(D, num_components=4, input_shape=SHAPE, seed=1),
        lambda: _class_prior(2),
    ],
)
def test_each_prior_round_trips_its_config_and_weights(make, tmp_path):
    prior = make()
    config = prior.get_config()
    assert "dtype" not in config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(prior))
    assert type(restored) is type(prior) and restored.get_config() == config
    restored.set_weights(prior.get_weights())
    for got, expected in zip(restored.weights, prior.weights):
        np.testing.assert_array_equal(_numpy(got), _numpy(expected))


@pytest.mark.parametrize("kind", ["mixture", "vamp", "class"])
def test_models_with_each_prior_round_trip_with_identical_draws(kind, tmp_path):
    model = {"mixture": lambda: _vae(_mixture_prior()), "vamp": _vamp_model, "class": _cvae}[kind]()
    labels = {"labels": [0, 1, 2, 0]} if model.is_conditional else {}
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded.prior) is type(model.prior)
    np.testing.assert_array_equal(
        reloaded.sample(4, seed=1, **labels), model.sample(4, seed=1, **labels)
    )
    z = _z(4)
    condition = model.condition_from_labels(labels.get("labels"), 4)
    np.testing.assert_allclose(
        _numpy(reloaded.prior_log_density(z, condition)),
        _numpy(model.prior_log_density(z, condition)),
        rtol=1e-6,
    )


# One sample signature, one place for the condition ------------------------------------------


def test_old_positional_sample_forms_raise_naming_the_keyword():
    vae, cvae = _vae(), _cvae()
    autoencoder = keras_vae.AutoEncoder(latent_dim=D, input_shape=SHAPE, architecture="dense")
    for model in (vae, autoencoder):
        with pytest.raises(TypeError, match=r"only `n` by position.*seed=.*read as `seed`"):
            model.sample(4, 0)
    with pytest.raises(TypeError, match=r"only `n` by position.*labels=.*read as `labels`"):
        cvae.sample(4, 3)
    assert vae.sample(4, seed=0).shape == (4, *SHAPE)
    assert autoencoder.sample(4, seed=0, temperature=0.5).shape == (4, *SHAPE)


def test_autoencoder_sample_draws_n0i_scaled_by_temperature():
    autoencoder = keras_vae.AutoEncoder(latent_dim=D, input_shape=SHAPE, architecture="dense")
    z = GaussianMixture.standard_normal(D).with_temperature(0.5).sample(4, seed=2)
    np.testing.assert_array_equal(
        autoencoder.sample(4, seed=2, temperature=0.5), autoencoder.decode(z)
    )


def test_a_condition_given_to_an_unconditional_model_is_refused():
    vae = _vae()
    images = np.zeros((2, *SHAPE), "float32")
    z = _z(2)
    for call, method in (
        (lambda: vae.decode(z, labels=[0, 1]), "decode"),
        (lambda: vae.encode(images, labels=[0, 1]), "encode"),
        (lambda: vae.reconstruct(images, labels=[0, 1]), "reconstruct"),
        (lambda: vae.sample(2, labels=1), "sample"),
    ):
        with pytest.raises(ValueError, match=rf"VAE.{method}\(\) takes no `labels`"):
            call()
    # An int where `batch_size` went by position in earlier versions says so.
    with pytest.raises(ValueError, match="pass batch_size="):
        vae.decode(z, 128)
    np.testing.assert_array_equal(vae.decode(z, batch_size=1), vae.decode(z))


def test_a_missing_condition_for_a_conditional_model_is_refused():
    cvae = _cvae()
    images = np.zeros((2, *SHAPE), "float32")
    for call, method in (
        (lambda: cvae.decode(_z(2)), "decode"),
        (lambda: cvae.encode(images), "encode"),
        (lambda: cvae.reconstruct(images), "reconstruct"),
    ):
        with pytest.raises(ValueError, match=rf"ConditionalVAE.{method}\(\) needs `labels`"):
            call()
    with pytest.raises(ValueError, match=r"evaluate\(\) needs labels `y`"):
        cvae.evaluate(images, verbose=0)
    # `sample` without labels draws the classes in turn, as it always did.
    np.testing.assert_array_equal(
        cvae.sample(4, seed=0), cvae.sample(4, seed=0, labels=[0, 1, 2, 0])
    )


def test_evaluate_takes_the_labels_in_the_base_class():
    cvae = _cvae()
    cvae.compile()
    images = np.random.default_rng(0).uniform(size=(6, *SHAPE)).astype("float32")
    results = cvae.evaluate(images, np.arange(6) % C, verbose=0, return_dict=True)
    assert set(results) == set(cvae.loss_names)
    assert all(np.isfinite(value) for value in results.values())
