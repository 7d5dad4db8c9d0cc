"""Crude check that emotion is in the audio: high arousal is louder and faster than low arousal."""

import numpy as np
import pytest

from tests.synth.helpers import labelled_files, read_float
from keras_ser.synth.channel import active_rms

HIGH_AROUSAL = ("angry", "happy")
LOW_AROUSAL = ("neutral", "sad")


def level_and_duration(root, corpus):
    stats = {}
    for path, emotion in labelled_files(root, corpus):
        rate, audio = read_float(path)
        stats.setdefault(emotion, []).append((20 * np.log10(active_rms(audio, rate)), audio.size / rate))
    return stats


def group_mean(stats, emotions, column):
    return float(np.mean([row[column] for emotion in emotions for row in stats[emotion]]))


@pytest.mark.parametrize("corpus", ["iemocap", "msp_improv", "savee", "emodb"])
def test_high_arousal_is_louder_and_faster(tiny, corpus):
    _, roots, _ = tiny
    stats = level_and_duration(roots[corpus], corpus)
    # Rules: angry/happy +5..+6.5 dB, sad -3.5 dB; per-utterance jitter 2.5 dB.
    assert group_mean(stats, HIGH_AROUSAL, 0) - group_mean(stats, LOW_AROUSAL, 0) > 2.0
    # Rules: rate x1.12-1.16 vs x0.88-1.0; every speaker reads the same texts in
    # every emotion, so durations compare like with like.
    assert group_mean(stats, HIGH_AROUSAL, 1) / group_mean(stats, LOW_AROUSAL, 1) < 0.97
