"""All settings of keras_ser as one tree of dataclasses.

Defaults live here and nowhere else. Resolution order: these defaults -> a YAML
file (`--config`) -> command-line overrides. Unknown keys and wrong types raise
`ConfigError` naming the key and what is accepted; `validate()` checks the
rules that span fields. The resolved tree is written into every run folder.
"""

import dataclasses
import os
import typing
from typing import Any, Dict, List, Optional

import yaml


class ConfigError(ValueError):
    """A setting is unknown, of the wrong type or out of range."""


@dataclasses.dataclass
class FeatureConfig:
    """Segments and log spectrograms (the 32 x 129 contract of the paper).

    256-sample frames with a 128-sample hop give exactly 32 frames in a
    4240-sample (265 ms at 16 kHz) segment: 1 + (4240 - 256) // 128 = 32;
    a 256-point FFT gives 129 bins.
    """

    sample_rate: int = 16000
    segment_samples: int = 4240
    # 50 % overlap: twice the segments of a non-overlapping cut, every sample
    # seen in two contexts; at test time posteriors are averaged anyway.
    segment_hop: int = 2120
    frame_length: int = 256
    frame_step: int = 128
    fft_length: int = 256
    # log(|X| + offset): keeps digital zeros (padding) finite.
    log_offset: float = 1e-6
    # Utterances shorter than this (seconds) carry no usable segment.
    min_duration: float = 0.1
    # The tail after the last full segment becomes a zero-padded segment when
    # it is at least this fraction of a hop long.
    min_tail_fraction: float = 0.5

    @property
    def num_frames(self) -> int:
        return 1 + (self.segment_samples - self.frame_length) // self.frame_step

    @property
    def num_bins(self) -> int:
        return self.fft_length // 2 + 1

    @property
    def shape(self):
        return (self.num_frames, self.num_bins, 1)


@dataclasses.dataclass
class DataConfig:
    """Which corpora, where they are, and how speakers are split."""

    # name -> root folder (or manifest CSV); empty = the synthetic corpora.
    corpora: Dict[str, str] = dataclasses.field(default_factory=dict)
    # Folder of prepared TFRecords; default: <out>/prepared or the cache.
    prepared: Optional[str] = None
    emotion_map: Optional[str] = None
    synthetic_scale: str = "small"
    synthetic_seed: int = 0
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    split_seed: int = 0
    # Speaker-level cross-validation: with folds = K >= 2 each corpus's
    # speakers are dealt into K gender-balanced folds (seeded by split_seed)
    # and fold number `fold` (0-based) is the test set, replacing the
    # test_fraction split (see keras_ser.protocols). 0 = no folds.
    folds: int = 0
    fold: int = 0
    # Per-frequency feature standardisation (pipelines.normalisation):
    # global (training speakers' statistics for everyone), corpus (per
    # corpus) or speaker (per speaker, from the speaker's own audio; chosen
    # on validation UA, docs/normalisation).
    normalisation: str = "speaker"


@dataclasses.dataclass
class ModelConfig:
    """CNN-BLSTM feature extractor, emotion heads and domain heads.

    Conv blocks pool mostly over frequency (Satt et al. 2017) so the BLSTM
    still sees 16 time steps; about 0.3 M parameters, trainable on a CPU.
    """

    preset: str = "dann2"
    conv_filters: List[int] = dataclasses.field(default_factory=lambda: [16, 32, 48])
    conv_kernel: int = 3
    # (time, frequency) pooling after each conv block.
    conv_pools: List[List[int]] = dataclasses.field(default_factory=lambda: [[1, 4], [2, 2], [1, 2]])
    lstm_units: int = 64
    embedding_dim: int = 64
    dropout: float = 0.3
    # BatchNorm's fused kernel when training on one replica (about 1.4x faster
    # per step); False keeps the synchronized statistics everywhere, for runs
    # that must match N-replica runs to float summation order (the fused
    # kernel's own float arithmetic differs by about 3e-5 after a few steps).
    fused_batch_norm: bool = True
    # Empty = the preset's heads (baseline: none, dann1: speaker, corpus,
    # dann2: gender, language, corpus).
    domain_heads: List[str] = dataclasses.field(default_factory=list)
    domain_hidden: int = 64
    # Gradient reversal coefficient (paper: constant 0.3).
    gamma: float = 0.3
    gamma_schedule: str = "constant"
    # "s": softmax only; "sc": softmax + center loss (eq. 6).
    loss: str = "sc"
    # eq. (6): L_E = lambda * softmax + (1 - lambda) * center.
    lambda_: float = 0.5
    center_alpha: float = 0.5
    # "proxy" (default): each task's embedding is L2-normalised and
    # classified by a cosine classifier at scale `cosine_scale`; the center
    # term pulls it to its class's classifier direction (held constant by the
    # center term), so neither term of eq. (6) falls by shrinking the
    # embedding and the centers stay the classifier's angle apart.
    # "bounded": as proxy, but with running (Wen) unit-norm centers, which can
    # meet where every segment of a task has gathered (cross-protocol valence
    # at chance at lambda 0.1). "unbounded": linear classifier and center loss
    # on the raw embedding (eq. 4 as printed), whose minimum is approached by
    # shrinking the embedding towards zero while the classifier grows.
    center_form: str = "proxy"
    # Units of each task's linear projection of the shared embedding, the
    # space its classifier and center loss act on; 0 = the shared embedding.
    # 8 was chosen over 32 and 64 on validation speakers (synthetic corpora,
    # then real speech: suites task_dim and real_task_dim, docs/task_dim).
    task_dim: int = 8
    # NormFace scale s of the cosine logits (2 classes: logit gap up to 2 s).
    cosine_scale: float = 10.0
    learn_scale: bool = False


@dataclasses.dataclass
class TrainConfig:
    batch_size: int = 128
    epochs: int = 15
    # Early stopping: stop once no task's validation UA has improved for
    # `patience` epochs, but never before `min_epochs` epochs (0: any epoch).
    # On real speech validation valence sat at 44-55 % for the first 4 to 12
    # epochs in 6 of the 8 real_speech_cv runs (docs/speaker_cv), often
    # longer than patience 5.
    patience: int = 5
    min_epochs: int = 0
    optimizer: str = "adadelta"
    learning_rate: float = 1.0
    # Validate, keep and export an exponential moving average of the trainable
    # weights (Polyak averaging, the optimizer's `use_ema`) at this momentum
    # instead of the last step's weights; 0 = off. Training itself is
    # unchanged. As in Keras, BatchNorm's moving statistics (already averages)
    # and the running centers are kept as the last step left them.
    ema_momentum: float = 0.0
    seed: int = 0
    # auto: MultiWorkerMirrored when TF_CONFIG is set, else Mirrored over
    # the local GPUs when there are several, else the default strategy.
    strategy: str = "auto"
    deterministic: bool = True
    shuffle_buffer: int = 8192
    # Keep the training segments in memory, parsed and normalised, after the
    # first epoch when they take at most this many MB (0: always stream the
    # shards); the batches are the same either way.
    in_memory_mb: int = 2048
    # Train steps per tf.function call (as Keras's steps_per_execution): the
    # host is reached once per call; the weights do not depend on it.
    steps_per_execution: int = 16


def tasks_of(task: str) -> List[str]:
    """The emotion tasks a `task` setting trains (arousal, valence or both)."""
    return ["arousal", "valence"] if task == "both" else [task]


@dataclasses.dataclass
class FitConfig:
    """A whole `keras_ser.fit` run."""

    protocol: str = "multi"
    source: Optional[str] = None
    targets: List[str] = dataclasses.field(default_factory=list)
    # cross protocol: test on held-out target speakers only.
    target_split: bool = False
    task: str = "both"
    out: str = "saved_models/run"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    features: FeatureConfig = dataclasses.field(default_factory=FeatureConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    @property
    def tasks(self) -> List[str]:
        return tasks_of(self.task)

    def validate(self) -> "FitConfig":
        _check_choice("protocol", self.protocol, ("multi", "cross"))
        _check_choice("task", self.task, ("arousal", "valence", "both"))
        _check_choice("model.preset", self.model.preset, tuple(DOMAIN_PRESETS))
        _check_choice("model.loss", self.model.loss, ("s", "sc"))
        _check_choice("model.center_form", self.model.center_form, ("bounded", "proxy", "unbounded"))
        _check_choice("model.gamma_schedule", self.model.gamma_schedule, ("constant", "ganin"))
        _check_choice("train.optimizer", self.train.optimizer, ("adadelta", "adam", "sgd"))
        _check_choice("train.strategy", self.train.strategy, ("auto", "default", "mirrored", "multi_worker"))
        _check_choice("data.synthetic_scale", self.data.synthetic_scale, ("tiny", "small", "paper"))
        _check_choice("data.normalisation", self.data.normalisation, NORMALISATIONS)
        for head in self.model.domain_heads:
            _check_choice("model.domain_heads[]", head, DOMAIN_LABELS)
        _check_range("model.lambda_", self.model.lambda_, 0.0, 1.0)
        _check_range("model.gamma", self.model.gamma, 0.0, None)
        _check_range("model.center_alpha", self.model.center_alpha, 0.0, 1.0)
        _check_range("model.task_dim", self.model.task_dim, 0, None)
        _check_range("model.cosine_scale", self.model.cosine_scale, 1e-3, None)
        _check_range("model.dropout", self.model.dropout, 0.0, 0.95)
        _check_range("data.test_fraction", self.data.test_fraction, 0.0, 0.9)
        _check_range("data.val_fraction", self.data.val_fraction, 0.0, 0.9)
        if self.data.folds == 1 or self.data.folds < 0:
            raise ConfigError(f"data.folds: {self.data.folds!r} is not accepted; 0 (no folds) or at least 2")
        _check_range("data.fold", self.data.fold, 0, max(self.data.folds - 1, 0))
        _check_range("train.learning_rate", self.train.learning_rate, 1e-8, None)
        _check_range("train.ema_momentum", self.train.ema_momentum, 0.0, 1.0, high_included=False)
        _check_range("train.in_memory_mb", self.train.in_memory_mb, 0, None)
        _check_range("train.min_epochs", self.train.min_epochs, 0, None)
        for key in ("train.batch_size", "train.epochs", "train.patience", "train.steps_per_execution",
                    "model.lstm_units", "model.embedding_dim"):
            _check_range(key, _get(self, key), 1, None)
        if len(self.model.conv_filters) != len(self.model.conv_pools):
            raise ConfigError(
                "model.conv_pools: needs one [time, freq] pool per entry of model.conv_filters "
                f"({len(self.model.conv_filters)}), got {len(self.model.conv_pools)}"
            )
        check_corpus_names(self.data.corpora)
        for name, root in self.data.corpora.items():
            if not os.path.exists(os.path.expanduser(root)):
                raise ConfigError(f"data.corpora.{name}: root {root!r} does not exist")
        if self.protocol == "cross":
            if not self.source:
                raise ConfigError("source: the cross protocol needs a source corpus (--source NAME)")
            if not self.targets:
                raise ConfigError("targets: the cross protocol needs at least one target corpus (--targets A,B)")
            if self.source in self.targets:
                raise ConfigError(f"targets: the target corpora must differ from the source {self.source!r}")
            # Checked before any synthesis, preparation or run folder (a
            # prepared folder names its corpora in prepared.json).
            available = self.corpus_names
            for key, names in (("source", [self.source]), ("targets", self.targets)) if available else ():
                unknown = [name for name in names if name not in available]
                if unknown:
                    raise ConfigError(f"{key}: {', '.join(map(repr, unknown))} is not among the run's corpora "
                                      f"({', '.join(available)})")
        return self

    @property
    def corpus_names(self) -> List[str]:
        """The corpora this run reads: data.corpora, those of the prepared folder, or the synthetic ones."""
        if self.data.corpora:
            return sorted(self.data.corpora)
        if self.data.prepared:
            import json

            path = os.path.join(os.path.expanduser(self.data.prepared), "prepared.json")
            try:
                with open(path, encoding="utf-8") as f:
                    return sorted(json.load(f)["corpora"])
            except (OSError, ValueError, KeyError):
                return []  # not prepared yet: the data side names what is missing
        from keras_ser.synth.layouts import SYNTHETIC_CORPORA

        return list(SYNTHETIC_CORPORA)

    @property
    def heads(self) -> List[str]:
        return list(self.model.domain_heads) or list(DOMAIN_PRESETS[self.model.preset])


def check_corpus_names(corpora) -> None:
    """Raises ConfigError naming the accepted corpora if a name has no adapter."""
    from keras_ser.corpora import ADAPTERS

    unknown = [name for name in corpora if name not in ADAPTERS]
    if unknown:
        raise ConfigError(f"data.corpora: unknown corpus {', '.join(map(repr, unknown))}; "
                          f"accepted: {', '.join(sorted(ADAPTERS))}")


# Feature normalisation modes (pipelines.normalisation.MODES).
NORMALISATIONS = ("global", "corpus", "speaker")

# The domain labels a head can predict, and the paper's presets.
DOMAIN_LABELS = ("gender", "language", "corpus", "speaker")
DOMAIN_PRESETS = {
    "baseline": (),
    "dann1": ("speaker", "corpus"),
    "dann2": ("gender", "language", "corpus"),
}


def _get(config, dotted: str):
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def _check_choice(key, value, accepted):
    if value not in accepted:
        raise ConfigError(f"{key}: {value!r} is not accepted; choose one of {', '.join(map(str, accepted))}")


def _check_range(key, value, low, high, high_included=True):
    above = high is not None and (value > high if high_included else value >= high)
    if (low is not None and value < low) or above:
        bounds = f"[{low}, {'inf' if high is None else high}{']' if high_included else ')'}"
        raise ConfigError(f"{key}: {value!r} is outside the accepted range {bounds}")


# ---------------------------------------------------------------------------
# dict <-> dataclass, strict


def to_dict(config) -> Dict[str, Any]:
    out = dataclasses.asdict(config)
    return _rename(out, {"lambda_": "lambda"})


def _rename(tree, names):
    if isinstance(tree, dict):
        return {names.get(k, k): _rename(v, names) for k, v in tree.items()}
    return tree


def from_dict(cls, values: Dict[str, Any], prefix: str = ""):
    """Builds dataclass `cls` from `values`; unknown keys and wrong types raise."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    aliases = {"lambda": "lambda_"}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        name = aliases.get(key, key)
        where = f"{prefix}{key}"
        if name not in fields:
            accepted = ", ".join(sorted("lambda" if k == "lambda_" else k for k in fields))
            raise ConfigError(f"{where}: unknown key; accepted keys are {accepted}")
        kwargs[name] = _coerce(hints[name], value, where)
    return cls(**kwargs)


def _coerce(hint, value, where):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where + ".")
    if origin is typing.Union and type(None) in args:
        if value is None:
            return None
        return _coerce(next(a for a in args if a is not type(None)), value, where)
    if origin in (list, List):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(args[0], v, f"{where}[]") for v in value] if args else list(value)
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {str(k): _coerce(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def parse_assignments(items: List[str], root=None) -> Dict[str, Any]:
    """`--set KEY=VALUE` items -> a partial config tree, for `merge` after the YAML file.

    KEY is a dotted path of the config tree (`train.patience`, `model.lambda`,
    `data.corpora.emodb`); VALUE is read as YAML (`0.5`, `true`, `[16, 32]`,
    `{emodb: /data/emodb}`), so a --set goes through exactly the validation of
    the same key in a config file (`from_dict`). Unknown keys raise here,
    naming the accepted ones. A float field also takes exponent notation
    (`1e-3`), which YAML 1.1 would read as a string.
    """
    root = root or FitConfig
    tree: Dict[str, Any] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set: expected KEY=VALUE, got {item!r}")
        hint = _hint_at(root, key)
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {key}: {text!r} is not a valid value ({str(err).splitlines()[0]})") from err
        if isinstance(value, str) and float in (hint, *typing.get_args(hint)):
            try:
                value = float(value)
            except ValueError:
                pass  # from_dict names the expected type
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def _hint_at(root, key: str):
    """The type hint of dotted `key` under dataclass `root`; ConfigError for a key the tree does not have."""
    hint, where = root, ""
    for part in key.split("."):
        if dataclasses.is_dataclass(hint):
            hints = typing.get_type_hints(hint)
            name = {"lambda": "lambda_"}.get(part, part)
            if not part or name not in hints:
                accepted = ", ".join(sorted("lambda" if k == "lambda_" else k for k in hints))
                raise ConfigError(f"--set {key}: unknown key {where}{part}; accepted keys{' under ' + where.rstrip('.') if where else ''} are {accepted}")
            hint = hints[name]
        elif typing.get_origin(hint) in (dict, Dict):
            hint = typing.get_args(hint)[1]
        else:
            raise ConfigError(f"--set {key}: {where.rstrip('.')} is a single value, not a section")
        where += part + "."
    return hint


def load_yaml(path: str) -> Dict[str, Any]:
    """Reads a YAML mapping with the safe loader (no Python objects)."""
    try:
        with open(path, encoding="utf-8") as f:
            values = yaml.safe_load(f)
    except OSError as err:
        raise ConfigError(f"cannot read config {path!r}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"config {path!r} is not valid YAML: {err}") from err
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"config {path!r}: expected a mapping at the top level")
    return values


RUN_CONFIG = "config.yaml"


def load_run_config(folder: str) -> Optional[FitConfig]:
    """The settings a run folder was trained with (its config.yaml), or None when it has none yet.

    ConfigError when the file cannot be read or does not describe a run of this release.
    """
    path = os.path.join(folder, RUN_CONFIG)
    if not os.path.exists(path):
        return None
    try:
        return from_dict(FitConfig, load_yaml(path)).validate()
    except ConfigError as err:
        raise ConfigError(f"{path} does not describe a run of this release ({err})") from err


def merge(base: Dict[str, Any], update: Dict[str, Any]) -> Dict[str, Any]:
    """Recursive dict update; `update` wins."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def differences(a: Dict[str, Any], b: Dict[str, Any], prefix: str = ""):
    """(dotted key, a's value, b's value) for every leaf where two config trees differ."""
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            yield from differences(left, right, f"{prefix}{key}.")
        elif left != right:
            yield f"{prefix}{key}", left, right


NAMED_CONFIGS = os.path.join(os.path.dirname(__file__), "configs")


def resolve_config_path(name_or_path: str) -> str:
    """A YAML path, or the name of a shipped config (e.g. `paper`)."""
    if os.path.exists(name_or_path):
        return name_or_path
    shipped = os.path.join(NAMED_CONFIGS, f"{name_or_path}.yaml")
    if os.path.exists(shipped):
        return shipped
    names = sorted(f[:-5] for f in os.listdir(NAMED_CONFIGS) if f.endswith(".yaml"))
    raise ConfigError(f"--config: {name_or_path!r} is neither a file nor a shipped config ({', '.join(names)})")


def load_fit_config(config_path: Optional[str] = None, overrides: Optional[Dict[str, Any]] = None) -> FitConfig:
    """defaults -> YAML file -> overrides, then `validate()`."""
    values: Dict[str, Any] = {}
    if config_path:
        values = load_yaml(resolve_config_path(config_path))
    if overrides:
        values = merge(values, overrides)
    return from_dict(FitConfig, values).validate()


def save_config(config, path: str) -> None:
    from keras_ser.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))
