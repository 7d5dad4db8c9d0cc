"""keras_ser.corpora.cremad: AudioWAV/ names, genders from VideoDemographics.csv."""

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus

DEMOGRAPHICS = '''ActorID,Age,Sex,Race,Ethnicity
1001,51,Male,Caucasian,Not Hispanic
1002,21,Female,Caucasian,Not Hispanic
'''


def test_generated_tree(tmp_path):
    make_tree(tmp_path,
              ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_SAD_HI.wav", "AudioWAV/1002_IEO_XYZ_HI.wav",
               "AudioWAV/1091_TIE_NEU_XX.wav", "AudioWAV/1001_DFA.wav"],
              {"VideoDemographics.csv": DEMOGRAPHICS})
    utterances, skips = read_corpus("cremad", tmp_path)

    assert fields(utterances["1001_DFA_ANG_XX"]) == ("cremad/1001", "m", "en", "angry", 1, 0)
    assert fields(utterances["1002_IEO_SAD_HI"]) == ("cremad/1002", "f", "en", "sad", 0, 0)
    assert "'XYZ'" in skips["1002_IEO_XYZ_HI"].reason
    assert skips["1091_TIE_NEU_XX"].reason == "actor 1091 not in VideoDemographics.csv"
    assert skips["1001_DFA"].reason.startswith("name does not match")


def test_demographics_found_below_root(tmp_path):
    make_tree(tmp_path, ["AudioWAV/1001_DFA_HAP_XX.wav"], {"docs/VideoDemographics.csv": DEMOGRAPHICS})
    utterances, _ = read_corpus("cremad", tmp_path)
    assert fields(utterances["1001_DFA_HAP_XX"]) == ("cremad/1001", "m", "en", "happy", 1, 1)


def test_missing_demographics_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["AudioWAV/1001_DFA_ANG_XX.wav"])
    assert_layout_error("cremad", tmp_path, "VideoDemographics.csv")


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["wav/1001_DFA_ANG_XX.wav"], {"VideoDemographics.csv": DEMOGRAPHICS})
    assert_layout_error("cremad", tmp_path, "AudioWAV/<actor>_<sentence>_<emotion>_<intensity>.wav")
