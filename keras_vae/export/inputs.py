"""The data that flows through an export: calibration and verification inputs.

Every input set is a dict of signature input name -> float32 array with one row per example
(`{"z": ...}`, plus `"labels"` for a conditional decoder, or `{"images": ...}`), so one
code path serves every signature.
"""

import numpy as np

from keras_vae.priors import ClassConditionalPrior

_GRID_COLUMNS = 8


def is_conditional(model) -> bool:
    """The model contract's `is_conditional` (a decoder that also takes a one-hot condition)."""
    return bool(model.is_conditional)


def decode_mean(model, z, condition=None):
    """The decoder mean for latents (and a condition) as a tensor, through the model contract."""
    return model.output_mean(model.decode_tensors(z, condition, training=False))


def balanced_one_hot(num_classes, n, rng) -> np.ndarray:
    """`n` one-hot rows with the classes in turn (counts differ by at most one), shuffled."""
    return np.eye(num_classes, dtype="float32")[rng.permutation(np.arange(n) % num_classes)]


def _learned_prior(model) -> bool:
    """Whether `model` has a prior other than N(0, I) whose latents it can draw."""
    learned = getattr(getattr(model, "prior", None), "is_learned", False)
    return learned and hasattr(model, "prior_latents")


def describe_prior_inputs(model) -> str:
    """Where `prior_inputs` draws the latents of `model` from, in words (a figure's title)."""
    if is_conditional(model):
        if isinstance(getattr(model, "prior", None), ClassConditionalPrior):
            return "Draws from the model's class prior p(z | y), one row per class"
        return "Draws from the prior N(0, I), one row per class"
    if _learned_prior(model):
        return "Draws from the model's learned prior"
    if getattr(model, "probabilistic", False):
        return "Draws from the model's prior N(0, I)"
    return "N(0, I) codes (an autoencoder has no prior; export with a fitted `sampler`)"


def prior_inputs(model, n, rng) -> dict:
    """Decoder inputs for calibration or verification: latents from the model's prior, N(0, I)
    where it has none of its own (and balanced labels for a conditional model)."""
    inputs = {"z": rng.standard_normal((n, int(model.latent_dim))).astype("float32")}
    if _learned_prior(model) and not is_conditional(model):
        # A learned prior's codes are where the decoder works, not around the origin.
        seed = int(rng.integers(2**31))
        inputs["z"] = np.asarray(model.prior_latents(n, seed=seed), np.float32)
    if is_conditional(model):
        inputs["labels"] = balanced_one_hot(int(model.num_classes), n, rng)
        if isinstance(getattr(model, "prior", None), ClassConditionalPrior):
            # Each class's codes sit where its own prior p(z | y) is, not around the origin.
            seed = int(rng.integers(2**31))
            inputs["z"] = model.prior_latents(n, seed=seed, labels=inputs["labels"])
    return inputs


def representative_inputs(model, samples, rng, method) -> dict:
    """Extra calibration inputs: latents as given, or the posterior of encoded images.

    A conditional model takes `(latents or images, labels)`; latents alone get balanced
    labels, images alone are refused (the encoder needs their labels).
    """
    conditional = is_conditional(model)
    labels = None
    if conditional and isinstance(samples, tuple | list) and len(samples) == 2:
        samples, labels = samples
    array = np.asarray(samples)
    condition = None
    if labels is not None:
        try:
            condition = model.condition_from_labels(labels, n=len(array), method="export")
        except ValueError as error:
            raise ValueError(
                f"{method} expects `representative_samples` as (images or latents, labels) with"
                f" valid labels: {error}"
            ) from None
    if array.ndim == 2 and array.shape[1] == model.latent_dim:
        inputs = {"z": model.check_latents(array, "representative_samples", "export")}
        if conditional:
            balanced = balanced_one_hot(int(model.num_classes), len(array), rng)
            inputs["labels"] = balanced if condition is None else condition
        return inputs
    if tuple(array.shape[1:]) != tuple(model.image_shape):
        raise ValueError(
            f"{method} expects `representative_samples` as latents (None, {model.latent_dim})"
            f" or images (None, {', '.join(map(str, model.image_shape))}); got {array.shape}."
        )
    if conditional and condition is None:
        raise ValueError(
            f"{method} expects `representative_samples` of a ConditionalVAE as latents or"
            f" an (images, labels) pair; got images {array.shape} without labels."
        )
    images = model.check_images(array, "representative_samples", "export")
    encoded = [
        model.encode_tensors(
            images[i : i + 256], None if condition is None else condition[i : i + 256]
        )
        for i in range(0, len(images), 256)
    ]
    if not isinstance(encoded[0], tuple | list):  # an AutoEncoder's codes
        return {"z": np.concatenate([np.asarray(e) for e in encoded]).astype("float32")}
    z_mean = np.concatenate([np.asarray(e[0]) for e in encoded])
    z_log_var = np.concatenate([np.asarray(e[1]) for e in encoded])
    # Posterior draws as well as means: the decoder sees both during training.
    draws = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
    inputs = {"z": np.concatenate([z_mean, draws]).astype("float32")}
    if conditional:
        inputs["labels"] = np.concatenate([condition, condition])
    return inputs


def grid_layout(one_hot, n) -> tuple:
    """Which verification outputs `sample_grids.png` shows, and in how many columns.

    Without labels, the first 64 in rows of 8; with labels, one row per class (up to 8 of
    each), so a wrong class or a collapsed digit shows as a bad row.
    """
    if one_hot is None:
        return np.arange(min(n, _GRID_COLUMNS**2)), _GRID_COLUMNS
    classes = one_hot.argmax(axis=1)
    per_class = max(1, min(_GRID_COLUMNS, n // one_hot.shape[1]))
    rows = [np.flatnonzero(classes == k)[:per_class] for k in range(one_hot.shape[1])]
    return np.concatenate(rows), per_class


def rows(inputs: dict, start: int, stop: int) -> dict:
    """Rows `start:stop` of every input."""
    return {name: values[start:stop] for name, values in inputs.items()}


def count(inputs: dict) -> int:
    return len(next(iter(inputs.values())))


def concatenate(first: dict, second: dict) -> dict:
    return {name: np.concatenate([values, second[name]]) for name, values in first.items()}
