"""pipelines.normalisation: which statistics normalise whom, and that nothing leaks into them."""

import csv
import json
import os
import shutil

import numpy as np
import pytest

from keras_ser.config import ConfigError, load_fit_config
from pipelines.dataset import PreparedCorpora, Vocabulary, make_dataset
from pipelines.normalisation import Normalisation, fit_normalisation
from pipelines.records import parse_segments
from tests.helpers import tiny_emodb, tiny_savee


def _receipt(frames, values):
    """A receipt of `frames` frames over 2 bins whose frames are the rows of `values` (hand example)."""
    values = np.asarray(values, np.float64)
    assert values.shape == (frames, 2)
    return {"frames": frames, "sum": values.sum(axis=0).tolist(), "sum_squares": np.square(values).sum(axis=0).tolist()}


# Two corpora, hand-chosen frames (2 bins): a/1 and a/2 label-train, b/1 is
# unlabelled target audio, a/3 and b/2 are test speakers.
FRAMES = {
    "a/1": [[1, 10], [3, 10]],
    "a/2": [[5, 20], [7, 20]],
    "a/3": [[100, 0], [100, 0]],
    "b/1": [[0, 4], [2, 8]],
    "b/2": [[-50, 50], [50, -50]],
}
RECEIPTS = {speaker: _receipt(len(frames), frames) for speaker, frames in FRAMES.items()}


def _fit(mode, receipts=RECEIPTS):
    return fit_normalisation(mode, receipts.__getitem__, train=["a/1", "a/2"], unlabelled=["b/1"],
                             others=["a/3", "b/2"])


def test_per_speaker_statistics_on_a_hand_example():
    normalisation = _fit("speaker")
    stats = normalisation.stats("a/1")
    np.testing.assert_allclose(stats.mean, [2, 10])
    np.testing.assert_allclose(stats.std, [1, 1e-6], atol=1e-6)  # a constant bin: the variance floor
    stats = normalisation.stats("b/2")
    np.testing.assert_allclose(stats.mean, [0, 0])
    np.testing.assert_allclose(stats.std, [50, 50])
    assert stats.speakers == ["b/2"]
    # The fallback is the labelled training speakers' statistics in every mode.
    np.testing.assert_allclose(normalisation.fallback.mean, [4, 15])
    np.testing.assert_allclose(normalisation.fallback.std, [np.sqrt(5), 5])


def test_per_corpus_statistics_on_a_hand_example():
    normalisation = _fit("corpus")
    # Corpus a: its training speakers a/1, a/2 (frames 1, 3, 5, 7 | 10, 10, 20, 20); the test speaker a/3 is
    # normalised with them and adds nothing.
    for speaker in ("a/1", "a/2", "a/3"):
        np.testing.assert_allclose(normalisation.stats(speaker).mean, [4, 15])
        np.testing.assert_allclose(normalisation.stats(speaker).std, [np.sqrt(5), 5])
    # Corpus b: its unlabelled speaker only (frames 0, 2 | 4, 8).
    np.testing.assert_allclose(normalisation.stats("b/2").mean, [1, 6])
    np.testing.assert_allclose(normalisation.stats("b/2").std, [1, 2])
    assert normalisation.stats("b/2").speakers == ["b/1"]


def test_global_statistics_are_the_training_speakers_for_everyone():
    normalisation = _fit("global")
    for speaker in FRAMES:
        np.testing.assert_allclose(normalisation.stats(speaker).mean, [4, 15])


@pytest.mark.parametrize("mode", ["global", "corpus", "speaker"])
def test_a_test_speakers_statistics_do_not_depend_on_another_test_speakers_audio(mode):
    changed = dict(RECEIPTS, **{"b/2": _receipt(2, [[9, 9], [1, 3]])})
    before, after = _fit(mode), _fit(mode, changed)
    np.testing.assert_array_equal(before.stats("a/3").mean, after.stats("a/3").mean)
    np.testing.assert_array_equal(before.stats("a/3").std, after.stats("a/3").std)
    if mode != "speaker":  # nor on its own: a test speaker that is not unlabelled training audio never contributes
        np.testing.assert_array_equal(before.stats("b/2").mean, after.stats("b/2").mean)
    else:
        assert not np.array_equal(before.stats("b/2").mean, after.stats("b/2").mean)


def test_a_corpus_without_training_or_unlabelled_audio_is_an_error():
    with pytest.raises(ConfigError, match="corpus 'b' has no training or unlabelled speakers"):
        fit_normalisation("corpus", RECEIPTS.__getitem__, train=["a/1"], others=["b/2"])
    with pytest.raises(ConfigError, match="data.normalisation: 'utterance'"):
        fit_normalisation("utterance", RECEIPTS.__getitem__, train=["a/1"])


def test_round_trip_through_the_run_folders_json():
    normalisation = _fit("corpus")
    loaded = Normalisation.from_dict(json.loads(json.dumps(normalisation.to_dict())))
    assert loaded.mode == "corpus" and sorted(loaded.groups) == ["a", "b"]
    np.testing.assert_allclose(loaded.stats("b/2").mean, normalisation.stats("b/2").mean)
    # A run folder written before the modes existed is global.
    old = Normalisation.from_dict({"speakers": "labelled training speakers", "mean": [1.0, 2.0], "std": [3.0, 4.0]})
    assert old.mode == "global"
    np.testing.assert_allclose(old.stats("x/1").std, [3, 4])


# ---------------------------------------------------------------------------
# End to end: the tensors fed to the model


@pytest.fixture(scope="module")
def prepared_folder(tmp_path_factory):
    from pipelines.prepare import prepare

    root = tmp_path_factory.mktemp("norm")
    corpora = {"emodb": tiny_emodb(str(root / "emodb")), "savee": tiny_savee(str(root / "savee"))}
    prepare(corpora, str(root / "prepared"), workers=1, verbose=False)
    return str(root / "prepared")


def _test_inputs(folder, mode):
    """{speaker: the normalised test segments build_data feeds the model} under the multi protocol."""
    from keras_ser.fit import build_data
    from keras_ser.protocols import plan_speakers

    config = load_fit_config(None, {"data": {"prepared": folder, "normalisation": mode}, "out": "unused"})
    prepared = PreparedCorpora(folder)
    plan = plan_speakers(config, prepared)
    _, _, _, normalisation = build_data(config, prepared, plan)
    out = {}
    for speaker in plan.test:
        mean, std = normalisation.arrays([speaker])
        dataset = make_dataset([prepared.shard(speaker)], prepared.features,
                               Vocabulary(["f", "m"], [], [], []), mean, std, batch_size=1000)
        out[speaker] = np.concatenate([x.numpy() for x, _, _ in dataset])
    return plan, out


def _copy_with(folder, tmp_path, change_audio_of=None, flip_labels=False):
    copy = str(tmp_path / "copy")
    shutil.copytree(folder, copy)
    if change_audio_of:  # another speaker's audio, as the statistics see it: its receipt's sums
        stem = os.path.join(copy, "shards", *change_audio_of.split("/"))
        receipt = json.load(open(stem + ".json"))
        receipt["sum"] = [3.0 * v + 7.0 for v in receipt["sum"]]
        receipt["sum_squares"] = [9.0 * v + 100.0 for v in receipt["sum_squares"]]
        json.dump(receipt, open(stem + ".json", "w"))
    if flip_labels:
        path = os.path.join(copy, "manifest.csv")
        rows = list(csv.DictReader(open(path, newline="")))
        for row in rows:
            for task in ("arousal", "valence"):
                row[task] = str(1 - int(row[task])) if int(row[task]) >= 0 else row[task]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return copy


@pytest.mark.parametrize("mode", ["corpus", "speaker"])
def test_test_inputs_do_not_change_with_another_test_speakers_audio_or_with_labels(prepared_folder, tmp_path, mode):
    plan, before = _test_inputs(prepared_folder, mode)
    assert len(plan.test) >= 2
    first, other = plan.test[0], plan.test[-1]
    _, changed = _test_inputs(_copy_with(prepared_folder, tmp_path / "audio", change_audio_of=other), mode)
    np.testing.assert_array_equal(before[first], changed[first])
    if mode == "speaker":  # the changed speaker itself does move: the comparison can see a dependence
        assert not np.allclose(before[other], changed[other])
    else:  # multi protocol: a test speaker's audio adds nothing to its corpus's statistics, not even its own
        np.testing.assert_array_equal(before[other], changed[other])
    _, relabelled = _test_inputs(_copy_with(prepared_folder, tmp_path / "labels", flip_labels=True), mode)
    for speaker in plan.test:
        np.testing.assert_array_equal(before[speaker], relabelled[speaker])


def test_each_shard_is_normalised_with_its_own_row(prepared_folder):
    prepared = PreparedCorpora(prepared_folder)
    speakers = prepared.speakers()[:2]
    mean = np.stack([np.full(129, 1.0), np.full(129, -2.0)]).astype(np.float32)
    std = np.stack([np.full(129, 2.0), np.full(129, 0.5)]).astype(np.float32)
    dataset = make_dataset([prepared.shard(s) for s in speakers], prepared.features,
                           Vocabulary(["f", "m"], [], [], []), mean, std, batch_size=1000)
    x = np.concatenate([x.numpy() for x, _, _ in dataset])[..., 0]
    import tensorflow as tf

    raw = [parse_segments(next(iter(tf.data.TFRecordDataset(prepared.shard(s)).batch(1000))),
                          prepared.features.shape)["spectrogram"].numpy() for s in speakers]
    np.testing.assert_allclose(x[:len(raw[0])], (raw[0] - 1.0) / 2.0, rtol=1e-6)
    np.testing.assert_allclose(x[len(raw[0]):], (raw[1] + 2.0) / 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="2 rows of statistics for 1 shards"):
        make_dataset([prepared.shard(speakers[0])], prepared.features, Vocabulary(["f", "m"], [], [], []), mean,
                     std, batch_size=8)
