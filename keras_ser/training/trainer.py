"""The training loop: one distributed train step for every tf.distribute strategy.

Keras 3's `Model.fit` fails under MultiWorkerMirroredStrategy
(keras-team/keras#20585), so the step is our own: `strategy.run` of a replica
step whose losses are normalised by the *global* labelled count (all-reduced),
so that gradients summed over replicas equal the one-replica gradient of the
global batch. The same loop serves the default, Mirrored and MultiWorker
strategies; tuning trials reuse it.

Objective (paper eq. 1, 2, 6; `keras_ser.training.objective`), per emotion
task t and domain head d:
    L = sum_t [lambda * CE_t + (1 - lambda) * Center_t] + sum_d CE_d
The domain heads minimise CE_d; the gradient reversal layer hands the feature
extractor -gamma times their gradient.

Early stopping is per task: training goes on while any task's validation UA
still improves (and always for the first `train.min_epochs` epochs), and
each task's own layers (projection, classifier, centers) are kept from that
task's best epoch; at the end they are placed on the
shared layers of the best mean-UA epoch wherever that raises the task's
validation UA (see `load_best`).
"""

import contextlib
import dataclasses
import json
import math
import os
import shutil
import tempfile
import warnings
from typing import Callable, Dict, List, Optional

import keras
import numpy as np
import tensorflow as tf

from keras_ser.config import FitConfig
from keras_ser.evaluation import inference_function, mean_utterance_ua, predictions_of, score
from keras_ser.layers import ganin_coefficient
from keras_ser.models import build_network, task_layers
from keras_ser.training.objective import objective_terms
from keras_ser.training.strategy import is_chief
from keras_ser.io import atomic_write_json

OPTIMIZERS = {
    "adadelta": keras.optimizers.Adadelta,
    "adam": keras.optimizers.Adam,
    "sgd": keras.optimizers.SGD,
}


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be restored (corrupt or from another model)."""


@dataclasses.dataclass
class DataPlan:
    """What the loop needs from the data side: dataset factories and sizes."""

    # (seed, input_context) -> endless training dataset of fixed-size batches
    train_dataset: Callable
    # () -> evaluation dataset over the validation speakers, or None
    val_dataset: Optional[Callable]
    steps_per_epoch: int
    head_sizes: Dict[str, int]


class Trainer:
    """Builds the network under a strategy and trains it with checkpoints.

    Args:
        config: the resolved run configuration.
        strategy: any tf.distribute strategy.
        plan: datasets and head sizes (see `DataPlan`).
        run_dir: where checkpoints, TensorBoard logs and history go (chief only).
    """

    def __init__(self, config: FitConfig, strategy: tf.distribute.Strategy, plan: DataPlan, run_dir: str):
        self.config, self.strategy, self.plan = config, strategy, plan
        self.run_dir = run_dir
        self.chief = is_chief()
        # Non-chief workers must still write their checkpoint shards somewhere.
        self.write_dir = run_dir if self.chief else tempfile.mkdtemp(prefix="keras_ser_worker_")
        model_config, ema = config.model, config.train.ema_momentum
        with strategy.scope():
            self.network = build_network(model_config, config.features, config.tasks, config.heads, plan.head_sizes,
                                         unroll=True)  # unrolled: faster steps here than the loop (benchmarks/train_throughput.py)
            self.optimizer = OPTIMIZERS[config.train.optimizer](
                learning_rate=config.train.learning_rate, use_ema=ema > 0, ema_momentum=ema)
            self.optimizer.build(self.network.training_model.trainable_variables)
            self.epoch = tf.Variable(0, trainable=False, dtype=tf.int64, name="epoch")
            self.best_ua = tf.Variable(-1.0, trainable=False, dtype=tf.float64, name="best_ua")
            self.bad_epochs = tf.Variable(0, trainable=False, dtype=tf.int64, name="bad_epochs")
            # Per task (in config.tasks order): its best validation UA and epoch,
            # and its UA at the epoch of the best mean UA.
            tasks = len(config.tasks)
            self.best_task_ua = tf.Variable([-1.0] * tasks, trainable=False, dtype=tf.float64, name="best_task_ua")
            self.best_task_epoch = tf.Variable([0] * tasks, trainable=False, dtype=tf.int64, name="best_task_epoch")
            self.best_epoch_task_ua = tf.Variable([-1.0] * tasks, trainable=False, dtype=tf.float64,
                                                  name="best_epoch_task_ua")
        self.checkpoint = tf.train.Checkpoint(
            model=self.network.training_model, optimizer=self.optimizer,
            epoch=self.epoch, best_ua=self.best_ua, bad_epochs=self.bad_epochs,
            best_task_ua=self.best_task_ua, best_task_epoch=self.best_task_epoch,
            best_epoch_task_ua=self.best_epoch_task_ua,
        )
        self.manager = tf.train.CheckpointManager(self.checkpoint, os.path.join(self.write_dir, "checkpoints"), max_to_keep=2)
        # The whole network at the best mean-UA epoch (its variables' values: written
        # in 0.01 s, where Keras's .weights.h5 took 0.07-0.09 s of every improving epoch);
        # best.weights.h5 is that with each task's own best layers placed on it (`load_best`).
        self.best_epoch_weights = os.path.join(self.write_dir, "best_epoch.npz")
        self.best_weights = os.path.join(self.write_dir, "best.weights.h5")
        self.task_selection: Dict[str, dict] = {}
        self.total_steps = max(1, plan.steps_per_epoch * config.train.epochs)
        if ema and self.chief and self.total_steps < 3 / (1 - ema):
            warnings.warn(f"train.ema_momentum {ema} averages over about {1 / (1 - ema):.0f} steps, but the run "
                          f"has at most {self.total_steps}: the kept weights lean on the first steps' "
                          f"(a lower momentum, or 0, suits so short a run)")
        self._step_keys: List[str] = []
        self._train_step = self._make_train_step()
        # Traced once for every validation (a fresh tf.function per epoch retraced each time).
        self._predict = inference_function(self.network.inference_model)
        # The validation speakers' batches, parsed and normalised once, kept in memory for every epoch.
        self._val_data = None

    # ------------------------------------------------------------------
    # One step

    def _replica_step(self, x, labels, weights):
        config, network = self.config, self.network
        replica = tf.distribute.get_replica_context()

        def global_count(w):
            return tf.maximum(replica.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(w)), 1.0)

        inputs = {"spectrogram": x}
        for task in network.center_losses:
            inputs[f"{task}_label"] = labels[task]
            inputs[f"{task}_weight"] = weights[task]
        with tf.GradientTape() as tape:
            outputs = network.training_model(inputs, training=True)
            terms = objective_terms(outputs, labels, weights, network.tasks, list(network.center_losses),
                                    network.heads, config.model.lambda_, global_count)
            total = terms["total"]
        metrics = {}
        for name in network.tasks + network.heads:
            correct = tf.cast(tf.equal(tf.argmax(outputs[name], -1, output_type=tf.int32), labels[name]), tf.float32)
            metrics[f"{name}_accuracy"] = tf.reduce_sum(correct * weights[name]) / global_count(weights[name])
        variables = network.training_model.trainable_variables
        gradients = tape.gradient(total, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return {**terms, **metrics}

    def _make_train_step(self):
        strategy, reversal = self.strategy, self.network.reversal
        scheduled = self.config.model.gamma_schedule == "ganin" and bool(self.network.heads)

        keys = self._step_keys
        # The step has no tensor-dependent Python control flow; autograph would
        # only convert the Keras model and the losses again at every trace
        # (seconds each), as Keras's own train step avoids with do_not_convert.
        replica_step = tf.autograph.experimental.do_not_convert(self._replica_step)

        def stacked(values):
            keys[:] = sorted(values)
            return tf.stack([tf.cast(values[k], tf.float64) for k in keys])

        @tf.function
        def train_steps(iterator, gammas, count):
            """`count` train steps in one call (as Keras's steps_per_execution).

            The host is reached once per call: gamma for each step comes in
            (`gammas`, padded to a fixed length so that one trace serves every
            call), the sum of the steps' values comes out (float64, in the
            order of `self._step_keys`).
            """
            sums = tf.zeros([0], tf.float64)
            for i in tf.range(count):
                tf.autograph.experimental.set_loop_options(shape_invariants=[(sums, tf.TensorShape([None]))])
                if scheduled:
                    reversal.set_gamma(gammas[i])
                x, labels, weights = next(iterator)
                per_replica = strategy.run(replica_step, args=(x, labels, weights))
                # Each replica's value is its share of the global mean: SUM is the global value.
                step = stacked({k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                                for k, v in per_replica.items()})
                sums = tf.pad(sums, [[0, tf.size(step) - tf.size(sums)]]) + step
            return sums

        return train_steps

    def _run_steps(self, iterator, first_step: int, count: int) -> Dict[str, float]:
        """Steps first_step .. first_step + count - 1 of the run; returns their summed values."""
        gammas = [self._gamma_at(first_step + i) for i in range(count)]
        gammas += [0.0] * (self.config.train.steps_per_execution - count)
        sums = self._train_step(iterator, tf.constant(gammas, tf.float32), tf.constant(count))
        return dict(zip(self._step_keys, sums.numpy().tolist()))

    # ------------------------------------------------------------------
    # Epochs

    def restore(self) -> int:
        """Restores the latest checkpoint if any; returns the epoch to start at.

        Every worker restores from the run folder's checkpoints (the chief's),
        so a restarted cluster resumes in step; the run folder must be on
        storage the workers share.
        """
        latest = tf.train.latest_checkpoint(os.path.join(self.run_dir, "checkpoints"))
        if latest is None:
            return 0
        try:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError) as err:
            raise CheckpointError(f"cannot restore checkpoint {latest}: {str(err).splitlines()[0]}") from err
        return int(self.epoch.numpy())

    def _reseed_dropout(self, epoch: int) -> None:
        # Dropout noise is a function of (seed, epoch), so a resumed run draws
        # exactly the noise the uninterrupted run drew.
        for layer in self.network.training_model._flatten_layers():
            generator = getattr(layer, "seed_generator", None)
            if generator is not None:
                generator.state.assign(np.array([self.config.train.seed, epoch], dtype=generator.state.dtype))

    def _gamma_at(self, step: int) -> float:
        """The reversal coefficient of a step (used only with the ganin schedule)."""
        progress = min(1.0, step / self.total_steps)
        return ganin_coefficient(self.config.model.gamma, progress)

    def predictions(self, dataset) -> Dict[str, np.ndarray]:
        """`keras_ser.evaluation.predictions_of` the inference model, with the graph validation traced."""
        return predictions_of(self._predict, dataset, self.network.tasks)

    def validate(self) -> Optional[dict]:
        if self.plan.val_dataset is None:
            return None
        if self._val_data is None:
            # The batches themselves, not a cached tf.data.Dataset: a new iterator over the
            # cached dataset each epoch cost up to 0.3 s of mostly idle wall time while the
            # training pipeline started its next epoch (benchmarks/train_throughput.py).
            self._val_data = list(self.plan.val_dataset())
        return score(self.predictions(self._val_data), self.network.tasks)

    def fit(self, resume: bool = False, verbose: bool = True, on_epoch_end: Optional[Callable] = None) -> List[dict]:
        """Trains until `epochs` or early stopping; returns the per-epoch history."""
        config = self.config.train
        start = self.restore() if resume else 0
        history = _read_history(self.history_path)[:start]
        writer = tf.summary.create_file_writer(os.path.join(self.write_dir, "tensorboard")) if self.chief else None
        # One iterator for the run: re-creating a distributed iterator every epoch cost seconds
        # (deleting the previous one waits for its prefetching, 5-30 s per epoch on 2 replicas).
        iterator = iter(self.strategy.distribute_datasets_from_function(
            lambda context: self._run_batches(start, context))) if start < config.epochs else None
        for epoch in range(start, config.epochs):
            if epoch >= config.min_epochs and self.bad_epochs.numpy() >= config.patience:
                break
            self._reseed_dropout(epoch)
            bar = keras.utils.Progbar(self.plan.steps_per_epoch, verbose=1 if verbose and self.chief else 0)
            sums: Dict[str, float] = {}
            for done in range(0, self.plan.steps_per_epoch, config.steps_per_execution):
                count = min(config.steps_per_execution, self.plan.steps_per_epoch - done)
                values = self._run_steps(iterator, epoch * self.plan.steps_per_epoch + done, count)
                for key, value in values.items():
                    sums[key] = sums.get(key, 0.0) + value
                # The bar weighs each update by its step count: these steps' mean.
                bar.update(done + count, [(k, v / count) for k, v in values.items()
                                          if k == "total" or k.endswith("_accuracy")])
            record = {"epoch": epoch + 1, "gamma": float(self.network.reversal.coefficient.numpy())}
            record.update({k: v / self.plan.steps_per_epoch for k, v in sums.items()})
            # Validated and kept: the weights' moving average when there is one.
            with self._averaged_weights():
                validation = self.validate()
                if validation is not None:
                    record["val_ua"] = mean_utterance_ua(validation)
                    record["val"] = validation
                improved = validation is None or record["val_ua"] > self.best_ua.numpy()
                task_improved = False
                if validation is not None:
                    record["val_task_ua"] = {task: task_ua(validation, task) for task in self.network.tasks}
                    task_improved = self._keep_task_bests(record["val_task_ua"], epoch + 1)
                if improved:
                    self.best_ua.assign(record.get("val_ua", 0.0))
                    if validation is not None:
                        self.best_epoch_task_ua.assign([record["val_task_ua"][t] for t in self.network.tasks])
                    self.bad_epochs.assign(0)
                    _save_arrays_atomically(self.best_epoch_weights, _model_arrays(self.network.training_model))
                elif task_improved:
                    # Patience runs out only when no task improves any more.
                    self.bad_epochs.assign(0)
                else:
                    self.bad_epochs.assign_add(1)
            self.epoch.assign(epoch + 1)
            history.append(record)
            if self.chief:
                # History first, checkpoint last: a kill in between re-runs this
                # epoch on resume, and the history is cut back to the checkpoint.
                _write_history(self.history_path, history)
            self.manager.save(checkpoint_number=epoch + 1)
            if self.chief:
                with writer.as_default(step=epoch + 1):
                    for key, value in record.items():
                        if isinstance(value, float):
                            tf.summary.scalar(key, value)
                writer.flush()
            if verbose and self.chief:
                val = f" val_ua {record['val_ua']:.4f}" if "val_ua" in record else ""
                print(f"epoch {epoch + 1}/{config.epochs}: loss {record['total']:.4f}{val}"
                      f"{' *' if improved and validation is not None else ''}", flush=True)
            if on_epoch_end is not None:
                on_epoch_end(record)
        self.load_best()
        return history

    @contextlib.contextmanager
    def _averaged_weights(self):
        """The trainable weights' moving average in the model for the block (train.ema_momentum > 0; else the
        weights as they are), the trained weights back after it, also when it raises."""
        self._swap_average()
        try:
            yield
        finally:
            self._swap_average()

    def _swap_average(self) -> None:
        """Swaps the trainable weights with their moving average (if there is one).

        As Keras's SwapEMAWeights callback does for `Model.fit`, on every
        replica through the strategy, but by assignment (exact, where Keras's
        add-and-subtract swap rounds), so a swap in and a swap back leave
        training exactly where it was.
        """
        if not self.optimizer.use_ema:
            return

        def swap(variable, average):
            value = tf.identity(variable)
            variable.assign(average)
            average.assign(value)

        extended = self.strategy.extended
        for variable, average in zip(self.optimizer._trainable_variables,
                                     self.optimizer._model_variables_moving_average):
            variable = variable.value if isinstance(variable, keras.Variable) else variable
            average = average.value if isinstance(average, keras.Variable) else average
            extended.update(variable, swap, args=(average,))

    def _run_batches(self, first_epoch: int, context: Optional[tf.distribute.InputContext]) -> tf.data.Dataset:
        """Epochs first_epoch.. of one input pipeline, back to back: epoch e is the first
        steps_per_epoch steps of `train_dataset(seed * 1000 + e)` (the batches a fresh iterator
        per epoch would read), so the stream is finite and a resumed run reads what the
        uninterrupted run read from that epoch on."""
        train = self.config.train
        # Each step takes one batch per replica of this pipeline.
        per_step = context.num_replicas_in_sync // context.num_input_pipelines if context is not None else 1
        epochs = [self.plan.train_dataset(train.seed * 1000 + epoch, context).take(self.plan.steps_per_epoch * per_step)
                  for epoch in range(first_epoch, train.epochs)]
        batches = epochs[0]
        for epoch in epochs[1:]:
            batches = batches.concatenate(epoch)
        return batches

    def _task_best_path(self, task: str) -> str:
        return os.path.join(self.write_dir, "best_tasks", f"{task}.npz")

    def _keep_task_bests(self, val_task_ua: Dict[str, float], epoch: int) -> bool:
        """Saves the layers of every task whose validation UA improved; True if any did."""
        best, epochs = self.best_task_ua.numpy().copy(), self.best_task_epoch.numpy().copy()
        for index, task in enumerate(self.network.tasks):
            if val_task_ua[task] > best[index]:
                best[index], epochs[index] = val_task_ua[task], epoch
                _save_arrays_atomically(self._task_best_path(task), _task_weights(self.network, task))
        improved = bool(np.any(epochs != self.best_task_epoch.numpy()))
        self.best_task_ua.assign(best)
        self.best_task_epoch.assign(epochs)
        return improved

    def load_best(self) -> None:
        """Loads the best mean-UA epoch, then each task's own best layers where they validate better.

        A task's projection, classifier and centers from its own best epoch
        are put on the shared layers of the best mean-UA epoch; the task keeps
        them only if that raises its validation UA above its UA at the best
        mean-UA epoch (one validation pass decides for every task, since a
        task's layers feed only its own output). The result is best.weights.h5.
        """
        model = self.network.training_model
        legacy = os.path.join(self.write_dir, "best_epoch.weights.h5")  # a run folder of an earlier release
        if os.path.exists(self.best_epoch_weights):
            _set_model_arrays(model, self.best_epoch_weights)
        elif os.path.exists(legacy):
            model.load_weights(legacy)
        else:
            if os.path.exists(self.best_weights):
                model.load_weights(self.best_weights)
            return
        tasks = self.network.tasks
        at_best_epoch = {task: _task_weights(self.network, task) for task in tasks}
        candidates = [t for i, t in enumerate(tasks)
                      if os.path.exists(self._task_best_path(t))
                      and self.best_task_ua.numpy()[i] > self.best_epoch_task_ua.numpy()[i]]
        self.task_selection = {t: {"epoch": _best_epoch(self.history_path), "val_ua": float(self.best_epoch_task_ua.numpy()[i])}
                               for i, t in enumerate(tasks)}
        if candidates and self.plan.val_dataset is not None:
            for task in candidates:
                _set_task_weights(self.network, task, _load_arrays(self._task_best_path(task)))
            validation = self.validate()
            for task in candidates:
                index = tasks.index(task)
                placed = task_ua(validation, task)
                if placed > self.best_epoch_task_ua.numpy()[index]:
                    self.task_selection[task] = {"epoch": int(self.best_task_epoch.numpy()[index]), "val_ua": placed}
                else:
                    _set_task_weights(self.network, task, at_best_epoch[task])
        _save_weights_atomically(model, self.best_weights)
        if self.chief:
            atomic_write_json(os.path.join(self.write_dir, "task_selection.json"), self.task_selection)

    @property
    def history_path(self) -> str:
        return os.path.join(self.write_dir, "history.json")

    def cleanup(self) -> None:
        if not self.chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)


def _save_weights_atomically(model: keras.Model, path: str) -> None:
    tmp = path.replace(".weights.h5", ".tmp.weights.h5")
    model.save_weights(tmp, overwrite=True)
    os.replace(tmp, path)


def task_ua(validation: dict, task: str) -> float:
    """One task's mean utterance UA over the validation corpora."""
    return mean_utterance_ua({task: validation.get(task, {})})


def _best_epoch(history_path: str) -> Optional[int]:
    """The first epoch of the highest validation UA (the strict > of early stopping)."""
    history = [h for h in _read_history(history_path) if "val_ua" in h]
    return max(history, key=lambda h: (h["val_ua"], -h["epoch"]))["epoch"] if history else None


def _model_arrays(model: keras.Model) -> Dict[str, np.ndarray]:
    """`model.get_weights()` keyed by position (variable paths differ between two builds in one process)."""
    return {str(i): array for i, array in enumerate(model.get_weights())}


def _set_model_arrays(model: keras.Model, path: str) -> None:
    arrays = _load_arrays(path)
    try:
        model.set_weights([arrays[str(i)] for i in range(len(arrays))])
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{path}: the best epoch's weights do not fit this network: "
                              f"{str(err).splitlines()[0]}") from err


def _task_weights(network, task: str) -> Dict[str, np.ndarray]:
    return {f"{layer.name}/{i}": np.asarray(v.numpy()) for layer in task_layers(network, task)
            for i, v in enumerate(layer.weights)}


def _set_task_weights(network, task: str, arrays: Dict[str, np.ndarray]) -> None:
    for layer in task_layers(network, task):
        for i, variable in enumerate(layer.weights):
            variable.assign(arrays[f"{layer.name}/{i}"])


def _save_arrays_atomically(path: str, arrays: Dict[str, np.ndarray]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _load_arrays(path: str) -> Dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _read_history(path: str) -> List[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write_history(path: str, history: List[dict]) -> None:
    atomic_write_json(path, history)


def steps_for(segments: int, batch_size: int) -> int:
    return max(1, math.floor(segments / batch_size))
