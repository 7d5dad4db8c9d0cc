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


# A worker that sends no heartbeat for this long is declared dead: the
# coordination service aborts the collectives and the survivors exit with an
# error instead of waiting on their peer. Long enough for a loaded machine's
# scheduling hiccups (TensorFlow's parameter-server strategy uses 5 s).
HEARTBEAT_TIMEOUT_SECONDS = 10


def _configure_health_check(cluster_resolver) -> None:
    """Sets the coordination service's heartbeat timeout before the strategy starts it.

    MultiWorkerMirroredStrategy only configures the service (with TensorFlow's
    default timeout) when none is configured; there is no public setting, so
    this does what TensorFlow's own ParameterServerStrategyV2 does.
    """
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context

    if context.context().coordination_service is not None:
        return
    cluster = cluster_resolver.cluster_spec()
    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=multi_worker_util.coordination_leader(cluster),
        heartbeat_timeout_in_ms=HEARTBEAT_TIMEOUT_SECONDS * 1000,
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=cluster.num_tasks(job))
                          for job in ("chief", "worker") if job in cluster.jobs],
    )


def _multi_worker():
    if "TF_CONFIG" not in os.environ:
        raise ValueError("train.strategy multi_worker needs the TF_CONFIG environment variable (cluster and task)")
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    _configure_health_check(resolver)
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


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
