"""keras_ser.corpora.emovo: <spk>/<emo>-<spk>-<sentence>.wav."""

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus


def test_generated_tree(tmp_path):
    make_tree(tmp_path, ["f1/dis-f1-b1.wav", "m3/gio-m3-n5.wav", "m1/pau-m1-l2.WAV", "f2/xyz-f2-b1.wav",
                         "f2/intro.wav", "docs/tri-f1-b1.wav"])
    utterances, skips = read_corpus("emovo", tmp_path)

    assert fields(utterances["dis-f1-b1"]) == ("emovo/f1", "f", "it", "disgust", 0, 0)
    assert fields(utterances["gio-m3-n5"]) == ("emovo/m3", "m", "it", "happy", 1, 1)
    assert fields(utterances["pau-m1-l2"]) == ("emovo/m1", "m", "it", "fear", 1, 0)
    assert "'xyz'" in skips["xyz-f2-b1"].reason
    assert skips["intro"].reason.startswith("name does not match")
    assert "tri-f1-b1" not in utterances and "tri-f1-b1" not in skips


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["audio/dis-f1-b1.wav"])
    assert_layout_error("emovo", tmp_path, "<f1..f3|m1..m3>/<emo>-<spk>-<sentence>.wav")
