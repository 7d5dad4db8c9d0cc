"""keras_ser.corpora.msp_improv: Audio/ files labelled from Evalution.txt."""

from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus

EVALUATION = """UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:3.200000; V:1.800000; D:3.400000; N:4.200000;
anno-1; Angry; A:3.000000; V:2.000000; D:3.000000; N:4.000000;
anno-2; Angry; A:3.500000; V:1.500000; D:4.000000; N:4.500000;

UTD-IMPROV-S01A-M01-P-MF02.avi; N; A:2.200000; V:3.000000; D:3.000000; N:4.000000;
anno-1; Neutral; A:2.000000; V:3.000000; D:3.000000; N:4.000000;

UTD-IMPROV-S02H-F02-R-FM03.avi; X; A:2.500000; V:2.500000; D:2.500000; N:3.000000;
anno-1; Other; A:2.500000; V:2.500000; D:2.500000; N:3.000000;
"""


def test_generated_tree(tmp_path):
    make_tree(
        tmp_path,
        wavs=["Audio/session1/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.wav",
              "Audio/session1/S01A/P/MSP-IMPROV-S01A-M01-P-MF02.wav",
              "Audio/session2/S02H/R/MSP-IMPROV-S02H-F02-R-FM03.wav",
              "Audio/session2/S02H/R/MSP-IMPROV-S02H-M02-R-MF04.wav",
              "Audio/session2/S02H/R/clip.wav"],
        texts={"Evaluation/Evalution.txt": EVALUATION},
    )
    utterances, skips = read_corpus("msp_improv", tmp_path)

    assert fields(utterances["MSP-IMPROV-S01A-F01-P-FM01"]) == ("msp_improv/F01", "f", "en", "angry", 1, 0)
    assert fields(utterances["MSP-IMPROV-S01A-M01-P-MF02"]) == ("msp_improv/M01", "m", "en", "neutral", 0, 1)
    assert "'X'" in skips["MSP-IMPROV-S02H-F02-R-FM03"].reason
    assert skips["MSP-IMPROV-S02H-M02-R-MF04"].reason == "no label in Evalution.txt"
    assert skips["clip"].reason.startswith("name does not match")


def test_missing_labels_file_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["Audio/session1/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.wav"])
    assert_layout_error("msp_improv", tmp_path, "Evalution.txt")


def test_no_matching_files_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["session1/MSP-IMPROV-S01A-F01-P-FM01.wav"], {"Evalution.txt": EVALUATION})
    assert_layout_error("msp_improv", tmp_path, "Audio/session<N>/<scenario>/<type>/MSP-IMPROV-")
