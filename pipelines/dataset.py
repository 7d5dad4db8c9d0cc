"""tf.data over prepared shards: spectrograms in, labels and per-head weights out.

Each element is `(x, labels, weights)`:
    x        (batch, 32, 129, 1) float32, normalised per frequency
    labels   {"arousal", "valence", "gender", "language", "corpus", "speaker"} int32,
             plus "utterance" (string "<corpus>/<utterance_id>") for evaluation
    weights  the same keys (minus "utterance") float32: 0 where a sample must not
             train that head, e.g. the emotion heads on unlabelled target-domain
             audio, or a domain label outside the head's vocabulary.
"""

import csv
import dataclasses
import json
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from keras_ser.config import FeatureConfig
from pipelines.prepare import file_sha256, normalisation_stats, shard_stem
from pipelines.records import parse_segments

EMOTION_TASKS = ("arousal", "valence")


class CorruptShardError(RuntimeError):
    """A TFRecord shard differs from what the prepare step wrote."""


class PreparedCorpora:
    """A prepared folder: manifest, shards and their receipts."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        path = os.path.join(self.root, "prepared.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{self.root} is not a prepared folder (no prepared.json); run pipelines.prepare")
        with open(path, encoding="utf-8") as f:
            self.info = json.load(f)
        self.features = FeatureConfig(**self.info["features"])
        with open(os.path.join(self.root, "manifest.csv"), newline="", encoding="utf-8") as f:
            self.manifest = list(csv.DictReader(f))
        self.utterances = [row for row in self.manifest if row["status"] == "ok"]

    @property
    def corpora(self) -> List[str]:
        return sorted({row["corpus"] for row in self.utterances})

    def speakers(self, corpus: Optional[str] = None, split: Optional[str] = None) -> List[str]:
        return sorted({
            row["speaker"] for row in self.utterances
            if (corpus is None or row["corpus"] == corpus) and (split is None or row["split"] == split)
        })

    def speaker_genders(self, corpus: str) -> Dict[str, str]:
        return {row["speaker"]: row["gender"] for row in self.utterances if row["corpus"] == corpus}

    def shard(self, speaker: str) -> str:
        return shard_stem(self.root, speaker) + ".tfrecord"

    def receipt(self, speaker: str) -> dict:
        path = shard_stem(self.root, speaker) + ".json"
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as err:
            raise CorruptShardError(f"shard receipt {path} is missing or unreadable; rerun pipelines.prepare") from err

    def verify(self, speakers: Sequence[str]) -> None:
        """Checks every shard against its receipt's checksum before any training starts."""
        for speaker in sorted(speakers):
            path = self.shard(speaker)
            if not os.path.exists(path):
                raise CorruptShardError(f"TFRecord shard {path} is missing; rerun pipelines.prepare")
            if file_sha256(path) != self.receipt(speaker).get("sha256"):
                raise CorruptShardError(
                    f"TFRecord shard {path} is corrupted (checksum differs from its receipt); "
                    "rerun pipelines.prepare on the same output folder to rewrite it")

    def normalisation(self, speakers: Sequence[str]):
        """Per-frequency mean/std over the given (training) speakers' shards."""
        mean, std = normalisation_stats([self.receipt(speaker) for speaker in sorted(speakers)])
        return mean.astype(np.float32), std.astype(np.float32)

    def count_segments(self, speakers: Sequence[str]) -> int:
        wanted = set(speakers)
        return sum(int(row["n_segments"]) for row in self.utterances if row["speaker"] in wanted)


@dataclasses.dataclass
class Vocabulary:
    """Domain label values -> class indices, one list per domain head."""

    gender: List[str]
    language: List[str]
    corpus: List[str]
    speaker: List[str]

    def size(self, head: str) -> int:
        return len(getattr(self, head))

    def to_dict(self):
        return dataclasses.asdict(self)


DOMAIN_HEADS = ("gender", "language", "corpus", "speaker")


def _lookup(values: List[str]) -> tf.lookup.StaticHashTable:
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(values or [""]), tf.range(max(len(values), 1), dtype=tf.int32)),
        default_value=-1,
    )


# Segments parsed at once when filling the in-memory cache.
_CACHE_PARSE_BATCH = 512


class TrainingStream:
    """The training side of `make_dataset`: one record order for the run, one shuffle per epoch.

    The records of all shards are interleaved once, in an order fixed by
    `order_seed` (the shard list is shuffled with it); `epoch(seed)` repeats
    that stream endlessly, shuffles it with `seed` and cuts fixed-size
    batches. With `in_memory`, the parsed and normalised segments are kept in
    memory after their first pass (`tf.data.Dataset.cache`), so later epochs
    neither read nor parse the shards; the batches are bit-identical to the
    streamed ones (the same elements in the same order, parsed by the same ops).
    """

    def __init__(self, shards: Sequence[str], features: FeatureConfig, vocabulary: Vocabulary, mean: np.ndarray,
                 std: np.ndarray, batch_size: int, unlabelled_shards: Sequence[str] = (), order_seed: int = 0,
                 shuffle_buffer: int = 8192, input_context: Optional[tf.distribute.InputContext] = None,
                 in_memory: bool = False):
        records, self._to_inputs, batch_size = _records(shards, unlabelled_shards, features, vocabulary, mean, std,
                                                        batch_size, input_context, order_seed=order_seed)
        self.batch_size, self.shuffle_buffer, self.in_memory = batch_size, shuffle_buffer, in_memory
        if in_memory:
            records = (records.batch(_CACHE_PARSE_BATCH).map(self._to_inputs, num_parallel_calls=tf.data.AUTOTUNE,
                                                             deterministic=True)
                       .unbatch().cache())
        self._records = records

    def epoch(self, seed: int) -> tf.data.Dataset:
        """An endless stream of batches, shuffled with `seed`: the trainer takes a fixed number of
        steps per epoch (identical on every worker), even when a corpus is smaller than one global batch."""
        batches = (self._records.repeat().shuffle(self.shuffle_buffer, seed=seed, reshuffle_each_iteration=False)
                   .batch(self.batch_size, drop_remainder=True))
        if not self.in_memory:
            batches = batches.map(self._to_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return batches.prefetch(tf.data.AUTOTUNE)


def make_dataset(
    shards: Sequence[str],
    features: FeatureConfig,
    vocabulary: Vocabulary,
    mean: np.ndarray,
    std: np.ndarray,
    batch_size: int,
    unlabelled_shards: Sequence[str] = (),
    training: bool = False,
    seed: int = 0,
    shuffle_buffer: int = 8192,
    input_context: Optional[tf.distribute.InputContext] = None,
) -> tf.data.Dataset:
    """Streams segments of `shards` (labelled) and `unlabelled_shards` (domain heads only).

    Training: interleave over all shards, repeat endlessly, shuffle (seeded:
    the same seed gives the same order), fixed-size batches (see
    `TrainingStream`, which keeps one record order across epochs). Evaluation: files in order, partial
    last batch kept. Under tf.distribute, `input_context` gives the per-replica
    batch size and this pipeline's share of the records.
    `mean`/`std`: (bins,) for every shard, or (shards, bins) with one row per
    shard of `shards` + `unlabelled_shards` (per-speaker or per-corpus
    normalisation, see pipelines.normalisation).
    """
    if training:
        return TrainingStream(shards, features, vocabulary, mean, std, batch_size, unlabelled_shards,
                              order_seed=seed, shuffle_buffer=shuffle_buffer,
                              input_context=input_context).epoch(seed)
    records, to_inputs, batch_size = _records(shards, unlabelled_shards, features, vocabulary, mean, std,
                                              batch_size, input_context, order_seed=None)
    return (records.batch(batch_size).map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


def _records(shards, unlabelled_shards, features, vocabulary, mean, std, batch_size, input_context, order_seed):
    """(records, to_inputs, per-replica batch size): `(serialized, labelled flag, shard index)` records of
    every shard, and the map from a batch of them to model inputs. `order_seed` None: the shards in
    order, one after the other (evaluation); else the shards shuffled with it and interleaved record by record.
    """
    files = list(shards) + list(unlabelled_shards)
    if not files:
        raise ValueError("make_dataset: no shards given")
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(f"missing TFRecord shard(s): {', '.join(missing[:3])}")
    labelled = tf.constant([1.0] * len(shards) + [0.0] * len(unlabelled_shards))
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)

    tables = {head: _lookup(getattr(vocabulary, head)) for head in DOMAIN_HEADS}
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    if mean.ndim == 1:
        mean, std = np.tile(mean, (len(files), 1)), np.tile(std, (len(files), 1))
    if mean.shape[0] != len(files) or std.shape != mean.shape:
        raise ValueError(f"make_dataset: {mean.shape[0]} rows of statistics for {len(files)} shards")
    # One statistics row per shard, carried with each record by its shard index.
    mean, std = tf.constant(mean), tf.constant(std)

    training = order_seed is not None
    files_ds = tf.data.Dataset.from_tensor_slices((tf.constant(files), labelled, tf.range(len(files))))
    if training:
        files_ds = files_ds.shuffle(len(files), seed=order_seed, reshuffle_each_iteration=False)
    records = files_ds.interleave(
        lambda path, flag, index: tf.data.TFRecordDataset(path).map(lambda r: (r, flag, index)),
        cycle_length=len(files) if training else 1,
        block_length=1,
        **({"num_parallel_calls": tf.data.AUTOTUNE, "deterministic": True} if training else {}),
    )
    if input_context is not None and input_context.num_input_pipelines > 1:
        # Record-level sharding: speakers' shards differ in size, so splitting
        # files between workers would unbalance their steps.
        records = records.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)

    def to_model_inputs(serialized, flag, index):
        parsed = parse_segments(serialized, features.shape)
        x = (parsed["spectrogram"] - tf.gather(mean, index)[:, tf.newaxis]) / tf.gather(std, index)[:, tf.newaxis]
        labels, weights = {}, {}
        for task in EMOTION_TASKS:
            value = tf.cast(parsed[task], tf.int32)
            labels[task] = tf.maximum(value, 0)
            weights[task] = flag * tf.cast(value >= 0, tf.float32)
        for head in DOMAIN_HEADS:
            index = tables[head].lookup(parsed[head])
            labels[head] = tf.maximum(index, 0)
            weights[head] = tf.cast(index >= 0, tf.float32)
        labels["utterance"] = tf.strings.join([parsed["corpus"], parsed["utterance_id"]], "/")
        return x[..., tf.newaxis], labels, weights

    return records, to_model_inputs, batch_size
