"""The conditional VAE: a VAE whose encoder and decoder also see the class label."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_vae.models.conditional_networks import (
    DEFAULT_LABEL_INJECTION,
    check_label_injection,
    conditional_decoder,
    conditional_encoder,
)
from keras_vae.models.vae import VAE
from keras_vae.priors.class_conditional import ClassConditionalPrior

# The default prior's Gaussians per class (`ClassConditionalPrior`): a mixture for codes of
# more than SMALL_CODE dimensions, which carry the digit as well as the style (with one
# Gaussian per class a latent-16 model followed its label only 90.5% of the time); one
# Gaussian for smaller codes, which leave the digit to the label: there the KL term is in
# closed form, and over four seeds at latent 2 the test NLL was 0.58 nats better than with
# ten and 0.43 better than with N(0, I) (`benchmarks/conditional.py`, in the README).
CLASS_PRIOR_COMPONENTS = 10
SMALL_CODE = 2


def default_class_prior_components(latent_dim):
    """Gaussians per class of `ConditionalVAE`'s default prior for a code of `latent_dim`."""
    return 1 if latent_dim <= SMALL_CODE else CLASS_PRIOR_COMPONENTS


def _check_arguments(num_classes, latent_dim, label_injection):
    check_label_injection(label_injection, "ConditionalVAE")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"ConditionalVAE expects `num_classes` as an int >= 2; got {num_classes!r}."
        )
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"ConditionalVAE expects `latent_dim` as an int >= 1; got {latent_dim!r}.")


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalVAE(VAE):
    """A VAE conditioned on a class label: q(z | x, y) and p(x | z, y) (Sohn et al., 2015).

    Both networks take the label as a one-hot vector next to their usual input, and the
    prior is learned per class, p(z | y) (`ClassConditionalPrior`): `sample(n, labels=7)`
    draws z from p(z | y = 7) and decodes a 7. A code of more than a few dimensions carries
    the digit as well as the style (slant, thickness), so with the prior N(0, I) a draw
    lands where another digit's codes are and the label is partly ignored; with a prior per
    class the draw lands where the requested digit's codes are, so code and label agree
    (`benchmarks/conditional.py`, in the README). Training takes `(images, labels)` pairs:
    `fit(x, y)` with arrays, or a `tf.data` dataset of pairs; labels are ints in
    `[0, num_classes)` or one-hot rows. The objective, `beta` and `kl_weight` are those of
    `VAE`.

    For export, `decoder` is a functional model with inputs `[z (None, latent_dim),
    labels (None, num_classes)]` and logits (Bernoulli) as output; apply a sigmoid for
    pixel probabilities. Latents for it come from `prior_latents(n, labels=...)`.

    Everything else is `VAE`'s: `encode`, `decode`, `reconstruct`, `sample`, `fit` and
    `evaluate` take the labels (`labels=`, or `y` in `fit`) in the base class, and this class
    only declares its classes, its networks and how labels become the one-hot condition
    (`condition_from_labels`, `symbolic_condition`, `default_labels`).

    Args:
        encoder: keras Layer or Model, or None. Maps `[images, one_hot]` to
            `(z_mean, z_log_var)`. Defaults to `conditional_encoder(...)`.
        decoder: keras Layer or Model, or None. Maps `[z, one_hot]` to logits or means.
            Defaults to `conditional_decoder(...)`.
        num_classes: int >= 2. Number of labels. Defaults to `10`.
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        input_shape: tuple. Shape of one image. Defaults to `(28, 28, 1)`.
        architecture: str. `"conv"` or `"dense"` for the default networks. Defaults to
            `"conv"`.
        label_injection: str. How deep the label reaches the default networks: `"input"`
            (the decoder gets it beside z, the encoder as an extra input channel) or
            `"every_block"` (the decoder gets it at the input of every dense layer and, as a
            label map, of every convolution; the encoder's code is shifted and scaled per
            class). With the prior per class `"input"` follows the label as often and gives
            the better likelihood. Defaults to `"input"`.
        prior: `"class_conditional"`, None or a prior layer. `"class_conditional"` is a
            `ClassConditionalPrior` seeded with `seed`, of one Gaussian per class for a code
            of up to 2 dimensions and `CLASS_PRIOR_COMPONENTS` (10) for a larger one; None
            (or `"standard_normal"`) the prior N(0, I); or a `ClassConditionalPrior` or
            `MixturePrior` of your own. Files saved before this
            argument existed load with N(0, I). Defaults to `"class_conditional"`.
        **kwargs: the other arguments of `VAE` (`beta`, `likelihood`, `gaussian_variance`,
            `free_bits`, `seed`).

    Example:
    <!-- skip: trains for minutes -->
    ```python
    cvae = keras_vae.ConditionalVAE(num_classes=10, latent_dim=2, seed=1)
    cvae.compile()
    cvae.fit(x_train, y_train, epochs=10)
    sevens = cvae.sample(16, labels=7, seed=0)
    ```
    """

    def __init__(
        self,
        encoder=None,
        decoder=None,
        num_classes=10,
        latent_dim=2,
        input_shape=(28, 28, 1),
        architecture="conv",
        label_injection=DEFAULT_LABEL_INJECTION,
        prior="class_conditional",
        **kwargs,
    ):
        _check_arguments(num_classes, latent_dim, label_injection)
        input_shape = tuple(int(d) for d in input_shape)

        # === Layers === (the base constructor creates the rest and wires them)
        if isinstance(prior, str) and prior == "class_conditional":
            prior = ClassConditionalPrior(
                latent_dim,
                num_classes,
                num_components=default_class_prior_components(latent_dim),
                seed=kwargs.get("seed"),
            )
        # The policy the base constructor will take from `dtype` (or the global one).
        policy = keras.dtype_policies.get(kwargs.get("dtype"))
        network_arguments = (latent_dim, input_shape, num_classes, architecture)
        if encoder is None:
            encoder = conditional_encoder(
                *network_arguments, dtype=policy, label_injection=label_injection
            )
        if decoder is None:
            decoder = conditional_decoder(
                *network_arguments, dtype=policy, label_injection=label_injection
            )

        # === Config === (set before the base constructor, which probes the networks through
        # `network_probes`)
        self.num_classes = num_classes
        self.label_injection = label_injection
        super().__init__(
            encoder=encoder,
            decoder=decoder,
            latent_dim=latent_dim,
            input_shape=input_shape,
            architecture=architecture,
            prior=prior,
            **kwargs,
        )

    # Construction -------------------------------------------------------------------------

    def network_probes(self):
        one_hot = ops.zeros((1, self.num_classes))
        return (
            [ops.zeros((1, *self.image_shape)), one_hot],
            [ops.zeros((1, self.latent_dim)), one_hot],
            "[images, one_hot]",
            "[z, one_hot]",
        )

    # The model contract (see BaseAutoEncoder) -------------------------------------------

    @property
    def is_conditional(self) -> bool:
        return True

    def condition_from_labels(self, labels, n=None, method="condition_from_labels"):
        """One-hot float32 rows `(n, num_classes)` for `labels`: ints in `[0, num_classes)`,
        one-hot rows, or one int for all `n` examples. `n`, when given, is the number of
        examples the labels must match."""
        if labels is None:
            raise ValueError(
                f"{type(self).__name__}.{method}() needs `labels` (one per example); got None."
            )
        if isinstance(labels, int | np.integer) and not isinstance(labels, bool):
            if n is None:
                raise ValueError(
                    f"{type(self).__name__}.{method}() needs the number of examples `n` to"
                    f" repeat the single label {labels}; got n=None."
                )
            labels = np.full(n, int(labels))
        return self.one_hot_labels(labels, "labels", method, expected_count=n)

    # Labels -------------------------------------------------------------------------------

    def one_hot_labels(self, labels, name="labels", method="fit", expected_count=None):
        """Checks labels (ints in `[0, num_classes)` or one-hot rows) and returns one-hot
        float32 rows `(n, num_classes)`."""
        owner = f"{type(self).__name__}.{method}()"
        array = np.asarray(labels)
        if array.ndim == 1 and (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
            if (
                array.dtype == bool
                or array.min(initial=0) < 0
                or array.max(initial=0) >= self.num_classes
            ):
                raise ValueError(
                    f"{owner} expects `{name}` as ints in [0, {self.num_classes}); got values in"
                    f" [{array.min()}, {array.max()}]."
                )
            one_hot = np.eye(self.num_classes, dtype="float32")[array]
        elif (
            array.ndim == 2
            and array.shape[1] == self.num_classes
            and np.issubdtype(array.dtype, np.number)
        ):
            one_hot = array.astype("float32")
        else:
            raise ValueError(
                f"{owner} expects `{name}` as ints (n,) in [0, {self.num_classes}) or one-hot"
                f" rows (n, {self.num_classes}); got shape {array.shape} and dtype {array.dtype}."
            )
        if expected_count is not None and len(one_hot) != expected_count:
            raise ValueError(
                f"{owner} expects one label per example in `{name}`; got {len(one_hot)} labels"
                f" for {expected_count} examples."
            )
        return one_hot

    def default_labels(self, n):
        """The classes in turn, `0, 1, ..., num_classes - 1, 0, ...`: what `sample(n)` draws
        without labels."""
        return np.arange(n) % self.num_classes

    def symbolic_condition(self, y):
        """One-hot float32 rows for a dataset batch's labels `y` (ints or one-hot rows)."""
        y = tf.convert_to_tensor(y)
        if y.shape.rank == 1 or (y.shape.rank == 2 and y.shape[-1] == 1 and self.num_classes != 1):
            return tf.one_hot(tf.cast(tf.reshape(y, (-1,)), "int32"), self.num_classes)
        if y.shape.rank == 2 and y.shape[-1] == self.num_classes:
            return tf.cast(y, "float32")
        raise ValueError(
            f"{type(self).__name__}.fit() expects labels as ints (None,) or one-hot rows (None,"
            f" {self.num_classes}); got shape {tuple(y.shape)}."
        )

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        config["label_injection"] = self.label_injection
        return config

    @classmethod
    def from_config(cls, config):
        # Files saved before `label_injection` existed hold decoders that see the label at
        # their input only; the key then describes those stored networks (which load as
        # saved either way: the networks come from the file, not from this key).
        # Likewise files saved before `prior` existed hold a model of the prior N(0, I).
        return super().from_config({"label_injection": "input", "prior": None, **config})
