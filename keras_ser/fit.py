"""Train and evaluate the paper's method: `python -m keras_ser.fit`.

    python -m keras_ser.fit --protocol multi                    # synthetic corpora
    python -m keras_ser.fit --protocol cross --source iemocap --targets msp_improv,savee,emodb --data corpora.yaml

Writes into the run folder (`--out`): config.yaml (resolved), checkpoints/,
best.weights.h5, history.json, tensorboard/, speakers.json, results.json,
results.md, predictions.csv (one row per test utterance) and plots/ (training
curves, confusion matrices), and prints the UA table and the folder at the end.
Any setting of the config tree: `--set KEY=VALUE` (e.g. train.patience=8).
"""

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
import types
from typing import Optional

from keras_ser.config import (
    DOMAIN_PRESETS,
    NORMALISATIONS,
    RUN_CONFIG,
    ConfigError,
    FitConfig,
    differences,
    load_fit_config,
    load_run_config,
    load_yaml,
    merge,
    parse_assignments,
    save_config,
    to_dict,
)
from keras_ser.io import atomic_write_json


def segment_bytes(features) -> int:
    """Memory of one training segment kept in memory: its float32 spectrogram (labels are negligible)."""
    return 4 * features.shape[0] * features.shape[1]


def build_data(config: FitConfig, prepared, plan):
    """DataPlan for the trainer, plus the test dataset factory and the vocabulary."""
    from pipelines.dataset import TrainingStream, Vocabulary, make_dataset
    from pipelines.normalisation import fit_normalisation
    from keras_ser.training.trainer import DataPlan, steps_for

    training = plan.train + plan.unlabelled
    prepared.verify(training + plan.val + plan.test)
    rows = [r for r in prepared.utterances if r["speaker"] in set(training)]
    vocabulary = Vocabulary(
        gender=["f", "m"],
        language=sorted({r["language"] for r in rows}),
        corpus=sorted({r["corpus"] for r in rows}),
        speaker=sorted(set(training)),
    )
    normalisation = fit_normalisation(config.data.normalisation, prepared.receipt, plan.train, plan.unlabelled,
                                      plan.val + plan.test)

    def shards(speakers):
        return [prepared.shard(s) for s in speakers]

    common = dict(features=prepared.features, vocabulary=vocabulary, batch_size=config.train.batch_size)

    segments = prepared.count_segments(training)
    in_memory = segments * segment_bytes(prepared.features) <= config.train.in_memory_mb * 2**20
    streams = {}

    def train_dataset(seed, context=None):
        """Epoch `seed`'s batches; one record order (and in-memory cache) per input pipeline for the whole run.

        Streams are kept per input context: a stream cuts per-replica batches of its context's size, so a
        call without one (global batches) must not hand its stream to a later distributed call."""
        pipeline = ((context.input_pipeline_id, context.num_input_pipelines, context.num_replicas_in_sync)
                    if context is not None else None)
        if pipeline not in streams:
            mean, std = normalisation.arrays(plan.train + plan.unlabelled)
            streams[pipeline] = TrainingStream(
                shards(plan.train), unlabelled_shards=shards(plan.unlabelled), order_seed=config.train.seed,
                shuffle_buffer=config.train.shuffle_buffer, input_context=context, mean=mean, std=std,
                in_memory=in_memory, **common)
        return streams[pipeline].epoch(seed)

    def eval_dataset(speakers):
        mean, std = normalisation.arrays(speakers)
        return lambda: make_dataset(shards(speakers), mean=mean, std=std, **common)

    data_plan = DataPlan(
        train_dataset=train_dataset,
        val_dataset=eval_dataset(plan.val) if plan.val else None,
        steps_per_epoch=steps_for(segments, config.train.batch_size),
        head_sizes={head: vocabulary.size(head) for head in ("gender", "language", "corpus", "speaker")},
    )
    return data_plan, eval_dataset(plan.test), vocabulary, normalisation


# What a resumed run may change: where its folder is (a moved folder) and how many
# epochs it may run (Hyperband's later rounds continue a trial's training). Every
# other setting shaped the checkpoint being continued.
RESUME_MAY_CHANGE = ("out", "train.epochs")


def prepare_run_folder(config: FitConfig, resume: bool, overwrite: bool) -> None:
    """An existing run is continued (`resume`, with the settings it was trained with) or replaced (`overwrite`)."""
    out = config.out
    has_checkpoints = os.path.exists(os.path.join(out, "checkpoints"))
    if has_checkpoints and overwrite:
        shutil.rmtree(out)
    elif has_checkpoints and not resume:
        raise ConfigError(f"--out: {out} already holds a run; pass --resume to continue it or --overwrite to start over")
    elif has_checkpoints:
        check_resumable(out, config)
    os.makedirs(out, exist_ok=True)


def check_resumable(out: str, config: FitConfig) -> None:
    """ConfigError naming each setting that differs from the run folder's config.yaml."""
    try:
        trained = load_run_config(out)
    except ConfigError as err:
        raise ConfigError(f"--resume: {err}; start a new run with --overwrite or another --out") from err
    if trained is None:
        return
    changed = [f"{key}: {old!r} in the run, {new!r} here"
               for key, old, new in differences(to_dict(trained), to_dict(config))
               if key not in RESUME_MAY_CHANGE]
    if changed:
        raise ConfigError(f"--resume: the run in {out} was trained with other settings ({'; '.join(changed)}); "
                          f"`--out {out} --resume` alone continues it with its own settings, and --overwrite or "
                          "another --out starts a new run")


@dataclasses.dataclass
class TrainedRun:
    """A trained run before its test evaluation (see `train_run`)."""

    trainer: object  # keras_ser.training.trainer.Trainer, holding its best weights
    history: list
    test_dataset: object  # () -> test dataset; not touched by `train_run`
    strategy: object
    started: float


def train_run(config: FitConfig, resume: bool = False, overwrite: bool = False, verbose: bool = True,
              strategy=None, on_epoch_end=None) -> TrainedRun:
    """Data and training (with validation) into `config.out`, without touching the test split.

    Tuning trials stop here; `run_fit` goes on to `evaluate_run`.
    """
    import keras
    import tensorflow as tf

    from keras_ser.data import adopt_prepared_features, resolve_prepared
    from keras_ser.protocols import plan_speakers, speaker_table
    from keras_ser.reporting import system_name
    from keras_ser.training.strategy import is_chief, make_strategy
    from keras_ser.training.trainer import Trainer

    started = time.time()
    chief = is_chief()
    config = adopt_prepared_features(config)
    if chief:
        prepare_run_folder(config, resume, overwrite)
        save_config(config, os.path.join(config.out, RUN_CONFIG))
    keras.utils.set_random_seed(config.train.seed)
    if config.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = strategy or make_strategy(config.train.strategy)
    prepared = resolve_prepared(config, writer=chief, verbose=verbose)
    plan = plan_speakers(config, prepared)
    data_plan, test_dataset, vocabulary, normalisation = build_data(config, prepared, plan)
    if chief:
        atomic_write_json(os.path.join(config.out, "normalisation.json"), normalisation.to_dict())
        atomic_write_json(os.path.join(config.out, "speakers.json"), {
            "prepared": prepared.root, "plan": plan.to_dict(), "per_corpus": speaker_table(plan),
            "vocabulary": vocabulary.to_dict()})
    if verbose and chief:
        print(f"run folder: {config.out}", flush=True)
        print(f"{config.protocol} protocol, {system_name(config.model.preset, config.model.loss)}, "
              f"{config.data.normalisation} normalisation, tasks "
              f"{'+'.join(config.tasks)}; {strategy.num_replicas_in_sync} replica(s); "
              f"{data_plan.steps_per_epoch} steps/epoch; speakers {speaker_table(plan)}", flush=True)

    trainer = Trainer(config, strategy, data_plan, config.out)
    history = trainer.fit(resume=resume, verbose=verbose, on_epoch_end=on_epoch_end)
    return TrainedRun(trainer, history, test_dataset, strategy, started)


def evaluate_run(config: FitConfig, run: TrainedRun, verbose: bool = True) -> dict:
    """Test evaluation of a trained run; writes results.json and results.md. Returns results.json's content."""
    from keras_ser.evaluation import score
    from keras_ser.reporting import run_tables, system_name
    from keras_ser.training.strategy import is_chief

    trainer = run.trainer
    predictions = trainer.predictions(run.test_dataset())
    test = score(predictions, config.tasks)
    trainer.cleanup()

    system = system_name(config.model.preset, config.model.loss)
    results = {
        "system": system,
        "protocol": config.protocol,
        "tasks": config.tasks,
        "normalisation": config.data.normalisation,
        "test": test,
        "best_val_ua": float(trainer.best_ua.numpy()),
        # Per task: the epoch whose task layers were kept and their validation UA.
        "task_selection": trainer.task_selection,
        "epochs_run": len(run.history),
        "replicas": run.strategy.num_replicas_in_sync,
        "wall_seconds": round(time.time() - run.started, 1),
    }
    if is_chief():
        from keras_ser.predictions import PLOTS, PREDICTIONS, speakers_of, utterance_rows, write_plots, write_predictions

        atomic_write_json(os.path.join(config.out, "results.json"), results)
        table = run_tables(test, system) + "\n\n" + run_tables(test, system, level="segment")
        with open(os.path.join(config.out, "results.md"), "w", encoding="utf-8") as f:
            f.write(f"# {system}, {config.protocol} protocol\n\n{table}\n")
        with open(os.path.join(config.out, "speakers.json"), encoding="utf-8") as f:
            speakers = speakers_of(json.load(f)["prepared"])
        write_predictions(os.path.join(config.out, PREDICTIONS), utterance_rows(predictions, config.tasks, speakers),
                          config.tasks)
        write_plots(os.path.join(config.out, PLOTS), run.history, test, system)
        if verbose:
            print("\n" + run_tables(test, system), flush=True)
            print(f"\nrun folder: {config.out} (results.md, {PREDICTIONS}, {PLOTS}/)", flush=True)
    return results


def run_fit(config: FitConfig, resume: bool = False, overwrite: bool = False, verbose: bool = True,
            strategy=None, on_epoch_end=None) -> dict:
    """The whole run: data, training, test evaluation, results files. Returns results.json's content."""
    run = train_run(config, resume=resume, overwrite=overwrite, verbose=verbose, strategy=strategy,
                    on_epoch_end=on_epoch_end)
    return evaluate_run(config, run, verbose=verbose)


def train(config=None, *, resume: bool = False, overwrite: bool = False, verbose: bool = True, **settings):
    """Trains and evaluates one system like `keras-ser fit`; returns the finished run (`keras_ser.runs.Run`).

    Also callable as `keras_ser.fit(...)`.

    Args:
        config: a FitConfig, a YAML path or shipped config name (`"paper"`),
            a settings tree (dict), or None for the defaults.
        resume, overwrite: as `--resume`, `--overwrite`. With `resume`, the
            run folder's own settings are the base: `out=` alone continues it.
        verbose: progress and the UA table on stdout.
        **settings: top-level keys of the config tree, applied after `config`
            and validated like YAML: `protocol="cross", source="iemocap",
            train={"epochs": 5}, data={"corpora": {"emodb": "/data/emodb"}}`.
            Without `out` the folder is named like the command's default.

    Example:
        >>> run = keras_ser.fit(train={"epochs": 5}, out="saved_models/demo")
        >>> run.results["test"]["arousal"]["average"]["utterance"]["ua"]
    """
    from keras_ser.config import from_dict, to_dict
    from keras_ser.runs import load_run

    if isinstance(config, FitConfig):
        tree = to_dict(config)
    elif isinstance(config, str):
        tree = _config_file_values(config)
    else:
        tree = dict(config or {})
    tree = merge(tree, settings)
    resolved = from_dict(FitConfig, tree).validate()
    if "out" not in tree:
        resolved.out = default_out(resolved)
    trained = load_run_config(resolved.out) if resume else None
    if trained is not None:  # the run's own settings, with those given on top (a difference is refused)
        resolved = from_dict(FitConfig, merge(merge(to_dict(trained), tree), {"out": resolved.out})).validate()
    run_fit(resolved, resume=resume, overwrite=overwrite, verbose=verbose)
    return load_run(resolved.out)


class _CallableModule(types.ModuleType):
    """`keras_ser.fit(...)` calls `train`; the module keeps serving `python -m keras_ser.fit`."""

    def __call__(self, *args, **kwargs):
        return train(*args, **kwargs)


if __name__ != "__main__":
    sys.modules[__name__].__class__ = _CallableModule


# ---------------------------------------------------------------------------
# Command line


def build_parser(prog: str = "python -m keras_ser.fit") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--out", help="run folder (default saved_models/<protocol>-<preset>-<loss>-<task>-seed<seed>)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="delete an existing run folder and start over")
    return parser


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by fit and search; each flag is a shortcut for one key of the config tree."""
    parser.add_argument("--config", help="YAML of settings, or a shipped config name (e.g. paper); flags override it")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any setting of the config tree (keras_ser/config.py), e.g. train.patience=8, "
                             "model.dropout=0.2, data.val_fraction=0.2; VALUE is YAML; repeatable; applied after "
                             "--config and the other flags, validated like the YAML file")
    parser.add_argument("--protocol", choices=["multi", "cross"], help="multi-corpus (default) or cross-corpus")
    parser.add_argument("--source", help="cross protocol: the labelled source corpus")
    parser.add_argument("--targets", help="cross protocol: comma-separated target corpora")
    parser.add_argument("--target-split", action="store_true", default=None,
                        help="cross protocol: test on held-out target speakers only")
    parser.add_argument("--task", choices=["arousal", "valence", "both"], help="emotion task(s) (default both)")
    parser.add_argument("--preset", choices=sorted(DOMAIN_PRESETS),
                        help="domain heads preset, model.preset (default dann2)")
    parser.add_argument("--loss", choices=["s", "sc"], help="s: softmax; sc: softmax + center loss (default)")
    parser.add_argument("--gamma", type=float, help="gradient reversal coefficient (default 0.3)")
    parser.add_argument("--gamma-schedule", choices=["constant", "ganin"], help="constant gamma or Ganin's ramp")
    parser.add_argument("--lambda", dest="lambda_", metavar="LAMBDA", type=float,
                        help="softmax weight in eq. (6), model.lambda (default 0.5)")
    parser.add_argument("--center-alpha", type=float,
                        help="learning rate of the center-loss centers, model.center_alpha (default 0.5)")
    parser.add_argument("--center-form", choices=["bounded", "proxy", "unbounded"],
                        help="model.center_form; proxy (default): unit-norm task embeddings, cosine classifier, the "
                             "classifier's class directions as centers; bounded: as proxy with running unit centers; "
                             "unbounded: linear classifier and center loss on the raw embedding")
    parser.add_argument("--epochs", type=int, help="maximum epochs")
    parser.add_argument("--batch-size", type=int, help="global batch size (default 128)")
    parser.add_argument("--seed", type=int, help="random seed (same seed, same metrics)")
    parser.add_argument("--strategy", choices=["auto", "default", "mirrored", "multi_worker"],
                        help="tf.distribute strategy (default auto: TF_CONFIG -> multi-worker)")
    parser.add_argument("--data", help="YAML of data settings: `corpora: {name: root}` and any other data.* key")
    parser.add_argument("--prepared", help="folder of prepared TFRecords (pipelines.prepare output); its feature "
                                           "settings (segment length, hop) become the run's")
    parser.add_argument("--emotion-map", help="YAML table of categorical emotion -> arousal/valence, data.emotion_map "
                                              "(default: the shipped table)")
    parser.add_argument("--normalisation", choices=list(NORMALISATIONS),
                        help="feature standardisation: speaker (per speaker, from the speaker's own audio; default), "
                             "corpus (per corpus) or global (the training speakers' statistics, the paper's)")
    parser.add_argument("--synthetic-scale", choices=["tiny", "small", "paper"],
                        help="size of the synthetic corpora used when no corpora are given (default small)")


def overrides_from_args(args) -> dict:
    """Command-line values as a partial config tree (only flags that were given)."""
    tree: dict = {}

    def put(path, value):
        if value is None:
            return
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value

    if args.data:
        data = dict(load_yaml(args.data))
        data.pop("synthetic", None)  # provenance note written by keras_ser.synth
        put("data", data)
    put("protocol", args.protocol)
    put("source", args.source)
    put("targets", args.targets.split(",") if args.targets else None)
    put("target_split", args.target_split)
    put("task", args.task)
    put("model.preset", args.preset)
    put("model.loss", args.loss)
    put("model.gamma", args.gamma)
    put("model.gamma_schedule", args.gamma_schedule)
    put("model.lambda", args.lambda_)
    put("model.center_alpha", args.center_alpha)
    put("model.center_form", args.center_form)
    put("train.epochs", args.epochs)
    put("train.batch_size", args.batch_size)
    put("train.seed", args.seed)
    put("train.strategy", args.strategy)
    put("data.prepared", args.prepared)
    put("data.emotion_map", args.emotion_map)
    put("data.synthetic_scale", args.synthetic_scale)
    put("data.normalisation", getattr(args, "normalisation", None))
    if getattr(args, "out", None):
        put("out", args.out)
    return merge(tree, parse_assignments(args.set))


def default_out(config: FitConfig) -> str:
    return os.path.join("saved_models", f"{config.protocol}-{config.model.preset}-{config.model.loss}-{config.task}-seed{config.train.seed}")


def main(argv: Optional[list] = None, prog: str = "python -m keras_ser.fit") -> int:
    args = build_parser(prog).parse_args(argv)
    # After parsing: --help and argument errors never wait for TensorFlow.
    from keras_ser.corpora.base import LayoutError
    from keras_ser.processes import WorkersCannotStart
    from keras_ser.training.trainer import CheckpointError
    from pipelines.dataset import CorruptShardError

    try:
        overrides = overrides_from_args(args)
        config = load_fit_config(args.config, overrides)
        if "out" not in overrides and not (args.config and "out" in _config_file_values(args.config)):
            config.out = default_out(config)
        if args.resume:
            config = resumed_config(config.out, args.config, overrides) or config
        run_fit(config, resume=args.resume, overwrite=args.overwrite)
    except (ConfigError, LayoutError, CheckpointError, CorruptShardError, FileNotFoundError, WorkersCannotStart) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except _peer_failures() as err:
        if not os.environ.get("TF_CONFIG"):
            raise
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        reason = next((line for line in lines if "timeout" in line or "aborted" in line.lower()), lines[0])
        print(f"error: a worker of the cluster failed or became unreachable ({type(err).__name__}: {reason}). "
              "Restart every worker with the same command plus --resume to continue from the last checkpoint "
              f"in {os.path.join(config.out, 'checkpoints')}.", file=sys.stderr)
        return 3
    return 0


def _peer_failures():
    import tensorflow as tf

    # What collectives raise when a MultiWorkerMirroredStrategy peer dies
    # (heartbeat timeout, aborted collectives, lost connection).
    return (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
            tf.errors.AbortedError)


def resumed_config(out: str, config_path: Optional[str], overrides: dict) -> Optional[FitConfig]:
    """--resume: the run folder's config.yaml, with the settings given on the command line on top.

    None when the folder holds no config.yaml yet. Given settings that differ from
    the run's are refused when the run folder is prepared (`check_resumable`).
    """
    trained = load_run_config(out)
    if trained is None:
        return None
    values = merge(to_dict(trained), _config_file_values(config_path) if config_path else {})
    return load_fit_config(None, merge(merge(values, overrides), {"out": out}))


def _config_file_values(name_or_path: str) -> dict:
    from keras_ser.config import resolve_config_path

    return load_yaml(resolve_config_path(name_or_path))


if __name__ == "__main__":
    sys.exit(main())
