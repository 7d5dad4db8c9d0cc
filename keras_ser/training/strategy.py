"""tf.distribute strategies by name (a registry, not an if/elif chain)."""

import json
import os

import tensorflow as tf


def _local_devices():
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


def _mirrored():
    # Over all local GPUs, or all logical CPU devices when there is no GPU
    # (MirroredStrategy's own default would take one CPU only).
    return tf.distribute.MirroredStrategy(devices=_local_devices())


def _multi_worker():
    if "TF_CONFIG" not in os.environ:
        raise ValueError("train.strategy multi_worker needs the TF_CONFIG environment variable (cluster and task)")
    return tf.distribute.MultiWorkerMirroredStrategy()


def _auto():
    if "TF_CONFIG" in os.environ:
        return _multi_worker()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return _mirrored()
    return tf.distribute.get_strategy()


STRATEGIES = {
    "auto": _auto,
    "default": tf.distribute.get_strategy,
    "mirrored": _mirrored,
    "multi_worker": _multi_worker,
}


def make_strategy(name: str) -> tf.distribute.Strategy:
    return STRATEGIES[name]()


def is_chief() -> bool:
    """Only the chief writes run files; other workers write to scratch folders."""
    if not os.environ.get("TF_CONFIG"):
        return True
    config = json.loads(os.environ["TF_CONFIG"])
    task, cluster = config.get("task", {}), config.get("cluster", {})
    if "chief" in cluster:
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0
