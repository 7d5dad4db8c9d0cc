"""keras_ser.predict: table and JSON output on a real file, unreadable files reported."""

import json
import os
import subprocess
import sys

import pytest

from keras_ser.predict import main
from tests.helpers import tone, write_wav

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]

REAL_FILE = os.path.join("wav", "03a01Fa.wav")


@pytest.fixture
def broken_wav(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")  # header cut inside the fmt chunk
    return str(path)


@pytest.mark.parametrize("name", ["tflite_none", "savedmodel"])
def test_table_on_a_real_file(emodb_root, exported, name, capsys):
    path = os.path.join(emodb_root, REAL_FILE)
    assert main([path, "--model", exported[name]["path"]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| file | arousal | valence |"
    (row,) = [line for line in lines if path in line]
    arousal, valence = [cell.strip() for cell in row.strip("|").split("|")[1:]]
    assert arousal.split(" ")[0] in ("low", "high") and valence.split(" ")[0] in ("negative", "positive")
    # The printed label is the model's argmax, with its probability.
    (result,) = [json.loads(line) for line in _json_run(path, exported[name]["path"], capsys)]
    for task, cell in (("arousal", arousal), ("valence", valence)):
        probabilities = result[task]["probabilities"]
        assert cell == f"{max(probabilities, key=probabilities.get)} ({max(probabilities.values()):.2f})"
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-3)


def _json_run(path, model, capsys):
    assert main([path, "--model", model, "--json"]) == 0
    return capsys.readouterr().out.strip().splitlines()


def test_tflite_prediction_imports_no_tensorflow(emodb_root, exported):
    code = ("import sys; from keras_ser.predict import main; "
            f"code = main([{os.path.join(emodb_root, REAL_FILE)!r}, '--model', {exported['tflite_none']['path']!r}]); "
            "assert code == 0, code; "
            "print('LOADED', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_json_lines_and_a_broken_file_reported_while_the_good_one_runs(emodb_root, exported, broken_wav, tmp_path,
                                                                         capsys):
    good = os.path.join(emodb_root, REAL_FILE)
    # Stereo 44.1 kHz: resampled and mixed down like the training data.
    stereo = write_wav(str(tmp_path / "stereo.wav"), tone(1.0, 44100, 180, 0.5, seed=2)[:, None].repeat(2, 1), 44100)
    assert main([good, broken_wav, stereo, "--model", exported["tflite_int8"]["path"], "--json"]) == 0
    captured = capsys.readouterr()
    results = [json.loads(line) for line in captured.out.strip().splitlines()]
    assert [r["file"] for r in results] == [good, broken_wav, stereo]
    assert results[0]["ok"] and results[2]["ok"] and not results[1]["ok"]
    assert results[0]["seconds"] == 2.0 and results[2]["seconds"] == 1.0
    for task, classes in (("arousal", {"low", "high"}), ("valence", {"negative", "positive"})):
        entry = results[0][task]
        assert entry["label"] in classes and set(entry["probabilities"]) == classes
        assert entry["probability"] == max(entry["probabilities"].values())
        # int8: softmax in steps of 1/256, then an int8 MEAN over segments.
        assert sum(entry["probabilities"].values()) == pytest.approx(1.0, abs=0.02)
    assert "undecodable audio" in results[1]["error"]
    assert f"error: {broken_wav}: undecodable audio" in captured.err


def test_exit_code_1_when_every_file_failed(exported, broken_wav, tmp_path, capsys):
    missing = str(tmp_path / "missing.wav")
    assert main([broken_wav, missing, "--model", exported["tflite_none"]["path"]]) == 1
    out = capsys.readouterr().out
    assert "error: undecodable audio" in out and "error: unreadable file" in out


def test_exit_code_2_for_a_model_path_that_is_not_an_export(tmp_path, capsys):
    wav = write_wav(str(tmp_path / "a.wav"), tone(0.5, 16000, 200, 0.5, seed=0), 16000)
    assert main([wav, "--model", str(tmp_path / "nothing.tflite")]) == 2
    assert main([wav, "--model", str(tmp_path)]) == 2
    assert "not a SavedModel" in capsys.readouterr().err
