"""keras_ser.corpora.emodb on a generated tree and on the real corpus."""

import collections

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus

def test_generated_tree(tmp_path):
    make_tree(tmp_path, ["wav/03a01Fa.wav", "wav/08b02Lb.WAV", "wav/16a05Tc.wav",
                         "wav/03a01Xa.wav", "wav/04a01Wa.wav", "wav/notes.wav", "wav/readme.txt",
                         "other/03a01Wa.wav"])
    utterances, skips = read_corpus("emodb", tmp_path)

    assert fields(utterances["03a01Fa"]) == ("emodb/03", "m", "de", "happy", 1, 1)
    assert fields(utterances["08b02Lb"]) == ("emodb/08", "f", "de", "boredom", 0, 0)
    assert fields(utterances["16a05Tc"]) == ("emodb/16", "f", "de", "sad", 0, 0)
    assert utterances["03a01Fa"].path == str(tmp_path / "wav" / "03a01Fa.wav")
    assert "emotion letter 'X'" in skips["03a01Xa"].reason
    assert "'04'" in skips["04a01Wa"].reason
    assert skips["notes"].reason.startswith("name does not match")
    # Outside wav/ is not the corpus; readme.txt is not audio.
    assert set(utterances) | set(skips) == {"03a01Fa", "08b02Lb", "16a05Tc", "03a01Xa", "04a01Wa", "notes"}


def test_records_sorted_by_id(tmp_path):
    make_tree(tmp_path, ["wav/16a05Tc.wav", "wav/03a01Fa.wav", "wav/08b02Lb.wav"])
    utterances, _ = read_corpus("emodb", tmp_path)
    assert list(utterances) == ["03a01Fa", "08b02Lb", "16a05Tc"]


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["audio/03a01Fa.wav"])
    assert_layout_error("emodb", tmp_path, "wav/<speaker 2 digits><text a01><emotion letter><version>.wav")


def test_real_corpus(emodb_root):
    utterances, skips = read_corpus("emodb", emodb_root)
    assert not skips
    assert len(utterances) == 535
    genders = {u.speaker: u.gender for u in utterances.values()}
    assert len(genders) == 10
    assert collections.Counter(genders.values()) == {"f": 5, "m": 5}
    assert collections.Counter(u.arousal for u in utterances.values()) == {0: 268, 1: 267}
    assert collections.Counter(u.valence for u in utterances.values()) == {0: 385, 1: 150}
    letters = collections.Counter(u.utterance_id[5] for u in utterances.values())
    assert letters == {"W": 127, "L": 81, "E": 46, "A": 69, "F": 71, "T": 62, "N": 79}
    assert {u.language for u in utterances.values()} == {"de"}


def test_only_skipped_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["wav/04a01Wa.wav", "wav/notes.wav"])
    assert_layout_error("emodb", tmp_path, "2 files skipped")
