"""A learned prior: a mixture of Gaussians (diagonal or full covariances) trained jointly with
the VAE."""

import keras
import numpy as np
from keras import ops

from keras_vae import losses
from keras_vae.latent.mixture import GaussianMixture
from keras_vae.priors.base import LearnedPrior, diagonal_scale_tril

COVARIANCES = ("diagonal", "full")


@keras.saving.register_keras_serializable(package="keras_vae")
class MixturePrior(LearnedPrior):
    """p(z) = sum_k w_k N(z | means[k], diag(exp(log_vars[k]))), with every parameter learned.

    The standard normal prior asks every code to crowd around the origin, and the encoder
    cannot fill N(0, I) exactly: regions of the prior that no image maps to decode to blends
    of digits. A learned mixture moves towards where the codes are (its components become
    the "pools" of the data), so a draw from the model's own prior decodes to a typical image,
    and the KL term the model pays for its codes falls, which tightens the likelihood
    (Tomczak and Welling, 2018). Pass it to `VAE(prior=...)`; the KL term is then estimated
    from the posterior sample (`E_q[log q(z | x)] - log p(z)` with the entropy of q exact).

    A few hundred optimizer steps move a weight by a few hundred learning rates: far too
    little for a prior that must travel to where the codes are, so the encoder would end up
    fitting its codes to a prior that barely moved. The parameters are therefore stored
    divided by `learning_rate_multiplier`, which makes an optimizer such as Adam move them
    that many times faster than the networks' weights (the reason and the measured effect
    are in the README). The parameters stay in float32 under mixed precision: log-densities
    are losses.

    Args:
        latent_dim: int. Size of the latent vector. Defaults to `2`.
        num_components: int. Number of Gaussians. Defaults to `10`.
        learning_rate_multiplier: float > 0. How much faster than the networks the prior
            learns. Defaults to `20.0`.
        seed: int or None. Seed of the initial component means (standard normal). Defaults
            to `None`.
        covariance: `"diagonal"` or `"full"`. With `"full"` every Gaussian also learns the
            correlations between latent dimensions: its precision is `U U^T` with `U` lower
            triangular, `U_ii = exp(-log_vars_i / 2)` and the entries below the diagonal
            learned too, at the networks' learning rate (zero at the start, where it equals
            the diagonal mixture), so the density needs no matrix solve. Defaults to
            `"diagonal"`.

    Example:
    ```python
    vae = keras_vae.VAE(latent_dim=16, prior=keras_vae.MixturePrior(16, num_components=20))
    vae.compile()
    vae.fit(x_train, epochs=20)
    digits = vae.sample(16, seed=0)  # draws from the learned prior
    ```
    """

    can_refit = True

    def __init__(
        self,
        latent_dim=2,
        num_components=10,
        learning_rate_multiplier=20.0,
        seed=None,
        covariance="diagonal",
        **kwargs,
    ):
        super().__init__(latent_dim, num_components, learning_rate_multiplier, seed, **kwargs)
        if covariance not in COVARIANCES:
            raise ValueError(
                f"{type(self).__name__} expects `covariance` as one of {COVARIANCES}; got"
                f" {covariance!r}."
            )
        self.covariance = covariance
        multiplier = self.learning_rate_multiplier
        shape = (num_components, latent_dim)
        # Stored divided by the multiplier (see the class docs); read through `parameters()`.
        self.scaled_means = self.add_weight(
            shape=shape,
            initializer=keras.initializers.RandomNormal(stddev=1.0 / multiplier, seed=seed),
            name="means",
        )
        self.scaled_log_vars = self.add_weight(shape=shape, initializer="zeros", name="log_vars")
        self.scaled_logits = self.add_weight(
            shape=(num_components,), initializer="zeros", name="logits"
        )
        self.precision_offdiagonal = None
        if covariance == "full":
            # Only the entries below the diagonal are read (see `precision_tril`). Stored as
            # they are: with the multiplier they learned too fast and the draws got worse
            # (README, Variants).
            self.precision_offdiagonal = self.add_weight(
                shape=(num_components, latent_dim, latent_dim),
                initializer="zeros",
                name="precision_tril",
            )
        self.built = True

    def parameters(self):
        """`(means (k, d), log_vars (k, d), logits (k,))` as float32 tensors: the component
        means, log-variances and unnormalised log-weights."""
        return super().parameters()

    def set_parameters(self, means, log_vars, logits):
        """Sets the components: means and log-variances `(k, d)`, logits `(k,)`."""
        super().set_parameters(means, log_vars, logits)

    def _scaled_variables(self):
        return (self.scaled_means, self.scaled_log_vars, self.scaled_logits)

    def precision_tril(self):
        """`U` `(k, d, d)`, lower triangular, of each component's precision `U U^T`: the
        learned entries below the diagonal and `exp(-log_vars / 2)` on it (with
        `covariance="diagonal"`, the diagonal alone)."""
        return self._precision_tril(self.parameters()[1])

    def _precision_tril(self, log_vars):
        tril = ops.exp(-0.5 * log_vars)[:, :, None] * ops.eye(self.latent_dim, dtype="float32")
        if self.precision_offdiagonal is not None:
            below = ops.tril(ops.ones((self.latent_dim, self.latent_dim)), k=-1)
            tril = tril + self.precision_offdiagonal * below
        return tril

    def log_prob(self, z, condition=None):
        """log p(z) summed over the latent axis: `(..., latent_dim) -> (...)`; `condition`
        is ignored (one mixture for every class)."""
        means, log_vars, logits = self.parameters()
        z = ops.cast(z, "float32")[..., None, :]
        if self.precision_offdiagonal is None:
            per_component = losses.log_normal_density(z, means, log_vars)
        else:
            # log N(z | m, (U U^T)^-1) = sum_i log U_ii - |U^T (z - m)|^2 / 2 - d log(2 pi) / 2
            whitened = ops.einsum("...kd,kde->...ke", z - means, self._precision_tril(log_vars))
            per_component = -0.5 * ops.sum(
                losses.LOG_2PI + log_vars + ops.square(whitened), axis=-1
            )
        return ops.logsumexp(per_component + ops.log_softmax(logits), axis=-1)

    def call(self, z):
        return self.log_prob(z)

    def scale_tril(self):
        """The Cholesky factor `L` `(k, d, d)` of each component's covariance, numpy float32
        (for sampling: z = mean + L noise); diagonal standard deviations unless
        `covariance="full"`."""
        precision_tril = ops.convert_to_numpy(self.precision_tril()).astype("float64")
        # cov = (U U^T)^-1 = U^-T U^-1; its Cholesky factor from the inverse of U.
        inverse = np.linalg.inv(precision_tril)
        covariance = np.einsum("kji,kjl->kil", inverse, inverse)
        return np.linalg.cholesky(covariance).astype("float32")

    def component_parameters(self):
        """`(means, scales, weights)` as numpy float32: `(k, d)`, `(k, d)` standard
        deviations (the marginal ones with `covariance="full"`) and `(k,)` probabilities."""
        means, log_vars, logits = self.parameters()
        scales = ops.convert_to_numpy(ops.exp(0.5 * log_vars))
        if self.precision_offdiagonal is not None:
            scales = np.sqrt(np.sum(np.square(self.scale_tril()), axis=-1))
        return (
            ops.convert_to_numpy(means),
            scales.astype("float32"),
            ops.convert_to_numpy(ops.softmax(logits)),
        )

    def as_mixture(self, condition=None):
        """The components as a `keras_vae.latent.GaussianMixture`: the learned means, the
        covariances' Cholesky factors (diagonal unless `covariance="full"`) and weights;
        `condition` is ignored."""
        means, scales, weights = self.component_parameters()
        scale_tril = self.scale_tril() if self.covariance == "full" else diagonal_scale_tril(scales)
        return GaussianMixture(means, scale_tril, weights / weights.sum())

    def refit(self, draws, seed=None, max_iter=100):
        """Refits the mixture by EM to latent `draws` `(n, latent_dim)`, started from the
        prior as it is (so the draws' density cannot fall); returns the mean log-density of
        the draws `{"before": ..., "after": ...}`. scikit-learn's `GaussianMixture` (diagonal
        or full, as the prior) runs it; see `VAE.refit_prior`."""
        from sklearn.mixture import GaussianMixture as SklearnMixture

        before = float(ops.convert_to_numpy(self.log_prob(draws)).mean())
        means, _, logits = (ops.convert_to_numpy(t) for t in self.parameters())
        precision_tril = ops.convert_to_numpy(self.precision_tril()).astype("float64")
        precisions = np.einsum("kij,klj->kil", precision_tril, precision_tril)
        full = self.covariance == "full"
        weights = np.exp(logits - logits.max())
        mixture = SklearnMixture(
            self.num_components,
            covariance_type="full" if full else "diag",
            weights_init=weights / weights.sum(),
            means_init=means,
            precisions_init=precisions if full else np.diagonal(precisions, axis1=1, axis2=2),
            max_iter=max_iter,
            random_state=seed,
        ).fit(draws)
        if full:
            factor = np.linalg.cholesky(np.linalg.inv(mixture.covariances_))
            log_vars = -2.0 * np.log(np.diagonal(factor, axis1=1, axis2=2))
            self.precision_offdiagonal.assign(np.tril(factor, k=-1).astype("float32"))
        else:
            log_vars = np.log(mixture.covariances_)
        self.set_parameters(mixture.means_, log_vars, np.log(mixture.weights_))
        after = float(ops.convert_to_numpy(self.log_prob(draws)).mean())
        return {"before": before, "after": after}

    def get_config(self):
        config = super().get_config()
        config["covariance"] = self.covariance
        return config
