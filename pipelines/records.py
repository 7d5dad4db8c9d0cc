"""The TFRecord schema: one tf.train.Example per spectrogram segment.

Every label travels with every segment, so a shard can feed any protocol and
any set of heads without a second lookup. Missing binary labels are -1.
"""

import numpy as np
import tensorflow as tf

STRING_FIELDS = ("utterance_id", "corpus", "speaker", "gender", "language", "emotion")
INT_FIELDS = ("arousal", "valence", "segment_index")


def _bytes(value: bytes):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value: int):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def serialize_segment(spectrogram: np.ndarray, labels: dict, segment_index: int) -> bytes:
    """`spectrogram` (frames, bins) float32; `labels` holds STRING_FIELDS and arousal/valence."""
    return segment_serializer(labels)(spectrogram, segment_index)


def segment_serializer(labels: dict):
    """(spectrogram, segment_index) -> bytes for the segments of one utterance.

    The Example is built once per utterance and only its spectrogram and
    segment index change per segment (the same bytes as a fresh Example, at
    half the cost: prepare serializes every segment in one process).
    """
    feature = {"spectrogram": _bytes(b"")}
    feature.update({name: _bytes(str(labels[name]).encode("utf-8")) for name in STRING_FIELDS})
    feature["arousal"] = _int(labels["arousal"])
    feature["valence"] = _int(labels["valence"])
    feature["segment_index"] = _int(0)
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    spectrogram_bytes = example.features.feature["spectrogram"].bytes_list.value
    index_value = example.features.feature["segment_index"].int64_list.value

    def serialize(spectrogram: np.ndarray, segment_index: int) -> bytes:
        spectrogram_bytes[0] = np.ascontiguousarray(spectrogram, dtype="<f4").tobytes()
        index_value[0] = int(segment_index)
        # deterministic=True sorts the map keys: shards are byte-identical across processes.
        return example.SerializeToString(deterministic=True)

    return serialize


FEATURE_SPEC = {
    "spectrogram": tf.io.FixedLenFeature([], tf.string),
    **{name: tf.io.FixedLenFeature([], tf.string) for name in STRING_FIELDS},
    **{name: tf.io.FixedLenFeature([], tf.int64) for name in INT_FIELDS},
}


def parse_segments(serialized: tf.Tensor, shape) -> dict:
    """Batch of serialized Examples -> dict with "spectrogram" (batch, frames, bins)."""
    parsed = tf.io.parse_example(serialized, FEATURE_SPEC)
    spectrogram = tf.io.decode_raw(parsed["spectrogram"], tf.float32, little_endian=True)
    parsed["spectrogram"] = tf.reshape(spectrogram, [-1, shape[0], shape[1]])
    return parsed
