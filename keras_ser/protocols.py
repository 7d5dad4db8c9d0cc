"""Which speakers train, validate and test under each protocol.

multi (paper Table 2): every corpus is split 80/20 by speaker; training is the
union of the training speakers, testing is each corpus's held-out speakers.

cross (paper Tables 3, 4): emotion labels come from the source corpus only;
the target corpora's audio enters training unlabelled (for the domain heads);
testing is on the target corpora (all speakers, or with `target_split` the
held-out target speakers while the others provide the unlabelled audio).

In both, the validation speakers are held out from the labelled training
speakers (never from the test speakers).

Speaker-level cross-validation (`data.folds` = K >= 2): each corpus's
speakers are dealt into K gender-balanced folds (seeded by `data.split_seed`)
and fold `data.fold` is that corpus's test set instead of the 20 % hold-out;
running fold 0 .. K-1 tests every speaker exactly once. Under the cross
protocol folds apply to the target corpora (as with `target_split`: the
other folds' target speakers give the unlabelled audio).
"""

import dataclasses
from typing import Dict, List, Sequence, Tuple

import numpy as np

from keras_ser.config import ConfigError, FitConfig
from pipelines.splits import hold_out_speakers


@dataclasses.dataclass
class SpeakerPlan:
    train: List[str]
    unlabelled: List[str]
    val: List[str]
    test: List[str]

    def to_dict(self):
        return dataclasses.asdict(self)


def _corpus_speakers(prepared, corpus):
    genders = prepared.speaker_genders(corpus)
    if not genders:
        raise ConfigError(f"corpus {corpus!r} has no usable utterances in {prepared.root} "
                          f"(prepared corpora: {', '.join(prepared.corpora)})")
    return sorted(genders.items())


def _split_validation(config: FitConfig, prepared, corpus: str, speakers: List[str]):
    genders = prepared.speaker_genders(corpus)
    val = hold_out_speakers([(s, genders[s]) for s in speakers], config.data.val_fraction,
                            config.data.split_seed, salt=f"{corpus}/val")
    return [s for s in speakers if s not in val], val


def speaker_folds(speakers: Sequence[Tuple[str, str]], folds: int, seed: int, salt: str = "") -> List[List[str]]:
    """Deals (speaker, gender) pairs into `folds` folds, genders alternating, so each fold is gender-balanced."""
    speakers = sorted(set(speakers))
    if len(speakers) < folds:
        raise ConfigError(f"data.folds: corpus {salt!r} has {len(speakers)} speakers, fewer than the {folds} folds")
    rng = np.random.default_rng([seed, *f"{salt}/folds".encode("utf-8")])
    by_gender: Dict[str, List[str]] = {}
    for speaker, gender in speakers:
        by_gender.setdefault(gender, []).append(speaker)
    queues = [list(rng.permutation(names)) for _, names in sorted(by_gender.items())]
    dealt: List[str] = []
    while any(queues):
        for queue in queues:
            if queue:
                dealt.append(str(queue.pop(0)))
    return [sorted(dealt[index::folds]) for index in range(folds)]


def _test_speakers(config: FitConfig, prepared, corpus: str) -> List[str]:
    """The corpus's held-out speakers: fold `data.fold` of `data.folds`, else the test_fraction hold-out."""
    speakers = _corpus_speakers(prepared, corpus)
    if config.data.folds:
        return speaker_folds(speakers, config.data.folds, config.data.split_seed, salt=corpus)[config.data.fold]
    return hold_out_speakers(speakers, config.data.test_fraction, config.data.split_seed, salt=corpus)


def plan_multi(config: FitConfig, prepared) -> SpeakerPlan:
    plan = SpeakerPlan([], [], [], [])
    for corpus in prepared.corpora:
        speakers = [s for s, _ in _corpus_speakers(prepared, corpus)]
        test = set(_test_speakers(config, prepared, corpus))
        train, val = _split_validation(config, prepared, corpus, [s for s in speakers if s not in test])
        plan.train += train
        plan.val += val
        plan.test += [s for s in speakers if s in test]
    return plan


def plan_cross(config: FitConfig, prepared) -> SpeakerPlan:
    for name in [config.source, *config.targets]:
        _corpus_speakers(prepared, name)
    source = [s for s, _ in _corpus_speakers(prepared, config.source)]
    train, val = _split_validation(config, prepared, config.source, source)
    plan = SpeakerPlan(train, [], val, [])
    for target in config.targets:
        speakers = _corpus_speakers(prepared, target)
        if config.target_split or config.data.folds:
            test = set(_test_speakers(config, prepared, target))
            plan.unlabelled += [s for s, _ in speakers if s not in test]
            plan.test += [s for s, _ in speakers if s in test]
        else:
            plan.unlabelled += [s for s, _ in speakers]
            plan.test += [s for s, _ in speakers]
    return plan


PROTOCOLS = {"multi": plan_multi, "cross": plan_cross}


def plan_speakers(config: FitConfig, prepared) -> SpeakerPlan:
    plan = PROTOCOLS[config.protocol](config, prepared)
    if not plan.train:
        raise ConfigError("the protocol leaves no labelled training speakers")
    if not plan.test:
        raise ConfigError("the protocol leaves no test speakers")
    assert not set(plan.test) & set(plan.train + plan.val), "test speakers leaked into training"
    return plan


def speaker_table(plan: SpeakerPlan) -> Dict[str, Dict[str, int]]:
    """corpus -> {role: number of speakers}, for the run summary."""
    table: Dict[str, Dict[str, int]] = {}
    for role, speakers in plan.to_dict().items():
        for speaker in speakers:
            corpus = speaker.split("/", 1)[0]
            table.setdefault(corpus, {}).setdefault(role, 0)
            table[corpus][role] += 1
    return table
