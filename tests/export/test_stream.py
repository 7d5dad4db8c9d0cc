"""keras-ser predict --stream -: WAV or headerless PCM through a pipe, one JSON line per step."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

import keras_ser
from tests.conftest import REPO
from tests.helpers import tone

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]  # shares the package-scoped run

RATE = 22050
SECONDS = 3.2  # 6 steps of 0.5 s and 0.2 s more: the stream ends inside a step


@pytest.fixture(scope="module")
def audio():
    """Stereo 16-bit samples: the WAV and the raw stream carry exactly these."""
    stereo = np.stack([tone(SECONDS, RATE, 200, 0.6, seed=7), tone(SECONDS, RATE, 150, 0.2, seed=8)], 1)
    return np.round(stereo * 32767).astype(np.int16)


def _wav_bytes(samples):
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _stream(model, data: bytes, *options):
    out = subprocess.run([sys.executable, "-m", "keras_ser", "predict", "--stream", "-", "--model", model, *options],
                         input=data, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    return out.returncode, [json.loads(line) for line in out.stdout.decode().splitlines()], out.stderr.decode()


def test_wav_from_a_pipe_one_line_per_step_over_the_last_window(exported, audio):
    model = exported["tflite_none"]["path"]
    code, lines, err = _stream(model, _wav_bytes(audio))
    assert code == 0, err
    assert [line["end"] for line in lines] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.2]
    assert [line["start"] for line in lines] == [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.2]
    assert [line.get("final", False) for line in lines] == [False] * 6 + [True]
    # Each line is the recognizer on exactly that window of the (16-bit) stream.
    recognizer = keras_ser.Recognizer.load(model)
    for line in lines:
        window = audio[round(line["start"] * RATE):round(line["end"] * RATE)]
        expected = recognizer(window, sample_rate=RATE, timeline=False).probabilities
        for task in ("arousal", "valence"):
            for label, p in expected[task].items():
                assert line[task]["probabilities"][label] == pytest.approx(p, abs=1e-4)
            assert line[task]["label"] == max(expected[task], key=expected[task].get)


def test_headerless_pcm_gives_the_wav_lines(exported, audio):
    model = exported["tflite_none"]["path"]
    raw = audio.astype("<i2").tobytes()
    code, from_raw, err = _stream(model, raw, "--rate", str(RATE), "--channels", "2", "--step", "1", "--window", "1.5")
    assert code == 0, err
    code, from_wav, _ = _stream(model, _wav_bytes(audio), "--step", "1", "--window", "1.5")
    assert from_raw == from_wav and len(from_raw) == 4 and from_raw[-1]["final"]


def test_results_arrive_before_the_stream_ends(exported, audio):
    """A live source: the first line is printed while the writer still holds back the rest."""
    data = _wav_bytes(audio)
    header_and_first_step = 44 + 2 * 2 * RATE // 2
    process = subprocess.Popen([sys.executable, "-m", "keras_ser", "predict", "--stream", "-", "--model",
                                exported["tflite_none"]["path"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    process.stdin.write(data[:header_and_first_step])
    process.stdin.flush()
    first = json.loads(process.stdout.readline())
    assert first["end"] == 0.5 and "final" not in first
    process.stdin.write(data[header_and_first_step:])
    process.stdin.close()
    rest = [json.loads(line) for line in process.stdout.read().decode().splitlines()]
    assert process.wait(timeout=60) == 0
    assert rest[-1]["end"] == SECONDS and rest[-1]["final"]


@pytest.mark.parametrize("data, options, message", [
    (b"", ["--rate", "16000"], "the stream held no audio"),
    (b"", [], "cannot read the stream from standard input: Format not recognised"),
    (b"not audio at all" * 100, [], "give --rate, --channels and --sample-format"),
])
def test_empty_or_unreadable_streams_exit_1(exported, data, options, message):
    code, lines, err = _stream(exported["tflite_none"]["path"], data, *options)
    assert code == 1 and lines == [] and message in err


def test_a_stream_shorter_than_usable_audio_exits_1(exported, audio):
    code, lines, err = _stream(exported["tflite_none"]["path"], _wav_bytes(audio[:RATE // 20]))
    assert code == 1 and lines == [] and "too short" in err


def test_adapt_stream_scores_each_window_with_the_stream_s_running_statistics(exported, audio):
    from keras_ser.adaptation import RunningStatistics

    model = exported["tflite_none"]["path"]
    code, lines, err = _stream(model, _wav_bytes(audio), "--adapt-stream", "4")
    assert code == 0, err
    _, plain, _ = _stream(model, _wav_bytes(audio))
    # The same steps, now with the statistics of the stream so far.
    recognizer = keras_ser.Recognizer.load(model)
    rate, step = recognizer.features.sample_rate, round(0.5 * RATE)
    features = recognizer.features
    frames_per_second = features.num_frames * rate / features.segment_hop  # segments overlap: ~241 frames a second
    statistics = RunningStatistics.for_model(recognizer.model, decay=0.5 ** (1 / (4 * frames_per_second)))
    assert [line["end"] for line in lines] == [line["end"] for line in plain]
    for index, line in enumerate(lines):
        block = audio[index * step:(index + 1) * step]
        statistics.add(**recognizer.model.statistics(recognizer.waveform(block, sample_rate=RATE)[0]))
        window = audio[round(line["start"] * RATE):round(line["end"] * RATE)]
        expected = recognizer(window, sample_rate=RATE, timeline=False, statistics=statistics.mean_std()).probabilities
        for task in ("arousal", "valence"):
            for label, p in expected[task].items():
                assert line[task]["probabilities"][label] == pytest.approx(p, abs=1e-4)
        assert line["adapted_seconds"] == pytest.approx(statistics.frames / frames_per_second, abs=1e-3)
    # The seconds the statistics rest on grow, but by less than the audio (old frames fade).
    seconds = [line["adapted_seconds"] for line in lines]
    assert all(a < b for a, b in zip(seconds, seconds[1:])) and seconds[-1] < SECONDS
    # Adapting changes what the model sees.
    assert any(abs(a["arousal"]["probabilities"]["high"] - b["arousal"]["probabilities"]["high"]) > 1e-4
               for a, b in zip(lines, plain))


def test_adapt_stream_needs_a_stream_and_a_positive_half_life(exported, audio):
    model = exported["tflite_none"]["path"]
    code, _, err = _stream(model, _wav_bytes(audio), "--adapt-stream", "0")
    assert code == 2 and "half-life must be positive" in err
