"""keras_ser.corpora.ravdess: Actor_NN/03-VV-EE-II-SS-RR-AA.wav."""

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus


def test_generated_tree(tmp_path):
    make_tree(tmp_path, ["Actor_01/03-01-05-02-01-01-01.wav",   # speech, angry, male
                         "Actor_01/03-02-05-02-01-01-01.wav",   # the same as song
                         "Actor_12/03-01-02-01-02-02-12.wav",   # calm, female
                         "Actor_12/03-01-09-01-02-02-12.wav",   # unknown emotion
                         "Actor_12/01-01-03-01-01-01-12.wav",   # audio-video modality
                         "Actor_12/03-01-03.wav",
                         "Actor_12/01-01-03-01-01-01-12.mp4",
                         "notes/03-01-03-01-01-01-05.wav"])
    utterances, skips = read_corpus("ravdess", tmp_path)

    assert fields(utterances["03-01-05-02-01-01-01"]) == ("ravdess/01", "m", "en", "angry", 1, 0)
    assert fields(utterances["03-02-05-02-01-01-01"]) == ("ravdess/01", "m", "en", "angry", 1, 0)
    assert fields(utterances["03-01-02-01-02-02-12"]) == ("ravdess/12", "f", "en", "calm", 0, 1)
    assert "'09'" in skips["03-01-09-01-02-02-12"].reason
    assert "modality 01" in skips["01-01-03-01-01-01-12"].reason
    assert skips["03-01-03"].reason.startswith("name does not match")
    # Only Actor_NN folders are the corpus.
    assert "03-01-03-01-01-01-05" not in utterances and "03-01-03-01-01-01-05" not in skips


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["speech/03-01-05-02-01-01-01.wav"])
    assert_layout_error("ravdess", tmp_path, "Actor_NN/03-VV-EE-II-SS-RR-AA.wav")
