"""The model contract that evaluation, latent tools, callbacks and export call instead of asking
which class they hold: `is_conditional`, `condition_from_labels`, `encode_tensors`,
`decode_tensors` and `sample(..., sampler=)`."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import keras_vae
from keras_vae.models.distribution import cluster_worker_count

SHAPE = (8, 8, 1)


def _vae():
    return keras_vae.VAE(latent_dim=3, input_shape=SHAPE, architecture="dense", seed=0)


def _autoencoder():
    return keras_vae.AutoEncoder(latent_dim=3, input_shape=SHAPE, architecture="dense", seed=0)


def _cvae():
    return keras_vae.ConditionalVAE(
        num_classes=4, latent_dim=3, input_shape=SHAPE, architecture="dense", seed=0
    )


class FixedSampler:
    """The sampler contract in its smallest form: `latent_dim` and `sample(n, seed)`."""

    latent_dim = 3

    def sample(self, n, seed=None):
        return np.tile(np.array([[1.0, -2.0, 0.5]], "float32"), (n, 1))


def test_unconditional_contract():
    images = np.random.default_rng(0).uniform(size=(5, *SHAPE)).astype("float32")
    for model, outputs in ((_vae(), 2), (_autoencoder(), 1)):
        assert model.is_conditional is False
        assert model.condition_from_labels(None) is None
        with pytest.raises(ValueError, match=r"evaluate\(\) takes no `labels`"):
            model.condition_from_labels([1, 2], n=2, method="evaluate")
        with pytest.raises(ValueError, match="takes no `condition`"):
            model.encode_tensors(images, np.zeros((5, 4), "float32"))
        encoded = model.encode_tensors(images)
        parts = encoded if outputs == 2 else (encoded,)
        assert len(parts) == outputs
        assert all(t.dtype == "float32" and tuple(t.shape) == (5, 3) for t in parts)
        # The numpy method is the tensor method plus checks and batching.
        numpy_codes = model.encode(images, batch_size=2)
        numpy_parts = numpy_codes if outputs == 2 else (numpy_codes,)
        for tensor, array in zip(parts, numpy_parts):
            # Batches of 2 and of 5 run kernels that sum in another order: float32 rounding,
            # about 1e-7 absolute, which a relative bound alone refuses near zero.
            np.testing.assert_allclose(ops.convert_to_numpy(tensor), array, rtol=1e-6, atol=1e-6)
        z = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
        logits = ops.convert_to_numpy(model.decode_tensors(z))
        assert logits.dtype == np.float32 and logits.shape == (4, *SHAPE)
        np.testing.assert_allclose(1 / (1 + np.exp(-logits)), model.decode(z), rtol=1e-5)


def test_conditional_contract():
    model = _cvae()
    assert model.is_conditional is True
    one_hot = model.condition_from_labels([0, 3, 1])
    assert one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot, np.eye(4, dtype="float32")[[0, 3, 1]])
    np.testing.assert_array_equal(model.condition_from_labels(2, n=3), np.eye(4)[[2, 2, 2]])
    # Tensors (a dataset's labels) are accepted like arrays.
    np.testing.assert_array_equal(
        model.condition_from_labels(tf.constant([1, 1])), np.eye(4)[[1, 1]]
    )
    with pytest.raises(ValueError, match=r"elbo\(\) needs `labels`"):
        model.condition_from_labels(None, method="elbo")
    with pytest.raises(ValueError, match="number of examples `n`"):
        model.condition_from_labels(2)
    with pytest.raises(ValueError, match="one label per example"):
        model.condition_from_labels([1, 2], n=3)
    with pytest.raises(ValueError, match=r"ints in \[0, 4\)"):
        model.condition_from_labels([4])

    images = np.random.default_rng(0).uniform(size=(3, *SHAPE)).astype("float32")
    with pytest.raises(ValueError, match="needs `condition`"):
        model.encode_tensors(images)
    z_mean, z_log_var = model.encode_tensors(images, one_hot)
    assert z_mean.dtype == "float32" and tuple(z_log_var.shape) == (3, 3)
    np.testing.assert_allclose(
        ops.convert_to_numpy(z_mean), model.encode(images, [0, 3, 1])[0], rtol=1e-6
    )
    z = np.zeros((3, 3), "float32")
    logits = ops.convert_to_numpy(model.decode_tensors(z, one_hot))
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), model.decode(z, [0, 3, 1]), rtol=1e-5)
    # The label changes the decoding: the condition is really used.
    assert not np.allclose(logits[0], logits[1])


def test_sample_with_a_sampler_decodes_its_latents():
    sampler = FixedSampler()
    for model in (_vae(), _autoencoder()):
        np.testing.assert_allclose(
            model.sample(3, sampler=sampler), model.decode(sampler.sample(3)), rtol=1e-6
        )
    cvae = _cvae()
    np.testing.assert_allclose(
        cvae.sample(4, labels=2, sampler=sampler), cvae.decode(sampler.sample(4), 2), rtol=1e-6
    )
    # Without a sampler: the prior, repeatable with a seed.
    vae = _vae()
    np.testing.assert_array_equal(vae.sample(2, seed=3), vae.decode(vae.prior_latents(2, seed=3)))

    class WrongSize(FixedSampler):
        latent_dim = 5

    with pytest.raises(ValueError, match=r"`sampler` with latent_dim=3.*latent_dim 5"):
        vae.sample(2, sampler=WrongSize())
    with pytest.raises(ValueError, match="`sampler`"):
        vae.sample(2, sampler=object())


def test_conditional_networks_are_built_for_num_classes():
    """The conditional model's probes read `num_classes`, set before the base constructor:
    both networks take a one-hot of that many classes, and a code of another size is refused."""
    model = _cvae()
    assert model.num_classes == 4
    decoder_inputs = model.decoder_model().inputs
    encoder_inputs = model.encoder_model().inputs
    assert [tuple(t.shape) for t in decoder_inputs] == [(None, 3), (None, 4)]
    assert [tuple(t.shape) for t in encoder_inputs] == [(None, *SHAPE), (None, 4)]
    z = np.zeros((2, 3), "float32")
    assert model.decode(z, np.array([0, 3])).shape == (2, *SHAPE)
    with pytest.raises(ValueError, match="labels"):
        model.decode(z, np.array([0, 4]))


# The multi-worker predicate -----------------------------------------------------------------


class _Resolver:
    """A cluster resolver as TensorFlow's strategies read it: a spec and the task type."""

    def __init__(self, spec, task_type="worker"):
        self.spec, self.task_type = spec, task_type

    def cluster_spec(self):
        return tf.train.ClusterSpec(self.spec)


def test_cluster_worker_count_agrees_with_tensorflow():
    from tensorflow.python.distribute import multi_worker_util

    specs = [
        ({"worker": ["a:1", "b:2"]}, "worker"),
        ({"chief": ["c:0"], "worker": ["a:1"]}, "chief"),
        ({"chief": ["c:0"], "worker": ["a:1", "b:2"], "evaluator": ["e:3"]}, "evaluator"),
        ({"worker": ["a:1"]}, "worker"),
    ]
    for spec, task_type in specs:
        expected = multi_worker_util.worker_count(tf.train.ClusterSpec(spec), task_type)
        assert cluster_worker_count(_Resolver(spec, task_type)) == expected, spec
    assert cluster_worker_count(_Resolver({})) == 1


def test_multi_worker_predicate_matches_the_private_one_keras_uses():
    """Keras decides whether to reduce step outputs across workers with the private
    `strategy.extended._in_multi_worker_mode()`; ours must give the same answer. This fails
    if TensorFlow renames it or counts workers differently."""
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    private = strategy.extended._in_multi_worker_mode()
    assert private == (cluster_worker_count(strategy.cluster_resolver) > 1)
    assert strategy.extended._num_workers == cluster_worker_count(strategy.cluster_resolver)
