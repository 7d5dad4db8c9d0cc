"""A keras_tuner.Tuner whose trials are keras_ser.fit's distributed training.

Keras 3 models here are trained by our own loop (`keras_ser.training.Trainer`,
see its module docstring), not by `model.fit`, so `run_trial` is overridden:
the trial's FitConfig (from `FitHyperModel.build`) goes through
`keras_ser.fit.train_run` into its own run folder `<out>/trials/<trial_id>`,
and the trial reports the best utterance-level validation UA. The test split
is never touched by a trial.
"""

import os
import shutil
import time
from typing import Optional

import keras_tuner

from keras_ser.config import ConfigError, FitConfig, load_run_config
from keras_ser.training.memory import released_after_training
from keras_ser.io import atomic_write_json

OBJECTIVE = keras_tuner.Objective("val_ua", direction="max")
PROJECT = "search"  # KerasTuner's state: <out>/search/{oracle.json, trial_*/trial.json, <tuner_id>.json}
TRIAL_RECORD = "search_trial.json"  # in each trial's run folder: who ran it, how long, what it reached


def _bayesian(trials: int, epochs: int, seed: int, hyperparameters):
    return keras_tuner.oracles.BayesianOptimizationOracle(
        objective=OBJECTIVE, max_trials=trials, seed=seed, hyperparameters=hyperparameters)


def _random(trials: int, epochs: int, seed: int, hyperparameters):
    return keras_tuner.oracles.RandomSearchOracle(
        objective=OBJECTIVE, max_trials=trials, seed=seed, hyperparameters=hyperparameters)


def _hyperband(trials: int, epochs: int, seed: int, hyperparameters):
    # Rounds train for "tuner/epochs" up to the config's epochs; --trials caps the total.
    oracle = keras_tuner.oracles.HyperbandOracle(
        objective=OBJECTIVE, max_epochs=epochs, factor=3, seed=seed, hyperparameters=hyperparameters)
    oracle.max_trials = trials
    return oracle


ORACLES = {"bayesian": _bayesian, "random": _random, "hyperband": _hyperband}


def current_rss_mb() -> float:
    """Resident set size now (not the peak), in MB."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    raise RuntimeError("cannot read the resident set size (no psutil, no /proc/self/status)")


class FitTuner(keras_tuner.Tuner):
    """Runs each trial as a keras_ser training run and reports its validation UA.

    Args:
        oracle: a KerasTuner oracle whose objective is `OBJECTIVE`.
        hypermodel: a `tuning.hypermodel.FitHyperModel`.
        strategy: the tf.distribute strategy every trial trains under (None: the config's).
        verbose: per-epoch training output.
        **kwargs: keras_tuner.Tuner arguments (directory, project_name, overwrite).
    """

    def __init__(self, oracle, hypermodel, strategy=None, verbose: bool = False, **kwargs):
        super().__init__(oracle, hypermodel, distribution_strategy=strategy, **kwargs)
        self.strategy = strategy
        self.verbose = verbose

    @property
    def runs_dir(self) -> str:
        return os.path.join(self.hypermodel.config.out, "trials")

    def trial_run_dir(self, trial_id: str) -> str:
        return os.path.join(self.runs_dir, str(trial_id))

    def trial_config(self, trial) -> FitConfig:
        config = self.hypermodel.build(trial.hyperparameters)
        config.out = self.trial_run_dir(trial.trial_id)
        return config

    def run_trial(self, trial, *args, **kwargs):
        from keras_ser.fit import train_run

        config = self.trial_config(trial)
        # A trial interrupted by a crash restarts from its last epoch checkpoint;
        # a folder left by other values (a search restarted from scratch) is replaced.
        try:
            resume = load_run_config(config.out) == config
        except ConfigError:  # a config.yaml this release cannot read: the folder is replaced too
            resume = False
        if not resume:
            resume = _warm_start_from_previous_round(trial, config, self.trial_run_dir)
        started = time.time()
        print(f"trial {trial.trial_id} ({self.tuner_id}): {_describe(trial.hyperparameters.values)}", flush=True)
        with released_after_training():
            run = train_run(config, resume=resume, overwrite=not resume, verbose=self.verbose, strategy=self.strategy)
            if not any("val_ua" in record for record in run.history):
                raise keras_tuner.errors.FatalError(
                    "no validation speakers: tuning needs data.val_fraction > 0 and corpora with enough speakers")
            val_ua = float(run.trainer.best_ua.numpy())
            run.trainer.cleanup()
            del run
        record = {
            "trial_id": trial.trial_id,
            "tuner_id": self.tuner_id,
            "hyperparameters": trial.hyperparameters.values,
            "val_ua": val_ua,
            "epochs": config.train.epochs,
            "wall_seconds": round(time.time() - started, 2),
            "rss_mb": round(current_rss_mb(), 1),
        }
        atomic_write_json(os.path.join(config.out, TRIAL_RECORD), record)
        print(f"trial {trial.trial_id} ({self.tuner_id}): val_ua {val_ua:.4f} in {record['wall_seconds']:.1f} s, "
              f"RSS {record['rss_mb']:.0f} MB", flush=True)
        return {"val_ua": val_ua}

    def load_model(self, trial):
        """The trial's trained network (a `keras_ser.runs.Run`, best weights loaded)."""
        from keras_ser.runs import load_run

        return load_run(self.trial_run_dir(trial.trial_id))

    def save_model(self, trial_id, model, step=0):
        # Trials checkpoint themselves (Trainer: checkpoints/ and best.weights.h5).
        pass


def make_tuner(config: FitConfig, tuner: str, trials: int, strategy=None, fixed: Optional[dict] = None,
               overwrite: bool = False, verbose: bool = False) -> FitTuner:
    """A FitTuner over `config`'s search space, its state in `<config.out>/search`.

    `fixed`: name -> value, held constant with `hp.Fixed`. With `overwrite=False`
    an existing search in the same folder is continued.
    """
    from tuning.hypermodel import FitHyperModel

    if tuner not in ORACLES:
        raise ValueError(f"--tuner: {tuner!r} is not accepted; choose one of {', '.join(ORACLES)}")
    hypermodel = FitHyperModel(config)
    searched = hypermodel.ranges()
    hyperparameters = keras_tuner.HyperParameters()
    for name, value in (fixed or {}).items():
        if name not in searched:
            raise ConfigError(f"--fix {name}: not a searched setting of this configuration (it would not change "
                              f"the trained model); searched: {', '.join(searched)}")
        hyperparameters.Fixed(name, value)
    oracle = ORACLES[tuner](trials, config.train.epochs, config.train.seed, hyperparameters)
    from keras_tuner.src.distribute import utils as distribute_utils

    if overwrite and not (distribute_utils.has_chief_oracle() and not distribute_utils.is_chief_oracle()):
        shutil.rmtree(os.path.join(config.out, "trials"), ignore_errors=True)
    return FitTuner(oracle, hypermodel, strategy=strategy, verbose=verbose,
                    directory=config.out, project_name=PROJECT, overwrite=overwrite)


def _warm_start_from_previous_round(trial, config: FitConfig, run_dir) -> bool:
    """Hyperband: a later round continues the earlier round's training of the same values.

    True when the earlier round's run folder was copied to this trial's (to be resumed).
    """
    previous = trial.hyperparameters.values.get("tuner/trial_id")
    if not previous or not os.path.exists(os.path.join(run_dir(previous), "checkpoints")):
        return False
    shutil.rmtree(config.out, ignore_errors=True)
    # config.yaml is rewritten by train_run with this round's epochs.
    shutil.copytree(run_dir(previous), config.out, ignore=shutil.ignore_patterns("tensorboard", TRIAL_RECORD))
    return True


def _describe(values: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())

