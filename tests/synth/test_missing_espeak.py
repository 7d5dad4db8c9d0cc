"""Without the [synth] extra: a clear error naming it, from synth and from fit's default data."""

import importlib.util

import pytest

from keras_ser.fit import main as fit
from keras_ser.synth import generate
from keras_ser.synth.generation import SynthError

REAL_FIND_SPEC = importlib.util.find_spec


@pytest.fixture
def no_espeak(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "espeakng_loader" else REAL_FIND_SPEC(name, *args))


def test_generate_names_the_extra(no_espeak, tmp_path):
    with pytest.raises(SynthError, match=r"install the \[synth\] extra"):
        generate(str(tmp_path / "synthetic"), scale="tiny")
    assert not (tmp_path / "synthetic" / "emodb").exists()


def test_fit_on_the_default_data_exits_2(no_espeak, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_SER_CACHE", str(tmp_path / "cache"))
    assert fit(["--out", str(tmp_path / "run"), "--synthetic-scale", "tiny"]) == 2
    assert "the synthetic default corpora would be generated; the synthetic corpora are spoken by eSpeak NG" in capsys.readouterr().err
