"""Honest numbers for trained models: the ELBO and the importance-weighted log-likelihood,
which latent dimensions are in use, anomaly scores, a judge of generated images, and how
close generated images come to the training images.

Example:
<!-- skip: trains a judge and runs 1,000-draw likelihoods -->
```python
from keras_vae import evaluation

terms = evaluation.elbo(vae, x_test)              # per-example negative ELBO, nats
log_px = evaluation.log_likelihood(vae, x_test, num_samples=1000)
print(terms["loss"].mean(), log_px.mean())        # log p(x) >= -mean negative ELBO
scores = evaluation.anomaly_scores(vae, x_new)    # higher = less like the training data

judge = evaluation.Judge.fit(x_train, y_train, seed=0)
report = judge.report(vae.sample(1000, seed=0), real=x_test)
print(report.recognisable, report.frechet, report.frechet_floor)
copies = evaluation.nearest_neighbour_distances(vae.sample(500, seed=0), x_train)
```
"""

from keras_vae.evaluation.anomaly import ANOMALY_METHODS, anomaly_scores, roc_auc
from keras_vae.evaluation.frechet import (
    frechet_distance,
    frechet_distance_of_features,
    gaussian_statistics,
)
from keras_vae.evaluation.judge import RECOGNISABLE_PROBABILITY, GenerationReport, Judge
from keras_vae.evaluation.latent_statistics import (
    ACTIVE_UNIT_THRESHOLD,
    active_units,
    count_active,
    kl_per_dimension,
    latent_statistics,
)
from keras_vae.evaluation.likelihood import MAX_DECODED_PER_CHUNK, elbo, log_likelihood
from keras_vae.evaluation.memorisation import nearest_neighbour_distances

__all__ = [
    "ACTIVE_UNIT_THRESHOLD",
    "ANOMALY_METHODS",
    "MAX_DECODED_PER_CHUNK",
    "RECOGNISABLE_PROBABILITY",
    "GenerationReport",
    "Judge",
    "active_units",
    "anomaly_scores",
    "count_active",
    "elbo",
    "frechet_distance",
    "frechet_distance_of_features",
    "gaussian_statistics",
    "kl_per_dimension",
    "latent_statistics",
    "log_likelihood",
    "nearest_neighbour_distances",
    "roc_auc",
]
