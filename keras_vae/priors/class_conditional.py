"""A learned class-conditional prior p(z | y): a mixture of diagonal Gaussians per class."""

import keras
import numpy as np
from keras import ops

from keras_vae import losses
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.priors.base import LearnedPrior, check_int, diagonal_scale_tril


@keras.saving.register_keras_serializable(package="keras_vae")
class ClassConditionalPrior(LearnedPrior):
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
        check_int(type(self).__name__, "num_classes", num_classes, least=2)
        super().__init__(latent_dim, num_components, learning_rate_multiplier, seed, **kwargs)
        self.num_classes = num_classes
        multiplier = self.learning_rate_multiplier
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

    is_conditional = True

    def parameters(self):
        """`(means (c, k, d), log_vars (c, k, d), logits (c, k))` as float32 tensors: per
        class, the component means, log-variances and unnormalised log-weights."""
        return super().parameters()

    def set_parameters(self, means, log_vars, logits):
        """Sets the components: means and log-variances `(c, k, d)`, logits `(c, k)`."""
        super().set_parameters(means, log_vars, logits)

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

    def check_model(self, model, owner):
        super().check_model(model, owner)
        if self.num_classes != model.num_classes:
            raise ValueError(
                f"{owner} expects a `prior` of num_classes {model.num_classes} (the model's);"
                f" got a ClassConditionalPrior of num_classes {self.num_classes}."
            )

    def log_prob(self, z, condition=None):
        """log p(z | y) summed over the latent axis: z `(..., batch, d)` with one-hot
        `condition` `(batch, c)` -> `(..., batch)`."""
        means, log_vars, log_weights = self.class_parameters(condition)
        per_component = losses.log_normal_density(
            ops.cast(z, "float32")[..., None, :], means, log_vars
        )
        return ops.logsumexp(per_component + log_weights, axis=-1)

    def kl(self, z_mean, z_log_var, z=None, condition=None):
        """KL(q(z | x, y) || p(z | y)) per example, `(batch,)`: in closed form with one
        component per class, else the estimate at the posterior sample `z` (see `Prior.kl`)."""
        if self.num_components == 1:
            return self.kl_divergence(z_mean, z_log_var, condition)
        return super().kl(z_mean, z_log_var, z, condition)

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

    # Drawing ------------------------------------------------------------------------------

    def as_mixture(self, condition=None):
        """The prior of class `condition` (an int label) as a `keras_vae.latent.GaussianMixture`
        of its `num_components` Gaussians. There is no mixture without a class: `condition`
        None raises (the classes' priors are `as_mixture(y)` for each `y`)."""
        if isinstance(condition, np.integer):
            condition = int(condition)
        if isinstance(condition, bool) or not isinstance(condition, int):
            raise ValueError(
                "ClassConditionalPrior.as_mixture() needs `condition`, the class whose prior"
                f" p(z | y) to give (an int in [0, {self.num_classes})); got {condition!r}."
            )
        means, scales, weights = self.component_parameters(condition)
        return GaussianMixture(means, diagonal_scale_tril(scales), weights / weights.sum())

    def sample(self, n, seed=None, condition=None, temperature=1.0):
        """`n` draws from p(z | y), float32 `(n, latent_dim)`, one per row of the one-hot
        `condition` `(n, num_classes)`, standard deviations scaled by `temperature`; `seed`
        is an int, None or a Keras `SeedGenerator`."""
        if condition is not None:
            condition = ops.convert_to_tensor(condition)
        condition = self._check_condition(condition, "sample")
        generator = seed
        if seed is not None and not isinstance(seed, keras.random.SeedGenerator):
            generator = keras.random.SeedGenerator(seed)
        means, log_vars, log_weights = self.class_parameters(condition)
        component = keras.random.categorical(log_weights, 1, seed=generator)
        index = ops.reshape(component, (n, 1, 1))
        mean = ops.take_along_axis(means, index, axis=1)[:, 0]
        log_var = ops.take_along_axis(log_vars, index, axis=1)[:, 0]
        noise = keras.random.normal((n, self.latent_dim), dtype="float32", seed=generator)
        return ops.convert_to_numpy(mean + temperature * ops.exp(0.5 * log_var) * noise)

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
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
