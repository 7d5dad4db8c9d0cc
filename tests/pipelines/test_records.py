"""The segment Example: one template per utterance gives the bytes of a fresh Example per segment."""

import numpy as np
import tensorflow as tf

from pipelines.records import STRING_FIELDS, parse_segments, segment_serializer

LABELS = {**{name: f"{name}-value" for name in STRING_FIELDS}, "arousal": 1, "valence": -1}


def _fresh_example(spectrogram, index):
    def feature(value):
        if isinstance(value, bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    features = {"spectrogram": feature(spectrogram.astype("<f4").tobytes())}
    features.update({name: feature(LABELS[name].encode()) for name in STRING_FIELDS})
    features.update({"arousal": feature(1), "valence": feature(-1), "segment_index": feature(index)})
    return tf.train.Example(features=tf.train.Features(feature=features))


def test_each_segment_serializes_its_own_spectrogram_and_index():
    spectrograms = np.random.default_rng(0).normal(size=(3, 32, 129)).astype("float32")
    serialize = segment_serializer(LABELS)
    serialized = [serialize(s, i) for i, s in enumerate(spectrograms)]
    for index, (data, spectrogram) in enumerate(zip(serialized, spectrograms)):
        assert tf.train.Example.FromString(data) == _fresh_example(spectrogram, index)
    parsed = parse_segments(tf.constant(serialized), (32, 129))
    np.testing.assert_array_equal(parsed["spectrogram"].numpy(), spectrograms)
    assert parsed["segment_index"].numpy().tolist() == [0, 1, 2]
    assert parsed["valence"].numpy().tolist() == [-1, -1, -1]
    assert parsed["speaker"].numpy().tolist() == [b"speaker-value"] * 3
