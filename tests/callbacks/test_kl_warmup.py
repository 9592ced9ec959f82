"""KL warm-up schedules, their effect on training, no retracing; free bits against its
definition."""

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.callbacks import KLWarmup


class _CountingVAE(keras_vae.VAE):
    """Counts how often TensorFlow traces the loss (a Python call per trace)."""

    traces = 0

    def compute_losses(self, x, training=False):
        type(self).traces += 1
        return super().compute_losses(x, training)


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_batch_begin(self, batch, logs=None):
        self.weights.append(float(keras.ops.convert_to_numpy(self.model.kl_weight)))


def _vae(cls=keras_vae.VAE, **kwargs):
    keras.utils.set_random_seed(0)
    model = cls(latent_dim=4, architecture="dense", seed=0, **kwargs)
    model.compile()
    return model


def test_linear_schedule():
    warmup = KLWarmup("linear", warmup_steps=10, start=0.2, stop=1.0)
    weights = [warmup.weight_at(step) for step in range(15)]
    np.testing.assert_allclose(weights[:11], 0.2 + 0.8 * np.arange(11) / 10)
    np.testing.assert_allclose(weights[10:], 1.0)


def test_cyclical_schedule():
    warmup = KLWarmup("cyclical", cycle_steps=8, ratio=0.5)
    weights = np.array([warmup.weight_at(step) for step in range(24)])
    one_cycle = [0, 0.25, 0.5, 0.75, 1, 1, 1, 1]
    np.testing.assert_allclose(weights, np.tile(one_cycle, 3))


def test_callback_assigns_the_schedule_without_retracing(tiny_images):
    model = _vae(_CountingVAE)
    warmup, recorder = KLWarmup("cyclical", cycle_steps=6, ratio=0.5), _Recorder()
    _CountingVAE.traces = 0
    history = model.fit(
        tiny_images, epochs=3, batch_size=64, callbacks=[warmup, recorder], verbose=0
    )
    # 256 images / 64 = 4 steps per epoch, 12 in all, a new weight at every step.
    np.testing.assert_allclose(recorder.weights, [warmup.weight_at(s) for s in range(12)])
    assert len(set(recorder.weights)) == 4
    assert history.history["kl_weight"] == pytest.approx([warmup.weight_at(s) for s in (3, 7, 11)])
    # Same number of traces as a run whose weight never changes: the schedule retraces nothing.
    with_schedule = _CountingVAE.traces
    _CountingVAE.traces = 0
    _vae(_CountingVAE).fit(tiny_images, epochs=3, batch_size=64, verbose=0)
    assert with_schedule == _CountingVAE.traces <= 2


def test_step_count_continues_across_fit_calls(tiny_images):
    model = _vae()
    warmup = KLWarmup("linear", warmup_steps=8)
    model.fit(tiny_images, epochs=1, batch_size=64, callbacks=[warmup], verbose=0)
    model.fit(tiny_images, epochs=1, batch_size=64, callbacks=[warmup], verbose=0)
    assert warmup.step == 8
    assert float(keras.ops.convert_to_numpy(model.kl_weight)) == pytest.approx(7 / 8)


def test_warmup_changes_what_is_learnt(tiny_images):
    # Held near zero, the KL weight lets posteriors drift from the prior: a higher KL.
    kls = {}
    for name, callbacks in (("held_low", [KLWarmup(warmup_steps=10**6)]), ("plain", [])):
        model = _vae()
        history = model.fit(tiny_images, epochs=4, batch_size=32, callbacks=callbacks, verbose=0)
        kls[name] = history.history["kl_loss"][-1]
    assert kls["held_low"] > 1.5 * kls["plain"], kls


def test_bad_arguments():
    with pytest.raises(ValueError, match="schedule"):
        KLWarmup("exponential")
    with pytest.raises(ValueError, match="warmup_steps"):
        KLWarmup(warmup_steps=0)
    with pytest.raises(ValueError, match="ratio"):
        KLWarmup(ratio=0)
    assert KLWarmup.from_config(KLWarmup("cyclical", cycle_steps=5).get_config()).get_config() == (
        KLWarmup("cyclical", cycle_steps=5).get_config()
    )


def test_needs_a_kl_weight(tiny_images):
    model = keras_vae.AutoEncoder(latent_dim=2, architecture="dense")
    model.compile()
    with pytest.raises(TypeError, match="kl_weight"):
        model.fit(tiny_images[:64], epochs=1, callbacks=[KLWarmup()], verbose=0)


@pytest.mark.parametrize("quantile", [0.0, 0.5, 1.0])
def test_free_bits_objective(tiny_images, quantile):
    """Free bits (Kingma et al., 2016): the KL term of the objective is
    sum_d max(mean over the batch of KL_d, lambda); the reported kl_loss stays the true KL."""
    x = tiny_images[:64]
    # N(0, I), whose KL splits per dimension (the floor of a learned prior is on the whole).
    probe = _vae(prior="standard_normal")
    z_mean, z_log_var = probe.encode(x)
    kl_d = 0.5 * (z_mean**2 + np.exp(z_log_var) - 1 - z_log_var)
    batch_mean = kl_d.astype("float64").mean(axis=0)
    # Floors below all, between, and above all dimensions exercise both sides of the max.
    free_bits = float(np.quantile(batch_mean, quantile)) * (1.2 if quantile == 1.0 else 1.0)
    floor = free_bits + 1e-9 if quantile == 0.0 else free_bits
    model = _vae(free_bits=floor, prior="standard_normal")
    model.set_weights(probe.get_weights())
    objective, per_example = model.compute_losses(x)
    kl_term = float(objective) - float(np.mean(per_example["reconstruction_loss"]))
    expected = np.maximum(batch_mean, model.free_bits).sum()
    assert kl_term == pytest.approx(expected, rel=1e-4)
    np.testing.assert_allclose(per_example["kl_loss"], kl_d.sum(axis=1), rtol=1e-5)


def test_schedule_continues_from_the_optimizer_step_of_a_restored_model(tiny_images, tmp_path):
    model = _vae()
    model.fit(tiny_images, epochs=1, batch_size=64, verbose=0)  # 4 optimizer steps
    path = tmp_path / "vae.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    warmup, recorder = KLWarmup("linear", warmup_steps=8), _Recorder()
    restored.fit(tiny_images, epochs=1, batch_size=64, callbacks=[warmup, recorder], verbose=0)
    np.testing.assert_allclose(recorder.weights, [warmup.weight_at(s) for s in range(4, 8)])


@pytest.mark.parametrize("floor", ["below", "above"])
def test_free_bits_floor_the_whole_code_with_a_learned_prior(tiny_images, floor):
    """With a learned prior the KL does not split per dimension: the objective's KL term is
    max(mean over the batch of the estimated KL, lambda * latent_dim)."""
    x = tiny_images[:64]
    free_bits = 1e-4 if floor == "below" else 100.0
    model = _vae(prior=keras_vae.MixturePrior(4, num_components=3, seed=0), free_bits=free_bits)
    objective, per_example = model.compute_losses(x)
    kl_term = float(objective) - float(np.mean(per_example["reconstruction_loss"]))
    estimated = float(np.mean(per_example["kl_loss"]))
    assert kl_term == pytest.approx(max(estimated, free_bits * 4), rel=1e-4)
    assert (kl_term > estimated + 1) == (floor == "above")
