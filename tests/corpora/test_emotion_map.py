"""keras_ser.corpora.emotion_map: the packaged Table 1 mapping and user files."""

import pytest

from keras_ser.corpora import EmotionMapError, load_emotion_map
from keras_ser.corpora.emotion_map import EMOTIONS
from tests.corpora.helpers import fields, make_tree, read_corpus


def _split(table):
    """(high-arousal, positive-valence) emotion sets of one corpus table."""
    return ({e for e, (a, _) in table.items() if a == 1}, {e for e, (_, v) in table.items() if v == 1})


# Table 1 of the paper (Schuller et al. 2010), as emotion sets.
@pytest.mark.parametrize("corpus, emotions, high, positive", [
    ("emodb", {"angry", "fear", "happy", "boredom", "disgust", "neutral", "sad"},
     {"angry", "fear", "happy"}, {"happy", "neutral"}),
    ("savee", {"angry", "fear", "happy", "surprise", "disgust", "neutral", "sad"},
     {"angry", "fear", "happy", "surprise"}, {"happy", "neutral", "surprise"}),
    ("iemocap", {"angry", "happy", "neutral", "sad"}, {"angry", "happy"}, {"happy", "neutral"}),
    ("msp_improv", {"angry", "happy", "neutral", "sad"}, {"angry", "happy"}, {"happy", "neutral"}),
    ("ravdess", {"neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"},
     {"angry", "fear", "happy", "surprise"}, {"happy", "neutral", "calm", "surprise"}),
    ("cremad", {"angry", "disgust", "fear", "happy", "neutral", "sad"}, {"angry", "fear", "happy"}, {"happy", "neutral"}),
    ("tess", {"angry", "disgust", "fear", "happy", "neutral", "surprise", "sad"},
     {"angry", "fear", "happy", "surprise"}, {"happy", "neutral", "surprise"}),
    ("emovo", {"disgust", "happy", "neutral", "fear", "angry", "surprise", "sad"},
     {"angry", "fear", "happy", "surprise"}, {"happy", "neutral", "surprise"}),
    ("manifest", set(EMOTIONS), {"angry", "fear", "happy", "surprise"}, {"happy", "neutral", "surprise", "calm"}),
])
def test_packaged_map(corpus, emotions, high, positive):
    table = load_emotion_map()[corpus]
    assert set(table) == emotions
    assert _split(table) == (high, positive)


def test_user_map_changes_labels(tmp_path):
    make_tree(tmp_path, ["wav/03a01Na.wav"], {
        "map.yaml": "emodb:\n  neutral: {arousal: HIGH, valence: negative}\n",
    })
    emotion_map = load_emotion_map(str(tmp_path / "map.yaml"))
    assert emotion_map == {"emodb": {"neutral": (1, 0)}}
    utterances, _ = read_corpus("emodb", tmp_path, emotion_map)
    assert fields(utterances["03a01Na"]) == ("emodb/03", "m", "de", "neutral", 1, 0)


@pytest.mark.parametrize("text, message", [
    ("emodb:\n  angry: {arousal: loud, valence: negative}\n", "arousal must be one of low, high"),
    ("emodb:\n  angry: {arousal: high, valence: bad}\n", "valence must be one of negative, positive"),
    ("emodb:\n  angry: {arousal: high}\n", "expected exactly"),
    ("emodb:\n  angy: {arousal: high, valence: negative}\n", "emotion 'angy': unknown emotion"),
    ("emodb: [angry]\n", "corpus 'emodb'"),
    ("- emodb\n", "expected a mapping"),
    ("emodb: {angry: [\n", "not valid YAML"),
])
def test_bad_entries_raise(tmp_path, text, message):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(EmotionMapError, match=message):
        load_emotion_map(str(path))


def test_missing_file_raises(tmp_path):
    with pytest.raises(EmotionMapError, match="cannot be read"):
        load_emotion_map(str(tmp_path / "absent.yaml"))
