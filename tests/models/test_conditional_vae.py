"""ConditionalVAE: construction, labels in every form, training, the .keras round trip."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae import evaluation


def _normalized(config):
    """Configs compared as saved: JSON turns tuples into lists."""
    return json.loads(json.dumps(config, default=str))


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    defaults = {"num_classes": 10, "latent_dim": 2, "architecture": "dense", "seed": 1}
    return keras_vae.ConditionalVAE(**{**defaults, **kwargs})


@pytest.mark.parametrize(
    ("architecture", "label_injection"),
    [("conv", "every_block"), ("dense", "every_block"), ("conv", "input"), ("dense", "input")],
)
def test_round_trip(mnist_sample, tmp_path, architecture, label_injection):
    images, labels = mnist_sample[0][:256], mnist_sample[1][:256]
    init = {
        "num_classes": 10,
        "latent_dim": 3,
        "architecture": architecture,
        "label_injection": label_injection,
        "beta": 2.0,
        "free_bits": 0.1,
        "prior": None,
        "seed": 4,
    }
    model = keras_vae.ConditionalVAE(**init)
    config = model.get_config()
    for key in init:
        assert config[key] == init[key], key
    clone = keras_vae.ConditionalVAE.from_config(config)
    assert _normalized(clone.get_config()) == _normalized(config)

    symbolic = model([keras.Input((28, 28, 1)), keras.Input((10,))])
    assert tuple(symbolic.shape) == (None, 28, 28, 1)
    model.compile()
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(images, labels, epochs=1, batch_size=64, verbose=0)
    assert all(np.isfinite(history.history[name][0]) for name in model.loss_names)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    path = tmp_path / "cvae.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded) is keras_vae.ConditionalVAE
    assert _normalized(reloaded.get_config()) == _normalized(model.get_config())
    z = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    np.testing.assert_array_equal(reloaded.decode(z, [0, 1, 2, 3, 4, 5]), model.decode(z, range(6)))
    for a, b in zip(reloaded.encode(images[:8], labels[:8]), model.encode(images[:8], labels[:8])):
        np.testing.assert_array_equal(a, b)
    # Training resumes with the optimizer state: the step count and Adam's moments come back,
    # so one more epoch on both (same order, same sampling stream) ends at the same weights.
    assert int(reloaded.optimizer.iterations) == int(model.optimizer.iterations) == 4
    for a, b in zip(reloaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)
    for resumed in (model, reloaded):
        resumed.fit(images, labels, epochs=1, batch_size=64, shuffle=False, verbose=0)
    assert int(reloaded.optimizer.iterations) == 8
    for a, b in zip(reloaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_labels_condition_the_decoder():
    model = _model()
    z = np.zeros((2, 2), "float32")
    as_ints = model.decode(z, [3, 3])
    np.testing.assert_array_equal(as_ints, model.decode(z, 3))
    np.testing.assert_array_equal(as_ints, model.decode(z, np.eye(10, dtype="float32")[[3, 3]]))
    assert not np.allclose(as_ints, model.decode(z, 4))
    assert model.sample(12, seed=0).shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(
        model.sample(3, labels=7, seed=5), model.sample(3, seed=5, labels=[7, 7, 7])
    )


def test_fit_on_a_dataset_of_pairs(mnist_sample):
    images, labels = mnist_sample[0][:128], mnist_sample[1][:128]
    model = _model()
    model.compile()
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(32)
    history = model.fit(dataset, epochs=1, verbose=0, validation_data=dataset)
    assert np.isfinite(history.history["val_loss"][0])
    one_hot = tf.data.Dataset.from_tensor_slices((images, np.eye(10)[labels])).batch(32)
    model.fit(one_hot, epochs=1, verbose=0)
    # Evaluation uses the labels: log p(x | y) <= 0 for binary-valued Bernoulli pixels would
    # not hold for grey pixels, so only finiteness and the bound's order are checked.
    terms = evaluation.elbo(model, images[:16], labels=labels[:16], num_samples=4, seed=0)
    log_px = evaluation.log_likelihood(
        model, images[:16], labels=labels[:16], num_samples=64, seed=0, verbose=0
    )
    assert np.all(np.isfinite(log_px))
    assert np.mean(log_px) >= np.mean(-terms["loss"]) - 1.0


def test_label_errors(mnist_sample):
    images = mnist_sample[0][:32]
    model = _model()
    model.compile()
    with pytest.raises(ValueError, match="needs labels `y`"):
        model.fit(images, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"ints in \[0, 10\)"):
        model.fit(images, np.full(32, 10), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="one label per example"):
        model.fit(images, np.zeros(31, int), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs `labels`"):
        model.decode(np.zeros((2, 2), "float32"))
    with pytest.raises(ValueError, match="needs labels"):
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="num_classes"):
        keras_vae.ConditionalVAE(num_classes=1)
    with pytest.raises(ValueError, match="needs labels"):
        evaluation.elbo(model, tf.data.Dataset.from_tensor_slices(images).batch(8))


def test_export_contract():
    """What an exporter traces: a decoder with inputs [z, one_hot] giving logits."""
    model = _model(latent_dim=4)
    assert [tuple(t.shape) for t in model.decoder.inputs] == [(None, 4), (None, 10)]
    assert [t.name for t in model.decoder.inputs] == ["z", "labels"]
    z = np.ones((2, 4), "float32")
    logits = keras.ops.convert_to_numpy(model.decoder([z, np.eye(10, dtype="float32")[[1, 2]]]))
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), model.decode(z, [1, 2]), rtol=1e-5)


@pytest.mark.parametrize("architecture", ["conv", "dense"])
def test_label_enters_every_decoder_block(architecture):
    """Each weight layer of the default decoder takes the ten label entries beside its usual
    input: the kernels' input sizes say so."""
    latent_dim, classes = 5, 10
    model = _model(
        latent_dim=latent_dim,
        architecture=architecture,
        num_classes=classes,
        label_injection="every_block",
    )
    kernels = {
        layer.name: tuple(layer.kernel.shape)
        for layer in model.decoder.layers
        if hasattr(layer, "kernel")
    }
    if architecture == "conv":
        assert kernels == {
            "dense_0": (latent_dim + classes, 256),
            "project": (256 + classes, 7 * 7 * 64),
            "conv_0": (3, 3, 64 + classes, 64),
            "conv_1": (3, 3, 64 + classes, 32),
            "logits": (3, 3, 32 + classes, 1),
        }
    else:
        assert kernels == {
            "dense_0": (latent_dim + classes, 256),
            "logits_flat": (256 + classes, 28 * 28),
        }
    # With "input" the label reaches the decoder's first layer only.
    only_input = _model(latent_dim=latent_dim, architecture=architecture, label_injection="input")
    body = only_input.decoder.get_layer("body")
    assert tuple(body.hidden_layers[0].kernel.shape) == (latent_dim + classes, 256)
    assert tuple(body.hidden_layers[1].kernel.shape)[0] == 256


def test_files_saved_before_label_injection_load_as_saved(mnist_sample, tmp_path):
    """A .keras file written before the `label_injection` and `prior` keys existed (its
    decoder sees the label at its input only, its prior is N(0, I)) loads with that decoder,
    the same outputs, and the keys set to `"input"` and None, which describe it."""
    images, labels = mnist_sample[0][:64], mnist_sample[1][:64]
    model = _model(latent_dim=3, architecture="conv", label_injection="input", prior=None)
    model.compile()
    model.fit(images, labels, epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "new.keras"
    model.save(path)
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(old, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(content)
                del config["config"]["label_injection"]
                del config["config"]["prior"]
                content = json.dumps(config).encode()
            target.writestr(item, content)
    reloaded = keras.saving.load_model(old)
    assert reloaded.label_injection == "input"
    assert isinstance(reloaded.prior, keras_vae.priors.StandardNormalPrior)
    assert [layer.name for layer in reloaded.decoder.layers] == [
        layer.name for layer in model.decoder.layers
    ]
    z = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    np.testing.assert_array_equal(reloaded.decode(z, range(6)), model.decode(z, range(6)))
    for a, b in zip(reloaded.encode(images[:8], labels[:8]), model.encode(images[:8], labels[:8])):
        np.testing.assert_array_equal(a, b)


def test_with_a_learned_prior(mnist_sample, tmp_path):
    """`ConditionalVAE(prior=MixturePrior(...))`: the KL term is estimated at the posterior
    sample, -H(q(z | x, y)) - log p(z), and the model saves and draws from its prior."""
    images, labels = mnist_sample[0][:128], mnist_sample[1][:128]
    prior = keras_vae.MixturePrior(3, num_components=4, seed=2)
    model = _model(latent_dim=3, prior=prior)
    model.compile()
    history = model.fit(images, labels, epochs=1, batch_size=32, verbose=0)
    assert all(np.isfinite(history.history[name][0]) for name in model.loss_names)

    # The KL term is the estimate at the posterior sample: over many draws its mean is the
    # Monte Carlo KL(q(z | x, y) || p(z)), computed here with numpy draws and scipy's density.
    from scipy import stats

    x = keras.ops.convert_to_tensor(images[:8])
    one_hot = keras.ops.convert_to_tensor(np.eye(10, dtype="float32")[labels[:8]])
    estimates = np.mean(
        [
            keras.ops.convert_to_numpy(model.compute_losses(x, condition=one_hot)[1]["kl_loss"])
            for _ in range(300)
        ]
    )
    z_mean, z_log_var = (
        keras.ops.convert_to_numpy(t).astype("float64") for t in model.encode_tensors(x, one_hot)
    )
    std = np.exp(0.5 * z_log_var)
    z = z_mean + std * np.random.default_rng(0).standard_normal((3000, *z_mean.shape))
    means, scales, weights = model.prior.component_parameters()
    weights = weights / weights.sum()
    log_prior = np.log(
        sum(
            w * stats.multivariate_normal(m, np.diag(s**2)).pdf(z.reshape(-1, 3))
            for m, s, w in zip(means, scales, weights)
        )
    ).reshape(z.shape[:2])
    log_posterior = stats.norm(z_mean, std).logpdf(z).sum(axis=-1)
    np.testing.assert_allclose(estimates, np.mean(log_posterior - log_prior), atol=0.15)

    path = tmp_path / "prior.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        reloaded.sample(6, labels=3, seed=0), model.sample(6, labels=3, seed=0)
    )


def test_label_injection_errors():
    with pytest.raises(ValueError, match=r"label_injection.*got 'everywhere'"):
        keras_vae.ConditionalVAE(label_injection="everywhere")
