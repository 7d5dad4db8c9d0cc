"""Speaker-level folds (data.folds / data.fold) in keras_ser.protocols, and the probe's speaker sides."""

import pytest

from keras_ser.config import ConfigError, load_fit_config
from keras_ser.experiments.analysis import probe_speakers
from keras_ser.protocols import plan_speakers, speaker_folds
from pipelines.dataset import PreparedCorpora
from pipelines.splits import hold_out_speakers


def _config(tones, **tree):
    return load_fit_config(None, {"data": {"prepared": tones, **tree.pop("data", {})}, **tree})


def test_folds_partition_each_corpus_gender_balanced():
    speakers = [(f"c/{i}", "f" if i % 2 else "m") for i in range(10)]
    folds = speaker_folds(speakers, 3, seed=0, salt="c")
    assert sorted(s for fold in folds for s in fold) == sorted(s for s, _ in speakers)
    assert sorted(len(f) for f in folds) == [3, 3, 4]
    genders = dict(speakers)
    assert all({genders[s] for s in fold} == {"f", "m"} for fold in folds)
    assert folds == speaker_folds(speakers, 3, seed=0, salt="c") != speaker_folds(speakers, 3, seed=1, salt="c")
    with pytest.raises(ConfigError, match="fewer than the 11 folds"):
        speaker_folds(speakers, 11, seed=0, salt="c")


def test_every_speaker_is_tested_exactly_once_over_the_folds(tones):
    prepared = PreparedCorpora(tones)
    tested = []
    for fold in range(2):
        plan = plan_speakers(_config(tones, data={"folds": 2, "fold": fold}), prepared)
        assert not set(plan.test) & set(plan.train + plan.val)
        assert {s.split("/")[0] for s in plan.test} == {"emodb", "savee"}
        tested += plan.test
    assert sorted(tested) == prepared.speakers()


def test_cross_protocol_folds_hold_out_target_speakers(tones):
    config = _config(tones, protocol="cross", source="savee", targets=["emodb"], data={"folds": 2, "fold": 1})
    plan = plan_speakers(config, PreparedCorpora(tones))
    assert plan.test and plan.unlabelled and not set(plan.test) & set(plan.unlabelled)
    assert sorted(plan.test + plan.unlabelled) == PreparedCorpora(tones).speakers("emodb")


def test_without_folds_the_split_is_the_usual_hold_out(tones):
    prepared = PreparedCorpora(tones)
    plan = plan_speakers(_config(tones), prepared)
    expected = [s for c in prepared.corpora
                for s in hold_out_speakers(sorted(prepared.speaker_genders(c).items()), 0.2, 0, salt=c)]
    assert sorted(plan.test) == sorted(expected)


@pytest.mark.parametrize("data, message", [
    ({"folds": 1}, "data.folds: 1 is not accepted"),
    ({"folds": 3, "fold": 3}, "data.fold: 3 is outside the accepted range [0, 2]"),
    ({"fold": 1}, "data.fold: 1 is outside"),
])
def test_bad_fold_settings_are_refused(data, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_fit_config(None, {"data": data})


def test_probe_sides_never_share_a_speaker(tones):
    prepared = PreparedCorpora(tones)
    multi = plan_speakers(_config(tones), prepared).to_dict()
    train, test = probe_speakers(multi, prepared, seed=0)
    assert sorted(test) == sorted(multi["test"]) and not set(train) & set(test)
    assert not set(train) & set(multi["val"])
    # The source is probed on its validation speakers; targets tested on all their speakers lend half of them.
    cross = plan_speakers(_config(tones, protocol="cross", source="savee", targets=["emodb"]), prepared).to_dict()
    train, test = probe_speakers(cross, prepared, seed=0)
    assert not set(train) & set(test)
    assert {s.split("/")[0] for s in train} == {s.split("/")[0] for s in test} == {"emodb", "savee"}
