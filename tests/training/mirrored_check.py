"""Run as a subprocess: two logical CPU devices must exist before TensorFlow starts.

Prints one JSON line comparing a 2-replica MirroredStrategy run with a
1-replica run on the same global batches.
"""

import json
import os
import sys

import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
)

import numpy as np  # noqa: E402

from keras_ser.layers import CenterLoss  # noqa: E402
from tests.training.strategy_equivalence import compare  # noqa: E402

GLOBAL_BATCH = 32


def center_update(strategy, x, y, w):
    with strategy.scope():
        layer = CenterLoss(num_classes=2, alpha=0.5)
        layer.build([(None, x.shape[1]), (None,), (None,)])
        layer.centers.assign(np.array([[0.5] * x.shape[1], [-0.5] * x.shape[1]], "float32"))
    dataset = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(GLOBAL_BATCH)
    for batch in strategy.experimental_distribute_dataset(dataset):
        strategy.run(lambda a, b, c: layer([a, b, c], training=True), args=batch)
    return layer.centers.numpy()


def main():
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    two = tf.distribute.MirroredStrategy(devices=devices)
    one = tf.distribute.MirroredStrategy(devices=devices[:1])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(GLOBAL_BATCH * 2, 6)).astype("float32")
    y = rng.integers(0, 2, GLOBAL_BATCH * 2).astype("int32")
    w = (rng.random(GLOBAL_BATCH * 2) > 0.25).astype("float32")
    centers_two, centers_one = center_update(two, x, y, w), center_update(one, x, y, w)
    print(json.dumps({
        "replicas": two.num_replicas_in_sync,
        "center_max_diff": float(np.max(np.abs(centers_two - centers_one))),
        "center_moved": float(np.max(np.abs(centers_one - np.array([[0.5] * 6, [-0.5] * 6])))),
        # The same global batches: 2 replicas of 16 against 1 replica of 32.
        **compare(two, GLOBAL_BATCH, one, GLOBAL_BATCH),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
