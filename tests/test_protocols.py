"""Speaker separation in what the datasets of a run actually read, not only in the written plan.

keras_ser.fit.build_data turns a speaker plan into the training, validation and
test datasets; each utterance read is traced back to its speaker through the
prepared manifest.
"""

import pytest

from keras_ser.config import load_fit_config
from keras_ser.fit import build_data
from keras_ser.protocols import plan_speakers
from pipelines.dataset import PreparedCorpora
from tests.helpers import TINY_MODEL


def _read(dataset, speaker_of, batches=None):
    """{speaker: emotion-labelled?} over the utterances a dataset yields."""
    read = {}
    for index, (_, labels, weights) in enumerate(dataset):
        if batches is not None and index == batches:
            break
        for utterance, weight in zip(labels["utterance"].numpy(), weights["arousal"].numpy()):
            speaker = speaker_of[utterance.decode()]
            read[speaker] = read.get(speaker, False) or bool(weight > 0)
    return read


@pytest.mark.parametrize("protocol", [
    {"protocol": "multi"},
    {"protocol": "cross", "source": "savee", "targets": ["emodb"]},
    {"protocol": "cross", "source": "savee", "targets": ["emodb"], "target_split": True},
], ids=["multi", "cross", "cross-target-split"])
def test_no_speaker_is_read_by_two_splits(tones, protocol):
    protocol = dict(protocol)
    config = load_fit_config(None, {"data": {"prepared": tones, **protocol.pop("data", {})}, "out": "unused",
                                    "model": dict(TINY_MODEL), "train": {"batch_size": 16}, **protocol})
    prepared = PreparedCorpora(tones)
    speaker_of = {f"{row['corpus']}/{row['utterance_id']}": row["speaker"] for row in prepared.utterances}
    plan = plan_speakers(config, prepared)
    data_plan, test_dataset, _, _ = build_data(config, prepared, plan)

    # Two epochs of the shuffled, repeated (seeded) training stream: every training shard is reached.
    train = _read(data_plan.train_dataset(seed=0), speaker_of, batches=2 * data_plan.steps_per_epoch)
    val = _read(data_plan.val_dataset(), speaker_of)
    test = _read(test_dataset(), speaker_of)

    assert set(train) == set(plan.train) | set(plan.unlabelled) and set(val) == set(plan.val)
    assert set(test) == set(plan.test)
    # Emotion labels train on the labelled training speakers only; unlabelled audio feeds the domain heads.
    labelled = {s for s, has_label in train.items() if has_label}
    assert labelled == set(plan.train)
    assert not (labelled & set(val) or labelled & set(test) or set(val) & set(test))
    assert not set(train) & set(val)
    if config.protocol == "multi" or config.target_split:
        assert not set(train) & set(test)
    else:
        # Cross protocol on all target speakers: their audio trains the domain heads, unlabelled.
        assert set(train) & set(test) == set(test) and not labelled & set(test)
    if config.protocol == "cross":
        assert {s.split("/")[0] for s in labelled | set(val)} == {"savee"}
        assert {s.split("/")[0] for s in test} == {"emodb"}
    else:
        assert {s.split("/")[0] for s in test} == {"emodb", "savee"}


def test_training_batches_follow_each_callers_input_context(tones):
    """A data plan asked for global batches first and per-replica batches later (as a benchmark or
    a caller sharing one plan between strategies does) cuts each at its own size."""
    import tensorflow as tf

    config = load_fit_config(None, {"data": {"prepared": tones}, "out": "unused", "model": dict(TINY_MODEL),
                                    "train": {"batch_size": 16}, "protocol": "multi"})
    prepared = PreparedCorpora(tones)
    data_plan, _, _, _ = build_data(config, prepared, plan_speakers(config, prepared))

    def batch_size(context=None):
        x, _, _ = next(iter(data_plan.train_dataset(0, context)))
        return int(x.shape[0])

    assert batch_size() == 16
    two_replicas = tf.distribute.InputContext(num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=2)
    assert batch_size(two_replicas) == 8
    assert batch_size() == 16
