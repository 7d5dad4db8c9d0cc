"""The exported graph computes the prepare step's features, on a real Emo-DB file."""

import os
import shutil

import numpy as np
import pytest

from keras_ser.export import normalised_segments
from keras_ser.features import load_waveform
from keras_ser.predict import load_model

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]

REAL_FILE = os.path.join("wav", "03a01Fa.wav")


@pytest.fixture(scope="module")
def prepared_real_file(emodb_root, tmp_path_factory):
    """pipelines.prepare on a copy of one real Emo-DB file (the corpus itself is read-only)."""
    from pipelines.prepare import prepare

    folder = tmp_path_factory.mktemp("emodb_one")
    os.makedirs(folder / "emodb" / "wav")
    shutil.copy(os.path.join(emodb_root, REAL_FILE), folder / "emodb" / REAL_FILE)
    prepare({"emodb": str(folder / "emodb")}, str(folder / "prepared"), workers=1, verbose=False)
    return str(folder / "emodb" / REAL_FILE), str(folder / "prepared")


def _prepared_spectrograms(prepared):
    import tensorflow as tf

    from pipelines.dataset import PreparedCorpora
    from pipelines.records import parse_segments

    corpora = PreparedCorpora(prepared)
    (speaker,) = corpora.speakers()
    records = tf.data.TFRecordDataset(corpora.shard(speaker)).batch(1000)
    parsed = parse_segments(next(iter(records)), corpora.features.shape)
    assert list(parsed["segment_index"].numpy()) == list(range(len(parsed["segment_index"])))
    return parsed["spectrogram"].numpy()


def test_in_graph_features_equal_the_prepare_step_on_a_real_file(prepared_real_file, run):
    path, prepared = prepared_real_file
    expected = (_prepared_spectrograms(prepared) - run.mean) / run.std
    waveform, _ = load_waveform(path, run.config.features)
    in_graph = normalised_segments(waveform, run.config.features, run.mean, run.std).numpy()
    assert in_graph.shape == (*expected.shape, 1) and expected.shape[0] > 10  # 2 s of speech
    np.testing.assert_allclose(in_graph[..., 0], expected, atol=1e-5)


@pytest.mark.parametrize("name", ["savedmodel", "tflite_none"])
def test_waveform_signature_on_a_real_file_equals_segments_of_prepared_features(prepared_real_file, run, exported,
                                                                                name):
    path, prepared = prepared_real_file
    x = ((_prepared_spectrograms(prepared) - run.mean) / run.std)[..., np.newaxis].astype(np.float32)
    model = load_model(exported[name]["path"])
    from_features = {task: p.mean(axis=0) for task, p in model.segments(x).items()}
    from_audio = model.waveform(load_waveform(path, run.config.features)[0])
    for task in run.config.tasks:
        np.testing.assert_allclose(from_audio[task], from_features[task], atol=1e-4)
