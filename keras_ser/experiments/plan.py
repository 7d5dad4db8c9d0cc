"""Which runs a suite needs: groups (protocol and source) x variants x seeds x folds (x tasks, per_task).

Cross-corpus sources (`protocols.cross.sources`):
    auto  the paper's setting when IEMOCAP is among the corpora (source
          iemocap, every other corpus a target, Tables 3 and 4); otherwise
          every corpus in turn as the source, the others as targets
    all   every corpus in turn as the source
    [a, b] these sources, each against all the other corpora

Seeds vary training only (`train.seed` = base seed + k); the speaker split
(`data.split_seed`) is the same for every seed, so seeds are paired on the
same test utterances. With folds, fold f tests fold f of every corpus's
speakers (see keras_ser.protocols).
"""

import dataclasses
import itertools
import os
from typing import Dict, List, Optional

from keras_ser.config import FitConfig, from_dict, merge, tasks_of
from keras_ser.experiments.suite import PAPER_SOURCE, Suite, SuiteError


@dataclasses.dataclass
class Group:
    """One protocol setting: its runs share test corpora and fill one table per task."""

    key: str  # "multi", "cross-iemocap"
    protocol: str
    source: Optional[str]
    targets: List[str]
    test_corpora: List[str]

    @property
    def title(self) -> str:
        if self.protocol == "multi":
            return "Multi-corpus protocol (cf. paper Table 2)"
        return (f"Cross-corpus protocol: source {self.source} -> targets {', '.join(self.targets)} "
                "(cf. paper Tables 3, 4)")


@dataclasses.dataclass
class RunSpec:
    group: str
    variant: str
    seed: int
    fold: Optional[int]
    config: FitConfig

    @property
    def out(self) -> str:
        return self.config.out


def cross_sources(setting, corpora: List[str]) -> List[str]:
    if setting == "auto":
        return [PAPER_SOURCE] if PAPER_SOURCE in corpora else list(corpora)
    if setting == "all":
        return list(corpora)
    names = setting.split(",") if isinstance(setting, str) else setting
    if not isinstance(names, list) or any(name not in corpora for name in names):
        raise SuiteError(f"cross sources: {setting!r}; choose auto, all or corpora among {', '.join(corpora)}")
    return list(names)


def make_groups(suite: Suite, corpora: List[str], sources=None) -> List[Group]:
    groups = []
    if "multi" in suite.protocols:
        groups.append(Group("multi", "multi", None, [], list(corpora)))
    if "cross" in suite.protocols:
        if len(corpora) < 2:
            raise SuiteError(f"the cross protocol needs at least two corpora; the data has {', '.join(corpora)}")
        for source in cross_sources(sources or suite.protocols["cross"]["sources"], corpora):
            targets = [c for c in corpora if c != source]
            groups.append(Group(f"cross-{source}", "cross", source, targets, targets))
    return groups


def plan_runs(suite: Suite, groups: List[Group], out: str, overrides: Dict, seeds: int, folds: int,
              task: str) -> List[RunSpec]:
    """Every run's resolved config; its folder is <out>/runs/<group>/<variant>/seed<k>[-fold<f>].

    `task` is what a run trains (arousal, valence or both); a suite with
    `task_models: per_task` trains each task in a run of its own instead, in
    <...>/seed<k>[-fold<f>]-<task>.
    """
    if suite.task_models == "per_task":
        run_tasks = [(t, f"-{t}") for t in tasks_of(task)]
    else:
        run_tasks = [(task, "")]
    specs = []
    for group in groups:
        for variant in suite.variants:
            tree = merge(merge(suite.base, variant.overrides), overrides)
            base_seed = tree.get("train", {}).get("seed", 0)
            for k in range(seeds):
                for fold, (run_task, suffix) in itertools.product(range(folds) if folds else [None], run_tasks):
                    name = f"seed{base_seed + k}" + ("" if fold is None else f"-fold{fold}") + suffix
                    per_run = {
                        "protocol": group.protocol, "task": run_task,
                        "out": os.path.join(out, "runs", group.key, variant.slug, name),
                        "train": {"seed": base_seed + k},
                        "data": {"folds": folds, "fold": fold or 0},
                    }
                    if group.protocol == "cross":
                        per_run.update(source=group.source, targets=group.targets,
                                       target_split=bool(suite.protocols["cross"]["target_split"]))
                    config = from_dict(FitConfig, merge(tree, per_run)).validate()
                    specs.append(RunSpec(group.key, variant.name, base_seed + k, fold, config))
    return specs
