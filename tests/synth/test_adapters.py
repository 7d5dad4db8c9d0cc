"""The regular corpus adapters read the synthetic corpora unchanged."""

import collections

import pytest

from keras_ser.corpora import Skip, Utterance, get_adapter

# name -> (speakers, genders, files the adapter must skip: IEMOCAP "fru", MSP-IMPROV "O")
EXPECTED = {
    "iemocap": (10, {"f", "m"}, 1),
    "msp_improv": (12, {"f", "m"}, 1),
    "savee": (4, {"m"}, 0),
    "emodb": (10, {"f", "m"}, 0),
}


@pytest.mark.parametrize("corpus", sorted(EXPECTED))
def test_adapter_reads_every_file(tiny, corpus):
    _, roots, _ = tiny
    n_speakers, genders, n_skips = EXPECTED[corpus]
    records = list(get_adapter(corpus, roots[corpus]).records())
    utterances = [r for r in records if isinstance(r, Utterance)]
    skips = [r for r in records if isinstance(r, Skip)]
    assert len(skips) == n_skips
    assert len({u.speaker for u in utterances}) == n_speakers
    assert {u.gender for u in utterances} == genders
    per_speaker_emotion = collections.Counter((u.speaker, u.emotion) for u in utterances)
    assert set(per_speaker_emotion.values()) == {1}  # tiny: one file per speaker and emotion
    assert {(u.arousal, u.valence) for u in utterances} == {(0, 0), (0, 1), (1, 0), (1, 1)}
