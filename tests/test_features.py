"""Segment arithmetic and spectrogram shape (decoding: tests/test_audio.py)."""

import wave

import numpy as np
import pytest

from keras_ser.config import FeatureConfig
from keras_ser.features import (load_waveform, log_spectrogram_segments, num_segments, num_segments_np,
                                segment_waveform, segment_waveform_np)

CONFIG = FeatureConfig()
RATE = 16000


def _tone(seconds=0.5, rate=RATE, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("float32")


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
    assert num_segments_np(samples, CONFIG) == expected
    segments = segment_waveform(np.ones(samples, "float32"), CONFIG)
    assert segments.shape == (expected, 4240)
    assert segment_waveform_np(np.ones(samples, "float32"), CONFIG).shape == (expected, 4240)


def test_numpy_segmentation_equals_the_graph_for_every_length_near_the_boundaries():
    # prepare segments in NumPy, the exported graph in TensorFlow: same counts and samples.
    rng = np.random.default_rng(0)
    signal = rng.normal(size=4240 + 3 * 2120 + 5).astype("float32")
    lengths = [1, 4239, 4240, 4241] + [4240 + k * 2120 + d for k in range(3) for d in (1059, 1060, 1061, 2119, 2120)]
    for n in lengths:
        np.testing.assert_array_equal(segment_waveform_np(signal[:n], CONFIG), segment_waveform(signal[:n], CONFIG).numpy())


def test_segments_are_hop_shifted_copies_with_zero_padding():
    signal = np.arange(1, 4240 + 2120 + 1500 + 1, dtype="float32")
    segments = segment_waveform(signal, CONFIG).numpy()
    np.testing.assert_array_equal(segment_waveform_np(signal, CONFIG), segments)
    np.testing.assert_array_equal(segments[0], signal[:4240])
    np.testing.assert_array_equal(segments[1], signal[2120:6360])
    assert segments.shape == (3, 4240)
    np.testing.assert_array_equal(segments[2][:3620], signal[4240:])
    assert np.all(segments[2][3620:] == 0)


def test_real_emodb_file(emodb_root):
    waveform, seconds = load_waveform(f"{emodb_root}/wav/03a01Fa.wav", CONFIG)
    with wave.open(f"{emodb_root}/wav/03a01Fa.wav") as f:
        assert seconds == pytest.approx(f.getnframes() / f.getframerate())
    spectrograms = log_spectrogram_segments(waveform, CONFIG).numpy()
    assert spectrograms.shape == (int(num_segments(waveform.shape[0], CONFIG)), 32, 129)
    assert np.isfinite(spectrograms).all()
