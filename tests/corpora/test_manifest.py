"""keras_ser.corpora.manifest: a user's CSV of paths and labels."""

import pytest

from keras_ser.corpora import LayoutError, get_adapter
from tests.corpora.helpers import assert_layout_error, fields, make_tree, read_corpus

HEADER = "path,speaker,gender,language,emotion"


def test_generated_manifest(tmp_path):
    outside = make_tree(tmp_path / "elsewhere", ["abs.wav"]) / "abs.wav"
    make_tree(tmp_path / "data", ["audio/a.wav", "audio/b.flac", "audio/c.wav", "audio/d.wav", "audio/e.wav"], {
        "list.csv": "\n".join([
            HEADER,
            "audio/a.wav,s1,Female,EN,Angry",
            "audio/b.flac,s1,f,en,calm",
            f"{outside},s2,male,de,boredom",
            "audio/c.wav,s2,x,en,sad",
            "audio/d.wav,s2,m,en,contempt",
            "../elsewhere/abs.wav,s3,m,en,sad",
            "audio/missing.wav,s3,m,en,sad",
        ]) + "\n",
    })
    utterances, skips = read_corpus("manifest", tmp_path / "data" / "list.csv")

    assert fields(utterances["a"]) == ("manifest/s1", "f", "en", "angry", 1, 0)
    assert utterances["a"].path == str(tmp_path / "data" / "audio" / "a.wav")
    assert utterances["a"].corpus == "manifest"
    assert fields(utterances["b"]) == ("manifest/s1", "f", "en", "calm", 0, 1)
    assert fields(utterances["abs"]) == ("manifest/s2", "m", "de", "boredom", 0, 0)
    assert "gender 'x'" in skips["c"].reason
    assert "'contempt'" in skips["d"].reason
    assert skips["missing"].reason == "audio file not found"
    escaping = [s for s in skips.values() if s.path == "../elsewhere/abs.wav"]
    assert len(escaping) == 1 and "leaves the manifest folder" in escaping[0].reason


def test_optional_columns(tmp_path):
    make_tree(tmp_path, ["x/one.wav", "x/two.wav"], {
        "m.csv": "utterance_id,corpus,path,speaker,gender,language,emotion\n"
                 "u1,mycorpus,x/one.wav,A,f,it,happy\n"
                 "u1,mycorpus,x/two.wav,A,f,it,sad\n",
    })
    records = list(get_adapter("manifest", str(tmp_path / "m.csv")).records())
    assert records[0].utterance_id == "u1" and records[0].speaker == "mycorpus/A"
    assert records[0].corpus == "mycorpus" and records[0].emotion == "happy"
    assert records[1].reason.startswith("duplicate utterance id")


def test_missing_column_is_a_layout_error(tmp_path):
    make_tree(tmp_path, ["a.wav"], {"m.csv": "path,speaker,emotion\na.wav,s1,sad\n"})
    with pytest.raises(LayoutError, match="gender, language"):
        list(get_adapter("manifest", str(tmp_path / "m.csv")).records())


def test_root_must_be_a_csv_file(tmp_path):
    with pytest.raises(LayoutError, match="a CSV file with columns path, speaker"):
        get_adapter("manifest", str(tmp_path))


def test_empty_manifest_is_a_layout_error(tmp_path):
    make_tree(tmp_path, texts={"m.csv": HEADER + "\n"})
    assert_layout_error("manifest", tmp_path / "m.csv", "a CSV file with columns path, speaker")
