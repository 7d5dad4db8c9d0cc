"""generate(): determinism across runs and worker counts, data.yaml, resume, CLI."""

import io
import os
import shutil

import pytest
import yaml

from tests.synth.helpers import wav_hashes
from keras_ser.synth import generate
from keras_ser.synth.__main__ import main
from keras_ser.synth.generation import SENTINEL, SynthError

CORPORA = ["iemocap", "msp_improv", "savee", "emodb"]


def test_returns_absolute_roots_and_writes_data_yaml(tiny):
    out_dir, roots, log = tiny
    assert list(roots) == CORPORA
    with open(os.path.join(out_dir, "data.yaml"), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert data == {"corpora": roots, "synthetic": {"scale": "tiny", "seed": 0}}
    assert all(os.path.isabs(root) and os.path.isdir(root) for root in roots.values())
    assert not [name for name in os.listdir(out_dir) if name.endswith(".partial")]
    assert "real time" in log


def test_same_seed_same_bytes_with_one_worker(tiny, tmp_path):
    _, roots, _ = tiny
    again = generate(str(tmp_path), scale="tiny", seed=0, workers=1, log=io.StringIO())
    for name in CORPORA:
        first, second = wav_hashes(roots[name]), wav_hashes(again[name])
        assert first and first == second, name


def test_other_seed_other_bytes(tiny, tmp_path):
    _, roots, _ = tiny
    other = generate(str(tmp_path), scale="tiny", seed=1, corpora=["savee"], log=io.StringIO())
    first, second = wav_hashes(roots["savee"]), wav_hashes(other["savee"])
    assert first.keys() == second.keys()
    assert all(first[path] != second[path] for path in first)


def test_rerun_regenerates_only_the_missing_corpus(tiny, tmp_path):
    out_dir, roots, _ = tiny
    copy = str(tmp_path / "out")
    shutil.copytree(out_dir, copy)
    shutil.rmtree(os.path.join(copy, "emodb"))
    kept = {name: os.stat(os.path.join(copy, name, SENTINEL)).st_mtime_ns for name in CORPORA if name != "emodb"}
    log = io.StringIO()
    generate(copy, scale="tiny", seed=0, log=log)
    text = log.getvalue()
    for name, mtime in kept.items():
        assert f"synth: {name}: complete (tiny, seed 0), skipped" in text
        assert os.stat(os.path.join(copy, name, SENTINEL)).st_mtime_ns == mtime
    assert "synth: emodb: done, 70 files" in text
    assert wav_hashes(os.path.join(copy, "emodb")) == wav_hashes(roots["emodb"])


def test_interrupted_corpus_is_started_over(tmp_path):
    stale = tmp_path / ".savee.partial" / "AudioData" / "DC"
    stale.mkdir(parents=True)
    (stale / "a01.wav").write_bytes(b"truncated")
    roots = generate(str(tmp_path), scale="tiny", seed=0, corpora=["savee"], log=io.StringIO())
    assert os.path.getsize(os.path.join(roots["savee"], "AudioData", "DC", "a01.wav")) > 1000
    assert not (tmp_path / ".savee.partial").exists()


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "savee").mkdir()
    with pytest.raises(SynthError):
        generate(str(tmp_path), scale="tiny", corpora=["savee"], log=io.StringIO())


def test_unknown_names_are_rejected(tmp_path):
    with pytest.raises(ValueError):
        generate(str(tmp_path), scale="huge", log=io.StringIO())
    with pytest.raises(ValueError):
        generate(str(tmp_path), scale="tiny", corpora=["ravdess"], log=io.StringIO())


def test_cli_writes_the_selected_corpora_and_data_yaml(tiny, tmp_path, capsys):
    _, roots, _ = tiny
    assert main(["--out", str(tmp_path), "--scale", "tiny", "--seed", "0", "--corpora", "savee,emodb"]) == 0
    with open(tmp_path / "data.yaml", encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert sorted(data["corpora"]) == ["emodb", "savee"]
    assert wav_hashes(data["corpora"]["savee"]) == wav_hashes(roots["savee"])
    assert "savee\t" in capsys.readouterr().out


def test_cli_reports_bad_input_as_exit_code(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--corpora", "ravdess"]) == 2
    assert "unknown corpora" in capsys.readouterr().err
