"""keras_ser.corpora.savee: nested AudioData/<SPK>/ and flat <SPK>_ layouts."""

from keras_ser.corpora import Skip, Utterance, get_adapter
from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus


def test_nested_layout(tmp_path):
    make_tree(tmp_path, ["AudioData/DC/a01.wav", "AudioData/JE/sa03.wav", "AudioData/KL/su15.WAV",
                         "AudioData/JK/x02.wav", "AudioData/JK/long.wav", "AudioData/Info.txt"])
    utterances, skips = read_corpus("savee", tmp_path)

    assert fields(utterances["DC_a01"]) == ("savee/DC", "m", "en", "angry", 1, 0)
    assert fields(utterances["JE_sa03"]) == ("savee/JE", "m", "en", "sad", 0, 0)
    assert fields(utterances["KL_su15"]) == ("savee/KL", "m", "en", "surprise", 1, 1)
    assert "'x'" in skips["JK_x02"].reason
    assert skips["long"].reason.startswith("name does not match")


def test_flat_layout(tmp_path):
    make_tree(tmp_path, ["ALL/JK_n07.wav", "ALL/DC_d02.wav", "JE_h11.wav", "ALL/XX_a01.wav"])
    utterances, skips = read_corpus("savee", tmp_path)

    assert fields(utterances["JK_n07"]) == ("savee/JK", "m", "en", "neutral", 0, 1)
    assert fields(utterances["DC_d02"]) == ("savee/DC", "m", "en", "disgust", 0, 0)
    assert fields(utterances["JE_h11"]) == ("savee/JE", "m", "en", "happy", 1, 1)
    assert skips["XX_a01"].reason.startswith("name does not match")


def test_both_layouts_keep_ids_unique(tmp_path):
    make_tree(tmp_path, ["AudioData/DC/a01.wav", "ALL/DC_a01.wav"])
    first, second = get_adapter("savee", str(tmp_path)).records()
    # Sorted by (id, path): ALL/ comes before AudioData/, so the flat copy is kept.
    assert isinstance(first, Utterance) and first.path == str(tmp_path / "ALL" / "DC_a01.wav")
    assert isinstance(second, Skip) and second.reason.startswith("duplicate utterance id")


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["AudioData/Info.txt"])
    assert_layout_error("savee", tmp_path, "AudioData/<DC|JE|JK|KL>/<code><nn>.wav")
