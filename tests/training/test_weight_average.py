"""train.ema_momentum: what a run validates and keeps is the moving average of the weights each step trained,
and training itself is the run without the average."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_ser.models import task_layers
from keras_ser.training.trainer import _load_arrays
from tests.training.strategy_equivalence import batches, make_trainer, trained_weights

GLOBAL_BATCH = 32
# Far from 1, so that the average of three steps is far from the last step's weights.
MOMENTUM = 0.5


def _trainable(trainer):
    return [v.numpy() for v in trainer.network.training_model.trainable_weights]


def _gap(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def test_kept_weights_are_the_moving_average_of_every_steps_weights():
    strategy = tf.distribute.get_strategy()
    # The weights after step 1, 2 and 3 of the same run without an average.
    steps = [_trainable(trained_weights(strategy, GLOBAL_BATCH, steps=n)[4]) for n in (1, 2, 3)]
    expected = steps[0]
    for weights in steps[1:]:
        expected = [MOMENTUM * average + (1 - MOMENTUM) * w for average, w in zip(expected, weights)]
    averaged = trained_weights(strategy, GLOBAL_BATCH, steps=3, ema=MOMENTUM)[4]
    kept = _trainable(averaged)
    assert _gap(kept, expected) < 1e-6
    assert _gap(kept, steps[-1]) > 1e-3
    # The checkpoint holds the trained weights (training goes on from them on
    # resume) and their average, which the optimizer restores.
    restored = make_trainer(strategy, GLOBAL_BATCH, seed=1, run_dir=averaged.run_dir, ema=MOMENTUM)
    assert restored.restore() == 1
    assert _gap(_trainable(restored), steps[-1]) == 0.0
    # (built over the model's trainable weights, in their order)
    averages = [v.numpy() for v in restored.optimizer._model_variables_moving_average]
    assert _gap(averages, kept) == 0.0


def test_without_an_average_the_last_steps_weights_are_kept():
    strategy = tf.distribute.get_strategy()
    trainer = trained_weights(strategy, GLOBAL_BATCH, steps=2)[4]
    assert not trainer.optimizer.use_ema
    restored = make_trainer(strategy, GLOBAL_BATCH, seed=1, run_dir=trainer.run_dir)
    assert restored.restore() == 1
    assert _gap(_trainable(restored), _trainable(trainer)) == 0.0


def test_an_average_longer_than_the_run_is_warned_about(recwarn):
    make_trainer(tf.distribute.get_strategy(), GLOBAL_BATCH, steps=3, ema=0.99)
    assert any("train.ema_momentum 0.99 averages over about 100 steps, but the run has at most 3" in str(w.message)
               for w in recwarn.list)
    recwarn.clear()
    make_trainer(tf.distribute.get_strategy(), GLOBAL_BATCH, steps=6, ema=0.5)  # 3 averaging spans of 2 steps
    assert not [w for w in recwarn.list if "train.ema_momentum" in str(w.message)]


def test_each_tasks_kept_layers_are_their_average():
    strategy = tf.distribute.get_strategy()
    last_step = trained_weights(strategy, GLOBAL_BATCH)[4]
    trainer = make_trainer(strategy, GLOBAL_BATCH, ema=MOMENTUM)
    # With validation speakers, so each task's best layers are kept (best_tasks/<task>.npz).
    trainer.plan = dataclasses.replace(trainer.plan, val_dataset=lambda: batches(GLOBAL_BATCH, 0).take(2))
    trainer.fit(verbose=False)
    optimizer = trainer.optimizer
    averages = {v.path: a.numpy() for v, a in zip(optimizer._trainable_variables,
                                                  optimizer._model_variables_moving_average)}
    last = {v.path: v.numpy() for v in last_step.network.training_model.trainable_weights}
    compared = 0
    for task in trainer.network.tasks:
        kept = _load_arrays(trainer._task_best_path(task))
        for layer in task_layers(trainer.network, task):
            for index, variable in enumerate(layer.weights):
                if variable.path in averages:
                    np.testing.assert_array_equal(kept[f"{layer.name}/{index}"], averages[variable.path])
                    assert float(np.max(np.abs(kept[f"{layer.name}/{index}"] - last[variable.path]))) > 1e-4
                    compared += 1
    assert compared >= 4
