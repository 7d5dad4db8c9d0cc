"""keras_ser.Recognizer: an export called on a file or an array; utterance result and per-segment timeline."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile

import keras_ser
from keras_ser.predict import predict_file
from tests.conftest import REPO
from tests.helpers import tone, write_wav

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]  # shares the package-scoped run


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    """3.1 s of a stereo 44.1 kHz tone pair (different channels), as a WAV and as int16 samples."""
    left, right = tone(3.1, 44100, 220, 0.6, seed=5), tone(3.1, 44100, 330, 0.3, seed=6)
    path = str(tmp_path_factory.mktemp("audio") / "stereo.wav")
    write_wav(path, np.stack([left, right], 1), 44100)
    samples, _ = soundfile.read(path, dtype="int16")
    return path, samples


@pytest.mark.parametrize("name", ["tflite_none", "savedmodel"])
def test_file_result_is_predict_s_and_the_timeline_averages_to_it(exported, stereo, name):
    recognizer = keras_ser.Recognizer.load(exported[name]["path"])
    prediction = recognizer(stereo[0])
    reference = predict_file(recognizer.model, stereo[0])
    assert prediction.seconds == pytest.approx(3.1, abs=1e-3)
    for task in ("arousal", "valence"):
        assert prediction.labels[task] == reference[task]["label"]
        for label, p in reference[task]["probabilities"].items():
            assert prediction.probabilities[task][label] == pytest.approx(p, abs=1e-4)
    features = recognizer.features
    starts = [entry["start"] for entry in prediction.timeline]
    # 3.1 s at 16 kHz = 49600 samples: 1 + (49600 - 4240) // 2120 = 22 full segments, tail 840 < 1060 dropped.
    assert len(starts) == 22
    np.testing.assert_allclose(np.diff(starts), features.segment_hop / features.sample_rate)
    for task, names in (("arousal", "high"), ("valence", "positive")):
        mean = np.mean([entry[task][names] for entry in prediction.timeline])
        assert mean == pytest.approx(prediction.probabilities[task][names], abs=1e-5)


def test_array_any_rate_and_channels_equals_the_file(exported, stereo):
    recognizer = keras_ser.Recognizer.load(exported["tflite_none"]["path"])
    path, samples = stereo
    from_file = recognizer(path)
    from_ints = recognizer(samples, sample_rate=44100)
    from_floats = recognizer(samples / 32768.0, sample_rate=44100)
    for prediction in (from_ints, from_floats):
        assert _flat(prediction.probabilities) == pytest.approx(_flat(from_file.probabilities))
        assert len(prediction.timeline) == len(from_file.timeline)
    with pytest.raises(ValueError, match="sample_rate"):
        recognizer(samples)
    without = recognizer(path, timeline=False)
    assert without.timeline == [] and without.probabilities == from_file.probabilities


def _flat(probabilities):
    return {(task, label): p for task, by_label in probabilities.items() for label, p in by_label.items()}


def test_the_export_s_feature_settings_set_the_timeline(exported, stereo, tmp_path):
    source = exported["tflite_none"]["path"]
    shutil.copy(source, tmp_path / "model.tflite")
    summary = json.loads(open(os.path.join(os.path.dirname(source), "export.json")).read())
    summary["features"]["segment_hop"] = 1060
    (tmp_path / "export.json").write_text(json.dumps(summary))
    prediction = keras_ser.Recognizer.load(tmp_path / "model.tflite")(stereo[0])
    np.testing.assert_allclose(np.diff([e["start"] for e in prediction.timeline]), 1060 / 16000)


def test_tflite_recognizer_imports_no_tensorflow(exported, stereo):
    code = ("import sys, keras_ser\n"
            f"p = keras_ser.Recognizer.load({exported['tflite_none']['path']!r})({stereo[0]!r})\n"
            "assert p.timeline and set(p.labels) == {'arousal', 'valence'}\n"
            "print('LOADED', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_import_keras_ser_is_light():
    code = "import sys, keras_ser; print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.strip() == "[]"
    assert callable(keras_ser.fit) and keras_ser.fit.train is keras_ser.train
