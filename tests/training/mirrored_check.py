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
from tests.training.strategy_equivalence import distance, make_trainer, trained_weights  # noqa: E402
from tests.training.strategy_equivalence import batches as shared_batches  # noqa: E402

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


def batches(seed, context=None):
    return shared_batches(GLOBAL_BATCH, seed, context)


def batch_norm_kernels(trainer):
    """Whether the train step's graph runs the fused BatchNorm kernel."""
    dataset = trainer.strategy.distribute_datasets_from_function(lambda context: batches(0, context))
    function = trainer._train_step.get_concrete_function(
        iter(dataset), tf.zeros([trainer.config.train.steps_per_execution]), tf.constant(1))
    graph = function.graph.as_graph_def()
    types = {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}
    return "FusedBatchNormV3" in types


def replica_spread(variables) -> float:
    """The largest difference between the replicas' copies of any of `variables`."""
    spread = 0.0
    for variable in variables:
        copies = [c.numpy() for c in getattr(variable.value, "values", [variable.value])]
        spread = max([spread] + [float(np.max(np.abs(c - copies[0]))) for c in copies[1:]])
    return spread


def interchange(source, target, x):
    """Restores the checkpoint of `source` (a `trained_weights` result) into a fresh trainer under `target`:
    max weight and prediction differences."""
    _, weights, _, _, trainer = source
    # Other initial weights (seed 1): restoring must set them all.
    restored = make_trainer(target, GLOBAL_BATCH, fused=trainer.config.model.fused_batch_norm, seed=1,
                            run_dir=trainer.run_dir)
    epoch = restored.restore()
    assert epoch == 1, epoch
    weight_diff = max(float(np.max(np.abs(a - b.numpy())))
                      for a, b in zip(weights, restored.network.training_model.weights))
    predictions = [network.inference_model(x, training=False) for network in (trainer.network, restored.network)]
    prediction_diff = max(float(np.max(np.abs(predictions[0][t] - predictions[1][t]))) for t in predictions[0])
    return weight_diff, prediction_diff


def main():
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    two = tf.distribute.MirroredStrategy(devices=devices)
    one = tf.distribute.MirroredStrategy(devices=devices[:1])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(GLOBAL_BATCH * 2, 6)).astype("float32")
    y = rng.integers(0, 2, GLOBAL_BATCH * 2).astype("int32")
    w = (rng.random(GLOBAL_BATCH * 2) > 0.25).astype("float32")
    centers_two, centers_one = center_update(two, x, y, w), center_update(one, x, y, w)
    # One epoch each: 2 replicas; 1 replica on the synchronized statistics
    # (the replica arithmetic itself); 1 replica on the fused kernel (the default).
    trained_two = trained_weights(two, GLOBAL_BATCH)
    trained_one_synchronized = trained_weights(one, GLOBAL_BATCH, fused=False)
    trained_one = trained_weights(one, GLOBAL_BATCH)
    x = np.random.default_rng(2).normal(size=(8, 32, 129, 1)).astype("float32")
    one_to_two, two_to_one = interchange(trained_one, two, x), interchange(trained_two, one, x)
    # The default center form (proxy centers, the classifier's directions), one step: Adadelta's
    # nearly sign-like first steps let float round-off grow over steps (3 steps: 2.7e-4).
    proxy = distance(trained_weights(two, GLOBAL_BATCH, center_form="proxy", steps=1),
                     trained_weights(one, GLOBAL_BATCH, fused=False, center_form="proxy", steps=1))
    # The weights' moving average (train.ema_momentum), swapped in and out on every replica.
    ema_two = trained_weights(two, GLOBAL_BATCH, ema=0.5)
    ema = distance(ema_two, trained_weights(one, GLOBAL_BATCH, fused=False, ema=0.5))
    ema["from_last_step"] = distance(ema_two, trained_two)["weights_max_diff"]
    ema["average_copies_max_diff"] = replica_spread(ema_two[4].optimizer._model_variables_moving_average)
    print(json.dumps({
        "replicas": two.num_replicas_in_sync,
        "center_max_diff": float(np.max(np.abs(centers_two - centers_one))),
        "center_moved": float(np.max(np.abs(centers_one - np.array([[0.5] * 6, [-0.5] * 6])))),
        "fused_batch_norm": {"one": batch_norm_kernels(trained_one[4]), "two": batch_norm_kernels(trained_two[4])},
        "checkpoint_one_to_two": one_to_two,
        "checkpoint_two_to_one": two_to_one,
        # The same global batches: 2 replicas of 16 against 1 replica of 32
        # on the synchronized statistics (the replica arithmetic itself)...
        **distance(trained_two, trained_one_synchronized),
        # ...and against 1 replica on the fused kernel (the product's default).
        "fused_weights_max_diff": distance(trained_two, trained_one)["weights_max_diff"],
        "proxy": proxy,
        "ema": ema,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
