"""keras_ser.corpora.tess: OAF_*/YAF_* folders, emotion in the last name field."""

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus


def test_generated_tree(tmp_path):
    make_tree(tmp_path, ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprised/YAF_back_ps.wav",
                         "OAF_Fear/OAF_bar_fear.WAV", "YAF_sad/YAF_bar_bored.wav", "YAF_sad/take.wav",
                         "other/OAF_back_happy.wav"])
    utterances, skips = read_corpus("tess", tmp_path)

    assert fields(utterances["OAF_back_angry"]) == ("tess/OAF", "f", "en", "angry", 1, 0)
    assert fields(utterances["YAF_back_ps"]) == ("tess/YAF", "f", "en", "surprise", 1, 1)
    assert fields(utterances["OAF_bar_fear"]) == ("tess/OAF", "f", "en", "fear", 1, 0)
    assert "'bored'" in skips["YAF_bar_bored"].reason
    assert skips["take"].reason.startswith("name does not match")
    assert "OAF_back_happy" not in utterances and "OAF_back_happy" not in skips


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["angry/OAF_back_angry.wav"])
    assert_layout_error("tess", tmp_path, "<OAF|YAF>_<emotion>/<OAF|YAF>_<word>_<emotion>.wav")
