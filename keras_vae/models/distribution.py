"""What the training step asks of the distribution strategy: the replica count, and whether
Keras will reduce step outputs across workers."""

import tensorflow as tf


def replica_count() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


def cluster_worker_count(cluster_resolver) -> int:
    """How many workers a `MultiWorkerMirroredStrategy` counts in its cluster.

    The public-API form of what TensorFlow computes for the private
    `strategy.extended._in_multi_worker_mode()` (which Keras asks before reducing step
    outputs across workers): the chief and worker tasks, or the evaluators for an evaluator;
    one for a local strategy with an empty cluster. `tests/models/test_model_contract.py`
    compares both, so a change upstream fails there.
    """
    spec = cluster_resolver.cluster_spec().as_dict()
    if not spec:
        return 1
    if cluster_resolver.task_type == "evaluator":
        return len(spec.get("evaluator", []))
    return len(spec.get("chief", [])) + len(spec.get("worker", []))


def is_multi_worker(strategy=None) -> bool:
    """Whether `strategy` (default: the one in scope) trains on several workers."""
    strategy = strategy or tf.distribute.get_strategy()
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and cluster_worker_count(strategy.cluster_resolver) > 1
    )
