"""Search gamma, lambda, center-loss alpha and the learning rate: `python -m tuning.search`.

    python -m tuning.search --protocol cross --source iemocap --targets msp_improv --task arousal \\
        --model dann2 --loss sc --tuner bayesian --trials 30 --data corpora.yaml --out saved_models/search

Each trial is a keras_ser.fit training run in <out>/trials/<trial_id>, scored
by its best utterance-level validation UA (validation speakers are held out
from the training speakers; the test split is never seen by a trial). At the
end: the trial table, <out>/best.yaml (accepted by `python -m keras_ser.fit
--config`), the test evaluation of the best trial only (<out>/best_results.json)
and <out>/val_ua_gamma_lambda.png. Rerunning the same command continues an
interrupted search; KERASTUNER_TUNER_ID/ORACLE_IP/ORACLE_PORT share one search
between several processes or machines (chief and workers; see the README).
"""

import argparse
import copy
import os
import sys
from typing import Optional

from keras_ser.config import ConfigError, FitConfig, load_fit_config, save_config
from keras_ser.io import atomic_write_json

BEST_CONFIG = "best.yaml"
BEST_RESULTS = "best_results.json"
PLOT = "val_ua_gamma_lambda.png"
TRIALS_TABLE = "trials.md"
# The keys of tuning.tuner.ORACLES, named here so --help does not import KerasTuner.
TUNERS = ("bayesian", "hyperband", "random")


def run_search(config: FitConfig, tuner: str = "bayesian", trials: int = 10, fixed: Optional[dict] = None,
               overwrite: bool = False, verbose: bool = True) -> Optional[dict]:
    """Runs (or continues) a search in `config.out`.

    In a shared search (KERASTUNER_* variables) the chief serves the oracle and
    writes the outcome; workers run trials and return None.
    Returns {"best_trial", "best_val_ua", "best_config", "trials": rows, "test": ...}.
    """
    from keras_tuner.src.distribute import utils as distribute_utils

    from tuning.tuner import make_tuner

    if config.data.val_fraction <= 0:
        raise ConfigError("data.val_fraction: tuning scores trials on validation speakers; it must be > 0")
    if trials < 1:
        raise ConfigError(f"--trials: {trials} must be at least 1")
    os.makedirs(config.out, exist_ok=True)
    worker = distribute_utils.has_chief_oracle() and not distribute_utils.is_chief_oracle()
    if not worker:
        save_config(config, os.path.join(config.out, "search_config.yaml"))
    search = make_tuner(config, tuner, trials, fixed=fixed, overwrite=overwrite, verbose=False)
    if verbose and not worker:
        search.search_space_summary()
    search.search(verbose=1 if verbose else 0)
    if worker:
        return None
    return summarise(search, config, verbose=verbose)


def summarise(search, config: FitConfig, verbose: bool = True) -> dict:
    """Table, plot, best.yaml and the best trial's test evaluation."""
    from keras_ser.fit import evaluate_run, train_run
    from tuning.report import plot_val_ua, trial_rows, trial_table

    oracle = search.oracle
    rows = trial_rows(oracle.trials.values(), config, search.runs_dir)
    best_trials = oracle.get_best_trials(1)
    if not best_trials:
        raise RuntimeError(f"no trial of the search in {config.out} finished; see the trial messages above")
    best = best_trials[0]
    table = trial_table(rows, best.trial_id)
    with open(os.path.join(config.out, TRIALS_TABLE), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    plot_val_ua(rows, os.path.join(config.out, PLOT), best.trial_id)

    trial_config = search.trial_config(best)
    best_config = copy.deepcopy(trial_config)
    best_config.out = os.path.join(config.out, "best_run")
    save_config(best_config, os.path.join(config.out, BEST_CONFIG))

    # The test split, for the best trial only: its run folder is restored (best
    # weights) or, when another machine ran it without a shared folder, retrained.
    run = train_run(trial_config, resume=True, verbose=False)
    results = evaluate_run(trial_config, run, verbose=False)
    results = {"trial_id": best.trial_id, "hyperparameters": best.hyperparameters.values,
               "val_ua": best.score, **results}
    atomic_write_json(os.path.join(config.out, BEST_RESULTS), results)
    if verbose:
        from keras_ser.reporting import run_tables

        print(f"\nTrials (validation UA %, utterance level; * best):\n{table}", flush=True)
        print(f"\nBest trial {best.trial_id}: validation UA {100 * best.score:.2f} %; settings in "
              f"{os.path.join(config.out, BEST_CONFIG)}\n\nTest split of the best trial:\n"
              f"{run_tables(results['test'], results['system'])}", flush=True)
    return {"best_trial": best.trial_id, "best_val_ua": best.score, "best_config": best_config,
            "trials": rows, "test": results["test"]}


# ---------------------------------------------------------------------------
# Command line


def build_parser(prog: str = "python -m tuning.search") -> argparse.ArgumentParser:
    from keras_ser.fit import add_run_arguments

    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--tuner", choices=TUNERS, default="bayesian", help="search algorithm (default bayesian)")
    parser.add_argument("--trials", type=int, default=10, help="number of trials in the whole search (default 10)")
    parser.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                        help="hold a searched setting constant (gamma, lambda, center_alpha, learning_rate); repeatable")
    parser.add_argument("--out", default="saved_models/search", help="search folder (default saved_models/search)")
    parser.add_argument("--overwrite", action="store_true", help="delete the search in --out and start over")
    return parser


def parse_fixed(items) -> dict:
    from tuning.hypermodel import SEARCH_SPACE

    fixed = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in SEARCH_SPACE:
            raise ConfigError(f"--fix: {item!r} is not NAME=VALUE with NAME one of {', '.join(SEARCH_SPACE)}")
        try:
            fixed[name] = float(value)
        except ValueError:
            raise ConfigError(f"--fix: {value!r} in {item!r} is not a number") from None
    return fixed


def main(argv: Optional[list] = None, prog: str = "python -m tuning.search") -> int:
    args = build_parser(prog).parse_args(argv)
    # After parsing: --help and argument errors never wait for TensorFlow.
    from keras_ser.corpora.base import LayoutError
    from keras_ser.data import adopt_prepared_features
    from keras_ser.fit import overrides_from_args
    from keras_ser.training.trainer import CheckpointError

    try:
        config = adopt_prepared_features(load_fit_config(args.config, overrides_from_args(args)))
        run_search(config, tuner=args.tuner, trials=args.trials, fixed=parse_fixed(args.fix),
                   overwrite=args.overwrite)
    except (ConfigError, LayoutError, CheckpointError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
