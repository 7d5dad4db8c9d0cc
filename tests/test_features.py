"""Decoding, resampling, segment arithmetic and spectrogram shape."""

import struct
import wave

import numpy as np
import pytest
import scipy.io.wavfile

from keras_ser.config import FeatureConfig
from keras_ser.features import (
    AudioError,
    load_waveform,
    log_spectrogram_segments,
    num_segments,
    read_audio,
    segment_waveform,
)

CONFIG = FeatureConfig()
RATE = 16000


def _tone(seconds=0.5, rate=RATE, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("float32")


def _write_24bit(path, signal, rate):
    values = np.round(signal * (2**23 - 1)).astype("<i4")
    data = values.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, rate,
                         rate * 3, 3, 24, b"data", len(data))
    with open(path, "wb") as f:
        f.write(header + data)


def test_contract_is_32_by_129():
    assert CONFIG.shape == (32, 129, 1)
    spectrograms = log_spectrogram_segments(_tone(1.0), CONFIG)
    assert spectrograms.shape[1:] == (32, 129)


@pytest.mark.parametrize("samples, expected", [
    (100, 1),          # shorter than a segment: one zero-padded segment
    (4240, 1),
    (4240 + 1059, 1),  # tail under half a hop: dropped
    (4240 + 1060, 2),  # tail of half a hop: kept, zero-padded
    (4240 + 2120, 2),
    (16000, 7),        # 1 s: 1 + 5 full hops (11760 // 2120) + a tail of 1160 >= 1060
])
def test_segment_count(samples, expected):
    assert int(num_segments(samples, CONFIG)) == expected
    segments = segment_waveform(np.ones(samples, "float32"), CONFIG)
    assert segments.shape == (expected, 4240)


def test_segments_are_hop_shifted_copies_with_zero_padding():
    signal = np.arange(1, 4240 + 2120 + 1500 + 1, dtype="float32")
    segments = segment_waveform(signal, CONFIG).numpy()
    np.testing.assert_array_equal(segments[0], signal[:4240])
    np.testing.assert_array_equal(segments[1], signal[2120:6360])
    assert segments.shape == (3, 4240)
    np.testing.assert_array_equal(segments[2][:3620], signal[4240:])
    assert np.all(segments[2][3620:] == 0)


@pytest.mark.parametrize("kind", ["int16", "int32", "float32", "uint8", "int24", "stereo"])
def test_wav_encodings_decode_to_the_same_signal(tmp_path, kind):
    signal = _tone()
    path = str(tmp_path / f"{kind}.wav")
    if kind == "int24":
        _write_24bit(path, signal, RATE)
    elif kind == "stereo":
        scipy.io.wavfile.write(path, RATE, np.stack([signal, signal], axis=1))
    else:
        scale = {"int16": 32767, "int32": 2**31 - 1, "float32": 1, "uint8": 127}[kind]
        values = signal * scale + (128 if kind == "uint8" else 0)
        scipy.io.wavfile.write(path, RATE, np.round(values).astype(kind) if kind != "float32" else values)
    samples, rate = read_audio(path)
    assert rate == RATE
    assert samples.shape == ((signal.shape[0], 2) if kind == "stereo" else (signal.shape[0], 1))
    tolerance = 1.0 / 100 if kind == "uint8" else 1e-4
    np.testing.assert_allclose(samples[:, 0], signal, atol=tolerance)


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_resampled_to_16k(tmp_path, rate):
    path = str(tmp_path / "tone.wav")
    scipy.io.wavfile.write(path, rate, (_tone(1.0, rate) * 32767).astype("int16"))
    waveform, seconds = load_waveform(path, CONFIG)
    assert seconds == pytest.approx(1.0, abs=1e-3)
    assert abs(waveform.shape[0] - RATE) <= 1
    spectrum = np.abs(np.fft.rfft(waveform))
    assert abs(np.argmax(spectrum) * RATE / waveform.shape[0] - 440) < 3


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "truncated WAV header"),
    (bytes(range(256)) * 4, "not a WAV, FLAC or AIFF"),
])
def test_bad_files_raise_with_reason(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=reason):
        read_audio(str(path))


def test_truncated_data_chunk(tmp_path):
    path = str(tmp_path / "cut.wav")
    scipy.io.wavfile.write(path, RATE, (_tone() * 32767).astype("int16"))
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[: len(raw) // 2])
    with pytest.raises(AudioError, match="truncated WAV"):
        read_audio(path)


def test_silence_and_non_finite(tmp_path):
    silent = str(tmp_path / "silent.wav")
    scipy.io.wavfile.write(silent, RATE, np.zeros(8000, "int16"))
    with pytest.raises(AudioError, match="silence"):
        read_audio(silent)
    nan = str(tmp_path / "nan.wav")
    signal = _tone()
    signal[100] = np.nan
    scipy.io.wavfile.write(nan, RATE, signal)
    with pytest.raises(AudioError, match="non-finite"):
        read_audio(nan)


def test_aiff_behind_a_wav_name(tmp_path):
    signal = _tone()
    values = np.round(signal * 32767).astype(">i2")
    rate = struct.pack(">H", 16383 + 13) + struct.pack(">Q", RATE << (63 - 13))
    comm = struct.pack(">hIh", 1, len(values), 16) + rate
    ssnd = struct.pack(">II", 0, 0) + values.tobytes()
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    path = tmp_path / "aiff.wav"
    path.write_bytes(b"FORM" + struct.pack(">I", len(body)) + body)
    samples, decoded_rate = read_audio(str(path))
    assert decoded_rate == RATE
    np.testing.assert_allclose(samples[:, 0], signal, atol=1e-4)


def test_too_short_is_rejected(tmp_path):
    path = str(tmp_path / "short.wav")
    scipy.io.wavfile.write(path, RATE, (_tone(0.05) * 32767).astype("int16"))
    with pytest.raises(AudioError, match="too short"):
        load_waveform(path, CONFIG)


def test_real_emodb_file(emodb_root):
    waveform, seconds = load_waveform(f"{emodb_root}/wav/03a01Fa.wav", CONFIG)
    with wave.open(f"{emodb_root}/wav/03a01Fa.wav") as f:
        assert seconds == pytest.approx(f.getnframes() / f.getframerate())
    spectrograms = log_spectrogram_segments(waveform, CONFIG).numpy()
    assert spectrograms.shape == (int(num_segments(waveform.shape[0], CONFIG)), 32, 129)
    assert np.isfinite(spectrograms).all()
