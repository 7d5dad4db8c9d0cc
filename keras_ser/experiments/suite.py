"""A study as a config: a suite YAML names the systems (rows), protocols and tasks.

    description: what the study asks
    base: {model: {gamma: 0.3}}          # FitConfig settings shared by every run
    protocols:
      multi: {}                          # paper Table 2
      cross: {sources: auto}             # paper Tables 3, 4 (auto | all | [names])
    tasks: [arousal, valence]
    task_models: joint                   # joint: one network for all tasks; per_task: each task trained alone
    seeds: 3                             # the command line's --seeds wins
    folds: 0                             # speaker-level folds; --folds wins
    variants:                            # one table row each
      - name: Baseline (S)               # default: reporting.system_name(preset, loss)
        overrides: {model: {preset: baseline, loss: s}}
    compare: [Baseline (S), DANN_2 (S+C)]  # embedding plots side by side (default first, last)
    analysis: {embedding: tsne, embedding_samples: 2000, probe_samples: 2000, bootstrap: 1000}

Settings resolve as: defaults -> `base` -> the variant's `overrides` -> the
command line (data, epochs, batch size) -> what the suite itself decides per
run (protocol, source, targets, task, seed, fold, out). Keys the suite decides
are refused in `base` and `overrides`; unknown keys raise `SuiteError`.
"""

import dataclasses
import os
import re
from typing import Any, Dict, List, Optional

from keras_ser.config import ConfigError, FitConfig, from_dict, load_yaml, merge
from keras_ser.reporting import system_name

SUITES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs", "suites")
TOP_LEVEL_KEYS = ("description", "base", "protocols", "tasks", "task_models", "seeds", "folds", "variants", "compare",
                  "analysis")
PROTOCOL_KEYS = {"multi": (), "cross": ("sources", "target_split")}
ANALYSIS_DEFAULTS = {"embedding": "tsne", "embedding_samples": 2000, "probe_samples": 2000, "bootstrap": 1000}
# Decided per run by the suite; a suite that set them would be silently ignored.
RESERVED = ("protocol", "source", "targets", "target_split", "task", "out", "train.seed", "data.fold", "data.folds")
# The paper's cross-corpus source (Tables 3, 4); used by `sources: auto` when present.
PAPER_SOURCE = "iemocap"


class SuiteError(ConfigError):
    """A suite YAML is malformed: unknown keys, wrong types, duplicate names."""


@dataclasses.dataclass
class Variant:
    name: str
    overrides: Dict[str, Any]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9_.]+", "-", self.name.lower()).strip("-")


@dataclasses.dataclass
class Suite:
    name: str
    path: str
    description: str
    base: Dict[str, Any]
    protocols: Dict[str, Dict[str, Any]]
    tasks: List[str]
    seeds: int
    folds: int
    variants: List[Variant]
    compare: List[str]
    analysis: Dict[str, Any]
    # joint: every run trains all of `tasks` in one network; per_task: one run
    # (one network, its own early stopping and checkpoint) per task.
    task_models: str = "joint"

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def resolve_suite_path(name_or_path: str) -> str:
    """A suite YAML path, or the name of a shipped suite (e.g. `paper`)."""
    if os.path.isfile(name_or_path):
        return name_or_path
    shipped = os.path.join(SUITES, f"{name_or_path}.yaml")
    if os.path.isfile(shipped) and name_or_path != "paper_reference":
        return shipped
    names = sorted(f[:-5] for f in os.listdir(SUITES) if f.endswith(".yaml") and f != "paper_reference.yaml")
    raise SuiteError(f"--suite: {name_or_path!r} is neither a file nor a shipped suite ({', '.join(names)})")


def load_suite(name_or_path: str) -> Suite:
    """Reads and checks a suite; every variant's settings are validated before any work."""
    path = resolve_suite_path(name_or_path)
    where = f"suite {path}"
    values = load_yaml(path)
    _check_keys(where, values, TOP_LEVEL_KEYS)
    if not values.get("variants"):
        raise SuiteError(f"{where}: `variants` must list at least one system (name and overrides)")
    base = _mapping(f"{where}: base", values.get("base", {}))
    _check_reserved(f"{where}: base", base)

    protocols = _mapping(f"{where}: protocols", values.get("protocols", {"multi": {}, "cross": {"sources": "auto"}}))
    if not protocols:
        raise SuiteError(f"{where}: protocols must name at least one of multi, cross")
    for protocol, settings in protocols.items():
        if protocol not in PROTOCOL_KEYS:
            raise SuiteError(f"{where}: protocols.{protocol}: unknown protocol; choose multi or cross")
        protocols[protocol] = _mapping(f"{where}: protocols.{protocol}", settings or {})
        _check_keys(f"{where}: protocols.{protocol}", protocols[protocol], PROTOCOL_KEYS[protocol])
    if "cross" in protocols:
        protocols["cross"].setdefault("sources", "auto")
        protocols["cross"].setdefault("target_split", False)

    tasks = values.get("tasks", ["arousal", "valence"])
    if not isinstance(tasks, list) or not tasks or any(t not in ("arousal", "valence") for t in tasks):
        raise SuiteError(f"{where}: tasks must be a non-empty list of arousal, valence; got {tasks!r}")

    task_models = values.get("task_models", "joint")
    if task_models not in ("joint", "per_task"):
        raise SuiteError(f"{where}: task_models: {task_models!r}; choose joint or per_task")

    variants, seen = [], set()
    for index, entry in enumerate(values["variants"]):
        at = f"{where}: variants[{index}]"
        entry = _mapping(at, entry)
        _check_keys(at, entry, ("name", "overrides"))
        overrides = _mapping(f"{at}.overrides", entry.get("overrides", {}))
        _check_reserved(f"{at}.overrides", overrides)
        config = _validated(at, merge(base, overrides))
        name = entry.get("name") or system_name(config.model.preset, config.model.loss)
        if not isinstance(name, str):
            raise SuiteError(f"{at}.name: expected a string, got {name!r}")
        variant = Variant(name, overrides)
        if name in seen or variant.slug in {v.slug for v in variants}:
            raise SuiteError(f"{at}: the name {name!r} is used twice (give each variant its own `name`)")
        seen.add(name)
        variants.append(variant)

    compare = values.get("compare") or [variants[0].name, variants[-1].name]
    if not isinstance(compare, list) or any(name not in seen for name in compare):
        raise SuiteError(f"{where}: compare must list variant names ({', '.join(seen)}); got {compare!r}")

    analysis = dict(ANALYSIS_DEFAULTS)
    given = _mapping(f"{where}: analysis", values.get("analysis", {}))
    _check_keys(f"{where}: analysis", given, tuple(ANALYSIS_DEFAULTS))
    analysis.update(given)
    if analysis["embedding"] not in ("tsne", "pca"):
        raise SuiteError(f"{where}: analysis.embedding: {analysis['embedding']!r}; choose tsne or pca")
    for key in ("embedding_samples", "probe_samples", "bootstrap"):
        _check_count(f"{where}: analysis.{key}", analysis[key], 1)
    seeds, folds = values.get("seeds", 1), values.get("folds", 0)
    _check_count(f"{where}: seeds", seeds, 1)
    _check_count(f"{where}: folds", folds, 0)
    if folds == 1:
        raise SuiteError(f"{where}: folds: 1 is not accepted; 0 (no folds) or at least 2")

    name = os.path.splitext(os.path.basename(path))[0]
    return Suite(name, os.path.abspath(path), str(values.get("description", "")).strip(), base, protocols,
                 tasks, seeds, folds, variants, compare, analysis, task_models)


def _validated(where: str, tree: Dict[str, Any]) -> FitConfig:
    try:
        return from_dict(FitConfig, tree).validate()
    except SuiteError:
        raise
    except ConfigError as err:
        raise SuiteError(f"{where}: {err}") from err


def _check_count(where: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SuiteError(f"{where}: expected an integer >= {low}, got {value!r}")


def _mapping(where: str, value) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise SuiteError(f"{where}: expected a mapping, got {value!r}")
    return dict(value)


def _check_keys(where: str, values: Dict[str, Any], accepted) -> None:
    for key in values:
        if key not in accepted:
            raise SuiteError(f"{where}: unknown key {key!r}; accepted keys are {', '.join(accepted) or 'none'}")


def _check_reserved(where: str, tree: Dict[str, Any]) -> None:
    for dotted in RESERVED:
        node: Optional[dict] = tree
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node:
            raise SuiteError(f"{where}: {dotted} is set per run by the suite (protocols, tasks, seeds, folds); "
                             "remove it from the suite's settings")
