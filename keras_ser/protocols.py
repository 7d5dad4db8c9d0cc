"""Which speakers train, validate and test under each protocol.

multi (paper Table 2): every corpus is split 80/20 by speaker; training is the
union of the training speakers, testing is each corpus's held-out speakers.

cross (paper Tables 3, 4): emotion labels come from the source corpus only;
the target corpora's audio enters training unlabelled (for the domain heads);
testing is on the target corpora (all speakers, or with `target_split` the
held-out target speakers while the others provide the unlabelled audio).

In both, the validation speakers are held out from the labelled training
speakers (never from the test speakers).
"""

import dataclasses
from typing import Dict, List

from keras_ser.config import ConfigError, FitConfig
from pipelines.splits import corpus_splits, hold_out_speakers


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


def plan_multi(config: FitConfig, prepared) -> SpeakerPlan:
    corpora = prepared.corpora
    split = corpus_splits({c: _corpus_speakers(prepared, c) for c in corpora}, config.data.test_fraction, config.data.split_seed)
    plan = SpeakerPlan([], [], [], [])
    for corpus in corpora:
        speakers = [s for s, _ in _corpus_speakers(prepared, corpus)]
        train, val = _split_validation(config, prepared, corpus, [s for s in speakers if split[s] == "train"])
        plan.train += train
        plan.val += val
        plan.test += [s for s in speakers if split[s] == "test"]
    return plan


def plan_cross(config: FitConfig, prepared) -> SpeakerPlan:
    for name in [config.source, *config.targets]:
        _corpus_speakers(prepared, name)
    source = [s for s, _ in _corpus_speakers(prepared, config.source)]
    train, val = _split_validation(config, prepared, config.source, source)
    plan = SpeakerPlan(train, [], val, [])
    for target in config.targets:
        speakers = _corpus_speakers(prepared, target)
        if config.target_split:
            split = corpus_splits({target: speakers}, config.data.test_fraction, config.data.split_seed)
            plan.unlabelled += [s for s, _ in speakers if split[s] == "train"]
            plan.test += [s for s, _ in speakers if split[s] == "test"]
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
