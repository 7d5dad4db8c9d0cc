"""Feature normalisation: which per-frequency mean/std standardises which speaker's spectrograms.

Every statistic is a per-frequency mean and standard deviation over all the
frames of a set of speakers' shards, summed from the shards' receipts
(`pipelines.prepare.normalisation_stats`): audio only, never a label.

Modes (`data.normalisation`):
    global   one mean/std from the labelled training speakers, applied to
             every speaker of every corpus (the paper's setting).
    corpus   one mean/std per corpus, from that corpus's audio that enters
             training: its labelled training speakers and, under the cross
             protocol, its unlabelled target speakers. Validation and test
             speakers are normalised with their corpus's statistics and never
             add to them, except where they are themselves the unlabelled
             training audio (the cross protocol without `target_split`, which
             trains on the whole target corpus's unlabelled audio and tests on
             it: transductive by design). A corpus with no such audio is an error.
    speaker  one mean/std per speaker, from that speaker's own audio only,
             for training, validation and test speakers alike: no test
             speaker's statistics depend on another speaker's audio.

Every mode also keeps the `global` statistics as the fallback: what an
exported model uses when it is given no adaptation audio.
"""

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from keras_ser.config import NORMALISATIONS as MODES
from keras_ser.config import ConfigError
from pipelines.prepare import normalisation_stats

GLOBAL = "global"


def corpus_of(speaker: str) -> str:
    """"emodb/03" -> "emodb"."""
    return speaker.split("/", 1)[0]


GROUP_OF: Dict[str, Callable[[str], str]] = {
    "global": lambda speaker: GLOBAL,
    "corpus": corpus_of,
    "speaker": lambda speaker: speaker,
}


@dataclasses.dataclass
class Statistics:
    """Per-frequency mean and std, and the speakers whose audio gave them."""

    mean: np.ndarray
    std: np.ndarray
    speakers: List[str]

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "speakers": list(self.speakers)}

    @classmethod
    def from_dict(cls, values: dict) -> "Statistics":
        return cls(np.asarray(values["mean"], np.float32), np.asarray(values["std"], np.float32),
                   list(values.get("speakers", [])))


def statistics(receipt: Callable[[str], dict], speakers: Sequence[str]) -> Statistics:
    """Mean/std over every frame of `speakers`' shards (their receipts' sums)."""
    speakers = sorted(speakers)
    mean, std = normalisation_stats([receipt(speaker) for speaker in speakers])
    return Statistics(mean.astype(np.float32), std.astype(np.float32), speakers)


@dataclasses.dataclass
class Normalisation:
    """A run's normalisation: the mode, its statistics per group, and the training (fallback) statistics."""

    mode: str
    fallback: Statistics
    groups: Dict[str, Statistics]

    def group(self, speaker: str) -> str:
        return GROUP_OF[self.mode](speaker)

    def stats(self, speaker: str, receipt: Optional[Callable[[str], dict]] = None) -> Statistics:
        """The statistics that normalise `speaker`.

        A speaker outside the run's plan is normalised from its own audio
        under `speaker` (needs `receipt`); under `corpus` its corpus must be
        one the run has statistics of.
        """
        key = self.group(speaker)
        if key in self.groups:
            return self.groups[key]
        if self.mode == "speaker" and receipt is not None:
            return statistics(receipt, [speaker])
        raise ConfigError(f"normalisation {self.mode}: no statistics for {key!r} "
                          f"(the run has {', '.join(sorted(self.groups))})")

    def arrays(self, speakers: Sequence[str], receipt=None) -> Tuple[np.ndarray, np.ndarray]:
        """(len(speakers), bins) means and stds, one row per speaker, in order."""
        rows = [self.stats(speaker, receipt) for speaker in speakers]
        return np.stack([r.mean for r in rows]), np.stack([r.std for r in rows])

    def without_adaptation(self) -> "Normalisation":
        """Every speaker normalised with the training statistics: a deployed model given no adaptation audio."""
        return Normalisation(GLOBAL, self.fallback, {GLOBAL: self.fallback})

    def to_dict(self) -> dict:
        return {"mode": self.mode, "rule": RULES[self.mode],
                # the training statistics under their historical keys: the fallback of every mode
                "speakers": "labelled training speakers", "mean": self.fallback.mean.tolist(),
                "std": self.fallback.std.tolist(),
                "fallback": self.fallback.to_dict(),
                "groups": {key: stats.to_dict() for key, stats in sorted(self.groups.items())}}

    @classmethod
    def from_dict(cls, values: dict) -> "Normalisation":
        """normalisation.json of a run; a run written before modes existed is `global`."""
        fallback = (Statistics.from_dict(values["fallback"]) if "fallback" in values
                    else Statistics(np.asarray(values["mean"], np.float32), np.asarray(values["std"], np.float32), []))
        mode = values.get("mode", GLOBAL)
        groups = {key: Statistics.from_dict(v) for key, v in values.get("groups", {}).items()}
        if mode == GLOBAL and not groups:
            groups = {GLOBAL: fallback}
        return cls(mode, fallback, groups)


RULES = {
    "global": "one mean/std from the labelled training speakers, for every speaker",
    "corpus": "one mean/std per corpus from its audio that enters training (labelled training and unlabelled "
              "speakers); validation and test speakers never add to it unless they are unlabelled training audio",
    "speaker": "one mean/std per speaker from that speaker's own audio",
}


def fit_normalisation(mode: str, receipt: Callable[[str], dict], train: Sequence[str],
                      unlabelled: Sequence[str] = (), others: Sequence[str] = ()) -> Normalisation:
    """The statistics of `mode` for a speaker plan.

    `train`: labelled training speakers; `unlabelled`: speakers whose audio
    (not labels) enters training; `others`: validation and test speakers,
    which are normalised but (under `global` and `corpus`) never contribute.
    `receipt(speaker)` is the shard receipt (`PreparedCorpora.receipt`).
    """
    if mode not in MODES:
        raise ConfigError(f"data.normalisation: {mode!r} is not accepted; choose one of {', '.join(MODES)}")
    fallback = statistics(receipt, train)
    everyone = sorted(set(train) | set(unlabelled) | set(others))
    if mode == GLOBAL:
        groups = {GLOBAL: fallback}
    elif mode == "speaker":
        groups = {speaker: statistics(receipt, [speaker]) for speaker in everyone}
    else:
        seen = sorted(set(train) | set(unlabelled))
        groups = {}
        for corpus in sorted({corpus_of(s) for s in everyone}):
            contributing = [s for s in seen if corpus_of(s) == corpus]
            if not contributing:
                raise ConfigError(f"normalisation corpus: corpus {corpus!r} has no training or unlabelled speakers "
                                  "to take statistics from (its test speakers never give their own)")
            groups[corpus] = statistics(receipt, contributing)
    return Normalisation(mode, fallback, groups)
