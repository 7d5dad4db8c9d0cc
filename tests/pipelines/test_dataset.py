"""pipelines.dataset: what the model is fed."""

import os

import numpy as np
import pytest
import tensorflow as tf

from pipelines.dataset import PreparedCorpora, Vocabulary, make_dataset
from pipelines.prepare import prepare
from tests.helpers import tiny_emodb


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    prepare({"emodb": tiny_emodb(str(root / "emodb"))}, str(root / "prepared"), workers=1, verbose=False)
    return PreparedCorpora(str(root / "prepared"))


def _vocabulary(prepared):
    return Vocabulary(gender=["f", "m"], language=["de"], corpus=["emodb"], speaker=prepared.speakers()[:3])


def _dataset(prepared, speakers, unlabelled=(), **kwargs):
    mean, std = prepared.normalisation(speakers)
    return make_dataset([prepared.shard(s) for s in speakers], prepared.features, _vocabulary(prepared), mean, std,
                        unlabelled_shards=[prepared.shard(s) for s in unlabelled], **kwargs)


def test_shapes_labels_and_normalisation(prepared):
    speakers = prepared.speakers()
    x, labels, weights = next(iter(_dataset(prepared, speakers, batch_size=80)))
    assert x.shape == (80, 32, 129, 1) and x.dtype == tf.float32
    # Normalised with the same speakers' statistics: zero mean, unit variance per bin.
    np.testing.assert_allclose(tf.reduce_mean(x, axis=[0, 1, 3]).numpy(), 0.0, atol=1e-3)
    np.testing.assert_allclose(tf.math.reduce_std(x, axis=[0, 1, 3]).numpy(), 1.0, atol=1e-2)
    assert set(labels) == {"arousal", "valence", "gender", "language", "corpus", "speaker", "utterance"}
    assert set(weights) == set(labels) - {"utterance"}
    # Speakers outside the head's vocabulary do not train it.
    in_vocabulary = np.isin([u.decode().split("/")[1][:2] for u in labels["utterance"].numpy()],
                            [s.split("/")[1] for s in prepared.speakers()[:3]])
    np.testing.assert_array_equal(weights["speaker"].numpy(), in_vocabulary.astype("float32"))


def test_unlabelled_shards_train_domain_heads_only(prepared):
    speakers = prepared.speakers()
    ds = _dataset(prepared, speakers[:2], unlabelled=speakers[2:], batch_size=80)
    _, labels, weights = next(iter(ds))
    labelled = np.isin([u.decode().split("/")[1][:2] for u in labels["utterance"].numpy()],
                       [s.split("/")[1] for s in speakers[:2]])
    assert 0 < labelled.sum() < 80
    np.testing.assert_array_equal(weights["arousal"].numpy(), labelled.astype("float32"))
    np.testing.assert_array_equal(weights["corpus"].numpy(), np.ones(80, "float32"))


def test_training_order_is_seeded_and_batches_are_full(prepared):
    speakers = prepared.speakers()
    order = lambda seed: np.concatenate([l["utterance"].numpy() for _, l, _ in _dataset(  # noqa: E731
        prepared, speakers, batch_size=16, training=True, seed=seed).take(10)])
    assert order(1).shape == (160,)  # endless stream of full batches (100 segments)
    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))


def test_input_context_shards_records_between_pipelines(prepared):
    speakers = prepared.speakers()
    seen = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2)
        ds = _dataset(prepared, speakers, batch_size=20, input_context=context)
        batches = [l["utterance"].numpy() for _, l, _ in ds]
        assert all(b.shape[0] <= 10 for b in batches)  # per-replica batch = 20 / 2
        seen.append(np.concatenate(batches))
    assert len(seen[0]) + len(seen[1]) == prepared.count_segments(speakers)


def test_missing_shard_is_a_clear_error(prepared):
    with pytest.raises(FileNotFoundError, match="missing TFRecord shard"):
        make_dataset(["/nonexistent.tfrecord"], prepared.features, _vocabulary(prepared), np.zeros(129), np.ones(129), 8)


def test_corrupted_shard_is_named_before_training(tmp_path):

    from pipelines.dataset import CorruptShardError

    root = tiny_emodb(str(tmp_path / "emodb"))
    prepare({"emodb": root}, str(tmp_path / "prepared"), workers=1, verbose=False)
    prepared = PreparedCorpora(str(tmp_path / "prepared"))
    prepared.verify(prepared.speakers())
    shard = prepared.shard(prepared.speakers()[0])
    with open(shard, "r+b") as f:
        f.seek(50)
        f.write(b"\xff" * 8)
    with pytest.raises(CorruptShardError, match=shard.replace(".", r"\.")):
        prepared.verify(prepared.speakers())
    os.remove(shard)
    with pytest.raises(CorruptShardError, match="missing"):
        prepared.verify(prepared.speakers())


def test_in_memory_epochs_equal_streamed_epochs_bit_for_bit(prepared):
    """The cache changes where the segments come from, not which batches the model sees."""
    from pipelines.dataset import TrainingStream

    speakers = prepared.speakers()
    mean, std = prepared.normalisation(speakers[:3])

    def stream(in_memory):
        return TrainingStream([prepared.shard(s) for s in speakers[:3]], prepared.features, _vocabulary(prepared),
                              mean, std, 16, unlabelled_shards=[prepared.shard(s) for s in speakers[3:]],
                              order_seed=7, shuffle_buffer=64, in_memory=in_memory)

    streamed, cached = stream(False), stream(True)
    epochs = {}
    for seed in (0, 1, 0):  # the third epoch reads the filled cache
        batches = [list(zip(*pair)) for pair in zip(streamed.epoch(seed).take(12), cached.epoch(seed).take(12))]
        for (x_streamed, x_cached), (labels_streamed, labels_cached), (weights_streamed, weights_cached) in batches:
            np.testing.assert_array_equal(x_streamed.numpy(), x_cached.numpy())
            for key in labels_streamed:
                np.testing.assert_array_equal(labels_streamed[key].numpy(), labels_cached[key].numpy())
            for key in weights_streamed:
                np.testing.assert_array_equal(weights_streamed[key].numpy(), weights_cached[key].numpy())
        epochs.setdefault(seed, []).append(np.concatenate([b[1][0]["utterance"].numpy() for b in batches]))
    # Each epoch's seed decides its order; the same seed gives the same order again.
    np.testing.assert_array_equal(epochs[0][0], epochs[0][1])
    assert not np.array_equal(epochs[0][0], epochs[1][0])
