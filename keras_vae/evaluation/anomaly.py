"""Anomaly scores from a trained VAE, and the ROC AUC to rate them as a detector."""

import numpy as np

from keras_vae.evaluation.likelihood import elbo, log_likelihood

ANOMALY_METHODS = ("elbo", "iw")


def anomaly_scores(
    model,
    x,
    method: str = "elbo",
    labels=None,
    num_samples: int | None = None,
    batch_size: int = 100,
    seed: int | None = None,
    verbose: int = 0,
) -> np.ndarray:
    """Per-example anomaly scores: higher means less like the training data.

    Args:
        model: a trained `VAE`.
        x: images (array or dataset) to score.
        method: str. `"elbo"`, the negative ELBO (fast), or `"iw"`, the negative
            importance-weighted log-likelihood (tighter, `num_samples` times the cost).
            Defaults to `"elbo"`.
        labels: labels, for a conditional model.
        num_samples: int or None. Draws of z per example; defaults to `1` for `"elbo"` and
            `100` for `"iw"`.
        batch_size: int. Defaults to `100`.
        seed: int or None. Makes the scores repeatable. Defaults to `None`.
        verbose: int. `1` shows a progress bar. Defaults to `0`.

    Returns:
        float64 array `(n,)` of scores in nats; use `roc_auc` to rate a detector.
    """
    if method not in ANOMALY_METHODS:
        raise ValueError(f"anomaly_scores() expects `method` in {ANOMALY_METHODS}; got {method!r}.")
    if method == "elbo":
        return elbo(
            model,
            x,
            labels=labels,
            batch_size=batch_size,
            num_samples=num_samples or 1,
            seed=seed,
            verbose=verbose,
        )["loss"]
    return -log_likelihood(
        model,
        x,
        labels=labels,
        num_samples=num_samples or 100,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
    )


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve of `scores` for binary `labels` (1 = positive), in numpy.

    Equals the probability that a random positive scores above a random negative, ties
    counting one half (the Mann-Whitney U statistic over n_pos * n_neg).

    Args:
        labels: array `(n,)` of 0 and 1. 1 marks a positive (an anomaly).
        scores: array `(n,)`. Higher means more likely positive.
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype="float64")
    if labels.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(
            "roc_auc() expects `labels` and `scores` as 1-D arrays of the same length; got"
            f" shapes {labels.shape} and {scores.shape}."
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"roc_auc() expects binary `labels` (0 or 1); got {np.unique(labels)}.")
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(
            "roc_auc() needs both classes in `labels`; got"
            f" {positives} positives and {negatives} negatives."
        )
    if not np.isfinite(scores).all():
        raise ValueError("roc_auc() expects finite `scores`; got NaN or infinity.")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # 1-based rank of each tie group: the mean of the ranks its members would share.
    group_ranks = np.cumsum(counts) - (counts - 1) / 2.0
    ranks = group_ranks[inverse]
    u = ranks[labels == 1].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))
