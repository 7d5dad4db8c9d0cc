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


def test_cross_protocol_over_a_prepared_folder_is_not_checked_against_the_synthetic_names(tmp_path):
    # An experiments suite hands every run its prepared folder and no corpora.
    config = _config(protocol="cross", source="emodb", targets=["emovo"], data={"prepared": str(tmp_path)})
    assert config.validate().targets == ["emovo"]


def test_cross_protocol_over_a_prepared_folder_is_checked_against_its_corpora(tmp_path):
    (tmp_path / "prepared.json").write_text('{"corpora": {"emodb": "/data/emodb", "emovo": "/data/emovo"}}')
    assert _config(protocol="cross", source="emodb", targets=["emovo"],
                   data={"prepared": str(tmp_path)}).validate().source == "emodb"
    with pytest.raises(ConfigError, match="targets: 'savee' is not among the run's corpora \\(emodb, emovo\\)"):
        _config(protocol="cross", source="emodb", targets=["savee"], data={"prepared": str(tmp_path)}).validate()


def test_a_run_folders_settings_are_read_back_equal_and_a_foreign_file_is_named(tmp_path):
    from keras_ser.config import load_run_config, save_config
    from keras_ser.experiments.plan import RunSpec
    from keras_ser.experiments.runner import run_status
    from keras_ser.experiments.suite import SuiteError

    config = _config(out=str(tmp_path), protocol="multi", model={"preset": "dann2", "domain_heads": ["speaker"]})
    assert load_run_config(str(tmp_path)) is None
    save_config(config, str(tmp_path / "config.yaml"))
    assert load_run_config(str(tmp_path)) == config
    assert run_status(RunSpec("multi", "S+C", 0, None, config)) == "new"

    (tmp_path / "config.yaml").write_text("model:\n  no_such_setting: 1\n")
    with pytest.raises(ConfigError, match=r"config\.yaml does not describe a run of this release.*no_such_setting"):
        load_run_config(str(tmp_path))
    # A suite refuses the folder with that reason instead of a traceback.
    with pytest.raises(SuiteError, match="no_such_setting.*choose another --out"):
        run_status(RunSpec("multi", "S+C", 0, None, config))
