"""keras_ser.adaptation: a speaker's statistics from a few frames, by hand."""

import subprocess
import sys

import numpy as np
import pytest

from keras_ser.adaptation import RunningStatistics

# Three frames over two bins.
FRAMES = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def test_batch_statistics_of_a_hand_example():
    mean, std = RunningStatistics(2).add_frames(FRAMES[:2]).add_frames(FRAMES[2:]).mean_std()
    np.testing.assert_allclose(mean, [3.0, 4.0])
    # ((1-3)^2 + 0 + (5-3)^2) / 3 = 8/3 in both bins.
    np.testing.assert_allclose(std, np.sqrt([8 / 3, 8 / 3]), rtol=1e-6)


def test_sums_of_the_statistics_signature_equal_the_frames():
    by_sums = RunningStatistics(2).add(sum=FRAMES.sum(0), sum_squares=np.square(FRAMES).sum(0), frames=np.float32(3))
    by_frames = RunningStatistics(2).add_frames(FRAMES)
    np.testing.assert_allclose(by_sums.mean_std(), by_frames.mean_std())


def test_prior_is_blended_in_as_pseudo_frames():
    stats = RunningStatistics(2, prior_mean=np.zeros(2), prior_std=np.ones(2), prior_frames=1.0).add_frames(FRAMES)
    mean, std = stats.mean_std()
    # (1 + 3 + 5 + 0) / 4 and (2 + 4 + 6 + 0) / 4.
    np.testing.assert_allclose(mean, [9 / 4, 3.0])
    # E[x^2] = (1 + 9 + 25 + (1 + 0)) / 4 = 9, minus (9/4)^2; bin 2: (4 + 16 + 36 + 1) / 4 - 9.
    np.testing.assert_allclose(std, np.sqrt([9 - 81 / 16, 57 / 4 - 9]), rtol=1e-6)
    # No audio: the prior itself (the training statistics of a deployed model).
    empty = RunningStatistics(2, prior_mean=np.array([1.0, 2.0]), prior_std=np.array([3.0, 4.0]), prior_frames=5)
    np.testing.assert_allclose(empty.mean_std(), [[1.0, 2.0], [3.0, 4.0]], rtol=1e-6)


def test_streaming_mode_forgets_old_frames():
    stats = RunningStatistics(2, decay=0.5).add_frames(FRAMES[:1]).add_frames(FRAMES[1:2])
    # weights 0.5 and 1: (0.5 * 1 + 3) / 1.5, (0.5 * 2 + 4) / 1.5.
    np.testing.assert_allclose(stats.mean_std()[0], [3.5 / 1.5, 5 / 1.5], rtol=1e-6)
    # The same frames added as one chunk's sums forget only what came before the chunk.
    chunk = RunningStatistics(2, decay=0.5).add_frames(FRAMES[:1]).add(FRAMES[1:].sum(0), np.square(FRAMES[1:]).sum(0), 2)
    np.testing.assert_allclose(chunk.frames, 0.25 * 1 + 2)


def test_bad_settings_and_no_audio_are_clear_errors():
    with pytest.raises(ValueError, match="decay"):
        RunningStatistics(2, decay=0.0)
    with pytest.raises(ValueError, match="go together"):
        RunningStatistics(2, prior_mean=np.zeros(2))
    with pytest.raises(ValueError, match="no audio and no prior"):
        RunningStatistics(2).mean_std()


def test_imports_no_tensorflow():
    code = "import sys, keras_ser.adaptation; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
