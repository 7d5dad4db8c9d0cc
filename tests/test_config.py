"""Bad corpus names fail before any work: no synthesis, no prepare, no run folder."""

import os

import pytest

from keras_ser.config import ConfigError, FitConfig, from_dict


def _config(**values):
    return from_dict(FitConfig, values)


def test_unknown_corpus_name_is_a_config_error_listing_the_accepted_ones(tmp_path):
    config = _config(data={"corpora": {"emodbx": str(tmp_path)}})
    with pytest.raises(ConfigError, match="unknown corpus 'emodbx'; accepted: .*emodb, emovo"):
        config.validate()


@pytest.mark.parametrize("source, targets, bad", [
    ("bogus", ["savee"], "source: 'bogus'"),
    ("iemocap", ["savee", "nowhere"], "targets: 'nowhere'"),
])
def test_unknown_source_or_target_is_rejected_before_synthesis(source, targets, bad):
    config = _config(protocol="cross", source=source, targets=targets)
    with pytest.raises(ConfigError, match=bad + ".*not among the run's corpora.*iemocap"):
        config.validate()


def test_source_and_targets_are_checked_against_the_given_corpora(tmp_path):
    config = _config(protocol="cross", source="emodb", targets=["emovo"],
                     data={"corpora": {"emodb": str(tmp_path), "savee": str(tmp_path)}})
    with pytest.raises(ConfigError, match="targets: 'emovo' is not among the run's corpora \\(emodb, savee\\)"):
        config.validate()


def test_fit_and_prepare_exit_2_and_leave_nothing_behind(tmp_path, monkeypatch, capsys):
    from keras_ser.fit import main as fit_main
    from pipelines.prepare import main as prepare_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_SER_CACHE", str(tmp_path / "cache"))
    assert fit_main(["--protocol", "cross", "--source", "iemocap", "--targets", "bogus"]) == 2
    assert prepare_main(["--corpus", f"foo={tmp_path}", "--out", str(tmp_path / "prepared")]) == 2
    err = capsys.readouterr().err
    assert "targets: 'bogus'" in err and "unknown corpus 'foo'" in err
    assert os.listdir(tmp_path) == []
