"""A few train steps on fixed random batches under any strategy, for the replica-equivalence checks
(mirrored_check.py, multiworker_check.py). Imports TensorFlow: import after configuring devices."""

import tempfile

import keras
import numpy as np
import tensorflow as tf

from keras_ser.config import FitConfig, ModelConfig, TrainConfig
from keras_ser.training.trainer import DataPlan, Trainer

HEADS = {"gender": 2, "language": 2, "corpus": 3, "speaker": 5}
STEPS = 3
SAMPLES = 128  # drawn once, whatever the batch size, so every run sees the same samples


def batches(global_batch, seed, context=None):
    """Every input pipeline yields the same sequence of per-replica batches."""
    rng = np.random.default_rng(0)
    n = SAMPLES
    x = rng.normal(size=(n, 32, 129, 1)).astype("float32")
    labels = {task: rng.integers(0, 2, n).astype("int32") for task in ("arousal", "valence")}
    labels.update({head: rng.integers(0, size, n).astype("int32") for head, size in HEADS.items()})
    weights = {key: np.ones(n, "float32") for key in labels}
    weights["valence"][::3] = 0.0  # unlabelled samples must not count
    labels["utterance"] = np.array([b"c/u"] * n)
    per_replica = context.get_per_replica_batch_size(global_batch) if context else global_batch
    return tf.data.Dataset.from_tensor_slices((x, labels, weights)).batch(per_replica, drop_remainder=True).repeat()


def make_trainer(strategy, global_batch, loss="sc", fused=True, seed=0, run_dir=None, center_form="bounded",
                 steps=STEPS, ema=0.0) -> Trainer:
    """A small DANN_2 on `batches`, `steps` steps per epoch, initialised from `seed` (weight average at `ema`)."""
    config = FitConfig(
        model=ModelConfig(preset="dann2", loss=loss, dropout=0.0, conv_filters=[4, 8, 8], lstm_units=8,
                          fused_batch_norm=fused, center_form=center_form,
                          embedding_dim=8, domain_hidden=8),
        train=TrainConfig(batch_size=global_batch, epochs=1, seed=0, ema_momentum=ema),
    )
    keras.utils.set_random_seed(seed)
    plan = DataPlan(train_dataset=lambda seed, context=None: batches(global_batch, seed, context), val_dataset=None,
                    steps_per_epoch=steps, head_sizes=HEADS)
    return Trainer(config, strategy, plan, run_dir or tempfile.mkdtemp())


def trained_weights(strategy, global_batch, loss="sc", fused=True, center_form="bounded", steps=STEPS, ema=0.0):
    """(weights before, weights after, names, trainable flags, trainer) of one epoch (`steps` train steps) of
    `make_trainer`; the trainer's run folder holds the epoch's checkpoint. With `ema`, "after" is what the
    epoch kept: the trainable weights' moving average."""
    trainer = make_trainer(strategy, global_batch, loss, fused, center_form=center_form, steps=steps, ema=ema)
    model = trainer.network.training_model
    before = [v.numpy() for v in model.weights]
    trainer.fit(verbose=False)
    return before, [v.numpy() for v in model.weights], [v.path for v in model.weights], [
        any(v is t for t in model.trainable_weights) for v in model.weights], trainer


def distance(trained_a, trained_b) -> dict:
    """How far two `trained_weights` results are apart, and how far training moved the second's weights."""
    after_a = trained_a[1]
    before, after_b, names, trainable, _ = trained_b
    unmoved = [name for name, start, end, train in zip(names, before, after_b, trainable)
               if train and np.array_equal(start, end)]
    return {
        "weights_max_diff": float(max(np.max(np.abs(a - b)) for a, b in zip(after_a, after_b))),
        "weights_moved": float(max(np.max(np.abs(a - b)) for a, b in zip(before, after_b))),
        "trainable_count": int(sum(trainable)),
        "unmoved_trainable": unmoved,
        "weights_count": len(after_b),
    }


def compare(strategy_a, batch_a, strategy_b, batch_b, loss="sc", fused_b=True) -> dict:
    """`distance` of the same training under two strategies (each with its own batch size)."""
    return distance(trained_weights(strategy_a, batch_a, loss), trained_weights(strategy_b, batch_b, loss, fused=fused_b))
