"""The search space: defaults are the config, hp.Fixed holds a value, ranges follow the config."""

import keras_tuner
import pytest

from keras_ser.config import load_fit_config
from tuning.hypermodel import FitHyperModel


def _config(**tree):
    return load_fit_config(None, {"out": "unused", **tree})


def test_defaults_are_the_config_values():
    config = _config(model={"gamma": 0.2, "lambda": 0.4, "center_alpha": 0.6, "center_form": "bounded"},
                     train={"learning_rate": 0.8})
    hp = keras_tuner.HyperParameters()
    built = FitHyperModel(config).build(hp)
    assert hp.values == {"gamma": 0.2, "lambda": 0.4, "center_alpha": 0.6, "learning_rate": 0.8}
    assert built == config and built is not config
    ranges = FitHyperModel(config).ranges()
    assert ranges["gamma"] == (0.01, 3.0) and ranges["learning_rate"] == (0.05, 3.0)
    assert {p.name: p.sampling for p in hp.space} == {
        "gamma": "log", "lambda": "linear", "center_alpha": "linear", "learning_rate": "log"}


def test_sampled_values_reach_the_trial_config():
    hp = keras_tuner.HyperParameters()
    hp.values.update({"gamma": 1.5, "lambda": 0.1, "center_alpha": 0.9, "learning_rate": 0.07})
    built = FitHyperModel(_config(model={"center_form": "bounded"})).build(hp)
    assert (built.model.gamma, built.model.lambda_, built.model.center_alpha, built.train.learning_rate) == (
        1.5, 0.1, 0.9, 0.07)


def test_fixed_value_overrides_the_search_and_the_default():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("gamma", 0.7)
    built = FitHyperModel(_config()).build(hp)
    assert built.model.gamma == 0.7 and built.model.lambda_ == 0.5
    assert [type(p).__name__ for p in hp.space if p.name == "gamma"] == ["Fixed"]


def test_only_settings_that_change_the_model_are_searched():
    assert set(FitHyperModel(_config(model={"loss": "s"})).ranges()) == {"gamma", "learning_rate"}
    # alpha steps running centers; the default proxy centers are the classifier's directions.
    assert set(FitHyperModel(_config(model={"preset": "baseline"})).ranges()) == {"lambda", "learning_rate"}
    assert set(FitHyperModel(_config(model={"preset": "baseline", "center_form": "bounded"})).ranges()) == {
        "lambda", "center_alpha", "learning_rate"}
    assert "center_alpha" in FitHyperModel(_config(model={"center_form": "unbounded"})).ranges()


def test_fixing_a_setting_that_is_not_searched_is_an_error(tmp_path):
    from keras_ser.config import ConfigError
    from tuning.tuner import make_tuner

    config = load_fit_config(None, {"out": str(tmp_path / "search")})
    with pytest.raises(ConfigError, match="--fix center_alpha: not a searched setting"):
        make_tuner(config, "random", 1, fixed={"center_alpha": 0.3})
    assert not (tmp_path / "search").exists()


def test_ranges_follow_the_optimizer_and_include_the_default():
    ranges = FitHyperModel(_config(train={"optimizer": "adam", "learning_rate": 0.001})).ranges()
    assert ranges["learning_rate"] == (1e-5, 1e-2)
    assert FitHyperModel(_config(model={"gamma": 5.0})).ranges()["gamma"] == (0.01, 5.0)


def test_hyperband_epochs_set_the_trial_epochs():
    hp = keras_tuner.HyperParameters()
    hp.values["tuner/epochs"] = 3
    assert FitHyperModel(_config(train={"epochs": 9})).build(hp).train.epochs == 3


def test_zero_gamma_cannot_be_searched_on_a_log_scale():
    with pytest.raises(ValueError, match="log scale"):
        FitHyperModel(_config(model={"gamma": 0.0})).ranges()
