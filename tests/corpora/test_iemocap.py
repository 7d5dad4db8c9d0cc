"""keras_ser.corpora.iemocap: sentences/wav audio labelled from EmoEvaluation."""

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus

EVALUATION = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-E3:\tNeutral;\t()
A-E1:\tval 3; act 2; dom  2;\t()

[10.0100 - 11.3925]\tSes01F_impro01_M012\texc\t[3.5000, 3.5000, 3.0000]
C-E2:\tExcited;\t()

[14.8872 - 18.0175]\tSes01F_impro01_F001\tfru\t[2.0000, 3.5000, 3.5000]
C-E2:\tFrustration;\t()
"""


def test_generated_tree(tmp_path):
    make_tree(
        tmp_path,
        wavs=["Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
              "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M012.wav",
              "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav",
              "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M099.wav",
              "Session1/sentences/wav/Ses01F_impro01/take2.wav",
              "Session1/dialog/wav/Ses01F_impro01.wav",
              "Session2/sentences/wav/Ses02M_script01_1/Ses02M_script01_1_F003.wav"],
        texts={"Session1/dialog/EmoEvaluation/Ses01F_impro01.txt": EVALUATION,
               "Session2/dialog/EmoEvaluation/Ses02M_script01_1.txt":
                   "[1.0 - 2.0]\tSes02M_script01_1_F003\tang\t[1.0, 4.0, 4.0]\n"},
    )
    utterances, skips = read_corpus("iemocap", tmp_path)

    assert fields(utterances["Ses01F_impro01_F000"]) == ("iemocap/Ses01F", "f", "en", "neutral", 0, 1)
    # excited is merged into happy; the speaker is the utterance's own actor.
    assert fields(utterances["Ses01F_impro01_M012"]) == ("iemocap/Ses01M", "m", "en", "happy", 1, 1)
    assert fields(utterances["Ses02M_script01_1_F003"]) == ("iemocap/Ses02F", "f", "en", "angry", 1, 0)
    assert skips["Ses01F_impro01_F001"].reason == "emotion 'fru' outside the 4-class set"
    assert skips["Ses01F_impro01_M099"].reason == "no label in EmoEvaluation"
    assert skips["take2"].reason.startswith("name does not match")
    # The full-dialog recording under dialog/wav is not an utterance.
    assert "Ses01F_impro01" not in utterances and "Ses01F_impro01" not in skips


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["Session1/dialog/wav/Ses01F_impro01.wav"])
    assert_layout_error("iemocap", tmp_path, "Session{1..5}/sentences/wav/<dialog>/")
