"""Every normalisation through export: parity with Keras, the adaptation signatures, predict --adapt."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from keras_ser.adaptation import RunningStatistics, adaptation_statistics
from keras_ser.export import SIGNATURES, export_run, normalised_segments
from keras_ser.predict import load_model, main
from tests.export.helpers import real_segments, split_audio

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]  # shares the package-scoped run

# Float32 TFLite and SavedModel against Keras (as in test_export.py).
FLOAT_TOLERANCE = 1e-4
MODES = ("global", "corpus", "speaker")


@pytest.fixture(scope="module")
def trained(request, tmp_path_factory, tones):
    """{mode: (run, {name: export entry})}; the default mode is the package's shared run (the default
    network), the other modes train the tiny network: parity does not depend on the layer widths."""
    from keras_ser.config import DataConfig, load_fit_config
    from keras_ser.fit import run_fit
    from keras_ser.runs import load_run
    from tests.helpers import TINY_MODEL

    out = {DataConfig.normalisation: (request.getfixturevalue("run"), request.getfixturevalue("exported"))}
    folder = tmp_path_factory.mktemp("normalised_runs")
    prepared = tones  # read-only: the runs only read it
    for mode in (m for m in MODES if m not in out):
        config = load_fit_config(None, {"data": {"prepared": prepared, "normalisation": mode},
                                        "out": str(folder / mode), "model": TINY_MODEL,
                                        "train": {"batch_size": 16, "epochs": 2, "seed": 1}})
        run_fit(config, verbose=False)
        written = export_run(str(folder / mode), ["savedmodel", "tflite"], ["none"])
        out[mode] = (load_run(str(folder / mode)), written)
    return out


def _test_speaker_audio(run):
    speaker = run.speakers["plan"]["test"][0]
    rows = [row for row in run.prepared.utterances if row["speaker"] == speaker]
    return speaker, [row["path"] for row in rows]


@pytest.mark.parametrize("mode", MODES)
def test_run_folder_and_export_record_the_normalisation(trained, mode):
    run, written = trained[mode]
    assert run.normalisation.mode == mode and run.config.data.normalisation == mode
    assert yaml.safe_load(open(os.path.join(run.root, "config.yaml")))["data"]["normalisation"] == mode
    assert json.load(open(os.path.join(run.root, "results.json")))["normalisation"] == mode
    export = os.path.dirname(written["tflite_none"]["path"])
    summary = json.load(open(os.path.join(export, "export.json")))
    assert summary["normalisation"] == mode and summary["signatures"] == list(SIGNATURES)
    model = load_model(written["tflite_none"]["path"])
    assert model.normalisation == mode and model.adaptable
    np.testing.assert_allclose(model.training_statistics[0], run.mean)


@pytest.mark.parametrize("mode", MODES)
def test_segments_signature_matches_keras_on_the_runs_normalised_segments(trained, mode):
    run, written = trained[mode]
    x = real_segments(run)[:48]
    expected = {k: np.asarray(v) for k, v in run.network.inference_model(x, training=False).items()}
    for name in ("savedmodel", "tflite_none"):
        out = load_model(written[name]["path"]).segments(x)
        for task in run.config.tasks:
            assert np.max(np.abs(out[task] - expected[task])) <= FLOAT_TOLERANCE, (mode, name, task)


@pytest.mark.parametrize("mode", MODES)
def test_waveform_adapted_with_a_speakers_statistics_matches_keras(trained, mode):
    from keras_ser.audio import load_waveform

    run, written = trained[mode]
    speaker, paths = _test_speaker_audio(run)
    stats = run.normalisation.stats(speaker)
    waveform = load_waveform(paths[0], run.config.features)[0]

    def keras_posteriors(mean, std):
        x = normalised_segments(waveform, run.config.features, mean, std).numpy()
        return {k: np.asarray(v).mean(axis=0) for k, v in run.network.inference_model(x, training=False).items()}

    adapted, plain = keras_posteriors(stats.mean, stats.std), keras_posteriors(run.mean, run.std)
    for name in ("savedmodel", "tflite_none"):
        model = load_model(written[name]["path"])
        out_adapted, out_plain = model.waveform_adapted(waveform, stats.mean, stats.std), model.waveform(waveform)
        for task in run.config.tasks:
            assert np.max(np.abs(out_adapted[task] - adapted[task])) <= FLOAT_TOLERANCE, (mode, name, task)
            # Without adaptation audio: the training statistics.
            assert np.max(np.abs(out_plain[task] - plain[task])) <= FLOAT_TOLERANCE, (mode, name, task)


@pytest.mark.parametrize("name", ["savedmodel", "tflite_none"])
def test_statistics_signature_over_a_speakers_audio_gives_the_training_statistics_of_that_speaker(trained, name):
    """The device path (statistics signature + adaptation helper) equals the prepare step's receipts."""
    run, written = trained["speaker"]
    speaker, paths = _test_speaker_audio(run)
    from keras_ser.audio import load_waveform

    model = load_model(written[name]["path"])
    waveforms = [load_waveform(path, run.config.features)[0] for path in paths]
    mean, std = adaptation_statistics(model, waveforms, prior_frames=0)
    expected = run.normalisation.stats(speaker)
    np.testing.assert_allclose(mean, expected.mean, atol=1e-3)
    np.testing.assert_allclose(std, expected.std, rtol=1e-3)
    frames = sum(float(model.statistics(w)["frames"]) for w in waveforms)
    assert frames == run.prepared.receipt(speaker)["frames"]


def test_int8_adapted_signature_agrees_with_float(trained):
    """The shared run's int8 file: calibrated with each training speaker's own statistics."""
    from keras_ser.audio import load_waveform

    run, written = trained["speaker"]
    float_model, int8_model = load_model(written["tflite_none"]["path"]), load_model(written["tflite_int8"]["path"])
    for path, _ in split_audio(run)[:6]:
        speaker = next(row["speaker"] for row in run.prepared.utterances if row["path"] == path)
        stats = run.normalisation.stats(speaker)
        waveform = load_waveform(path, run.config.features)[0]
        expected = float_model.waveform_adapted(waveform, stats.mean, stats.std)
        quantized = int8_model.waveform_adapted(waveform, stats.mean, stats.std)
        for task in run.config.tasks:
            assert np.max(np.abs(quantized[task] - expected[task])) <= 0.05, (path, task)


def test_predict_adapt_uses_the_adaptation_audio_and_imports_no_tensorflow(trained, capsys):
    run, written = trained["speaker"]
    model_path = written["tflite_none"]["path"]
    _, paths = _test_speaker_audio(run)
    assert main([paths[0], "--model", model_path, "--adapt", paths[1], "--adapt", paths[2], "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    from keras_ser.audio import load_waveform

    model = load_model(model_path)
    mean, std = adaptation_statistics(model, [load_waveform(p, run.config.features)[0] for p in paths[1:3]])
    expected = model.waveform_adapted(load_waveform(paths[0], run.config.features)[0], mean, std)
    for task in run.config.tasks:
        np.testing.assert_allclose(list(result[task]["probabilities"].values()), expected[task], atol=1e-4)
    code = ("import sys; from keras_ser.predict import main; "
            f"assert main([{paths[0]!r}, '--model', {model_path!r}, '--adapt', {paths[1]!r}]) == 0; "
            "print('LOADED', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_predict_adapt_with_an_unreadable_file_is_exit_code_2(trained, tmp_path, capsys):
    run, written = trained["speaker"]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    _, paths = _test_speaker_audio(run)
    assert main([paths[0], "--model", written["tflite_none"]["path"], "--adapt", str(broken)]) == 2
    assert "--adapt" in capsys.readouterr().err


def test_running_statistics_for_a_model_start_from_its_training_statistics(trained):
    run, written = trained["corpus"]
    stats = RunningStatistics.for_model(load_model(written["tflite_none"]["path"]))
    mean, std = stats.mean_std()
    np.testing.assert_allclose(mean, run.mean, rtol=1e-6)
    np.testing.assert_allclose(std, run.std, rtol=1e-5)
