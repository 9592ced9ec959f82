"""A learned class-conditional prior p(z | y): a mixture of diagonal Gaussians per class."""

import keras
from keras import ops

from keras_vae import losses
from keras_vae.layers.scaled_parameters import (
    assign_unscaled,
    check_int,
    check_multiplier,
    prior_config,
    unscaled,
)


@keras.saving.register_keras_serializable(package="keras_vae")
class ClassConditionalPrior(keras.layers.Layer):
    """p(z | y) = sum_k w_yk N(z | means[y, k], diag(exp(log_vars[y, k]))), every parameter
    learned: one Gaussian (or a small mixture) per class.

    With the prior N(0, I) the codes of every class must share the same ball around the
    origin, and a code that also carries the class (which a code of more than a few
    dimensions does) lands, when drawn from the prior, where another class's codes are:
    the decoder then draws that class whatever label it is given. A prior per class lets
    each class keep its codes where they fall, and a draw from p(z | y = 7) lands where the
    7s are, so the label and the code agree. Pass it to `ConditionalVAE(prior=...)`; the KL
    term is in closed form with one component per class, and estimated from the posterior
    sample (`E_q[log q(z | x, y)] - log p(z | y)` with the entropy of q exact) with more.

    The parameters are stored divided by `learning_rate_multiplier`, so the optimizer moves
    them that many times faster than the networks' weights (see `MixturePrior`). They stay
    in float32 under mixed precision: log-densities are losses.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        num_classes: int >= 2. Number of labels. Defaults to `10`.
        num_components: int. Gaussians per class. Defaults to `1`.
        learning_rate_multiplier: float > 0. How much faster than the networks the prior
            learns. Defaults to `20.0`.
        seed: int or None. Seed of the initial component means (standard normal, scaled by
            `0.1` so every class starts near N(0, I)). Defaults to `None`.

    Example:
    <!-- skip: trains for minutes -->
    ```python
    prior = keras_vae.ClassConditionalPrior(16, num_classes=10)
    cvae = keras_vae.ConditionalVAE(num_classes=10, latent_dim=16, prior=prior)
    cvae.compile()
    cvae.fit(x_train, y_train, epochs=15)
    sevens = cvae.sample(16, labels=7, seed=0)  # z drawn from p(z | y = 7)
    ```
    """

    def __init__(
        self,
        latent_dim=2,
        num_classes=10,
        num_components=1,
        learning_rate_multiplier=20.0,
        seed=None,
        **kwargs,
    ):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        owner = type(self).__name__
        check_int(owner, "latent_dim", latent_dim)
        check_int(owner, "num_classes", num_classes, least=2)
        check_int(owner, "num_components", num_components)
        multiplier = check_multiplier(owner, learning_rate_multiplier)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.num_components = num_components
        self.learning_rate_multiplier = multiplier
        self.seed = seed
        shape = (num_classes, num_components, latent_dim)
        # Stored divided by the multiplier (see the class docs); read through `parameters()`.
        self.scaled_means = self.add_weight(
            shape=shape,
            initializer=keras.initializers.RandomNormal(stddev=0.1 / multiplier, seed=seed),
            name="means",
        )
        self.scaled_log_vars = self.add_weight(shape=shape, initializer="zeros", name="log_vars")
        # One component per class has nothing to weigh: its weight stays out of training.
        self.scaled_logits = self.add_weight(
            shape=(num_classes, num_components),
            initializer="zeros",
            trainable=num_components > 1,
            name="logits",
        )
        self.built = True

    def parameters(self):
        """`(means (c, k, d), log_vars (c, k, d), logits (c, k))` as float32 tensors: per
        class, the component means, log-variances and unnormalised log-weights."""
        return unscaled(self._scaled_variables(), self.learning_rate_multiplier)

    def set_parameters(self, means, log_vars, logits):
        """Sets the components: means and log-variances `(c, k, d)`, logits `(c, k)`."""
        assign_unscaled(
            f"{type(self).__name__}.set_parameters()",
            self._scaled_variables(),
            (means, log_vars, logits),
            self.learning_rate_multiplier,
        )

    def _scaled_variables(self):
        return (self.scaled_means, self.scaled_log_vars, self.scaled_logits)

    def _check_condition(self, condition, method):
        if condition is None or condition.shape[-1] != self.num_classes:
            got = None if condition is None else tuple(condition.shape)
            raise ValueError(
                f"ClassConditionalPrior.{method}() expects `condition` as one-hot rows"
                f" (batch, {self.num_classes}); got {got}."
            )
        return ops.cast(condition, "float32")

    def class_parameters(self, condition):
        """The parameters of each example's class: means and log-variances `(batch, k, d)`,
        log-weights `(batch, k)` (normalised), for one-hot `condition` `(batch, c)`."""
        condition = self._check_condition(condition, "class_parameters")
        means, log_vars, logits = self.parameters()
        return (
            ops.einsum("bc,ckd->bkd", condition, means),
            ops.einsum("bc,ckd->bkd", condition, log_vars),
            ops.matmul(condition, logits - ops.logsumexp(logits, axis=-1, keepdims=True)),
        )

    def log_prob(self, z, condition):
        """log p(z | y) summed over the latent axis: z `(..., batch, d)` with one-hot
        `condition` `(batch, c)` -> `(..., batch)`."""
        means, log_vars, log_weights = self.class_parameters(condition)
        per_component = losses.log_normal_density(
            ops.cast(z, "float32")[..., None, :], means, log_vars
        )
        return ops.logsumexp(per_component + log_weights, axis=-1)

    def kl_divergence(self, z_mean, z_log_var, condition):
        """KL(N(z_mean, exp(z_log_var)) || p(z | y)) per example, `(batch,)`, in closed form;
        only with one component per class (a mixture has no closed form)."""
        if self.num_components != 1:
            raise ValueError(
                "ClassConditionalPrior.kl_divergence() has a closed form with num_components=1"
                f" only; got num_components={self.num_components}."
            )
        means, log_vars, _ = self.class_parameters(condition)
        return losses.gaussian_kl_divergence(
            ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32"), means[:, 0], log_vars[:, 0]
        )

    def call(self, inputs):
        """`[z, one_hot] -> log p(z | y)`; see `log_prob`."""
        z, condition = inputs
        return self.log_prob(z, condition)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1])

    def component_parameters(self, label):
        """`(means, scales, weights)` of class `label` as numpy float32: `(k, d)`, `(k, d)`
        standard deviations and `(k,)` probabilities."""
        valid = isinstance(label, int) and not isinstance(label, bool)
        if not valid or not 0 <= label < self.num_classes:
            raise ValueError(
                "ClassConditionalPrior.component_parameters() expects `label` as an int in"
                f" [0, {self.num_classes}); got {label!r}."
            )
        means, log_vars, logits = self.parameters()
        return (
            ops.convert_to_numpy(means[label]),
            ops.convert_to_numpy(ops.exp(0.5 * log_vars[label])),
            ops.convert_to_numpy(ops.exp(logits[label] - ops.logsumexp(logits[label]))),
        )

    def get_config(self):
        return prior_config(
            super().get_config(),
            latent_dim=self.latent_dim,
            num_classes=self.num_classes,
            num_components=self.num_components,
            learning_rate_multiplier=self.learning_rate_multiplier,
            seed=self.seed,
        )
