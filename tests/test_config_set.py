"""--set KEY=VALUE: any key of the config tree, validated exactly like the same key in a YAML file."""

import pytest
import yaml

from keras_ser.config import ConfigError, load_fit_config, parse_assignments
from keras_ser.experiments.__main__ import build_parser as experiments_parser
from keras_ser.experiments.__main__ import overrides_from_args as experiments_overrides
from keras_ser.fit import build_parser, overrides_from_args


def _yaml_config(tmp_path, tree):
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(tree))
    return load_fit_config(str(path))


def test_set_gives_the_config_of_the_same_yaml(tmp_path):
    items = ["train.patience=8", "train.learning_rate=1e-3", "model.dropout=0.2", "model.lambda=0.7",
             "model.conv_filters=[8, 8, 8]", "data.val_fraction=0.25", "train.deterministic=false",
             f"data.corpora.emodb={tmp_path}", "features.segment_hop=1060"]
    from_set = load_fit_config(None, parse_assignments(items))
    from_yaml = _yaml_config(tmp_path, {
        "train": {"patience": 8, "learning_rate": 0.001, "deterministic": False},
        "model": {"dropout": 0.2, "lambda": 0.7, "conv_filters": [8, 8, 8]},
        "data": {"val_fraction": 0.25, "corpora": {"emodb": str(tmp_path)}}, "features": {"segment_hop": 1060}})
    assert from_set == from_yaml
    assert from_set.train.patience == 8 and from_set.model.lambda_ == 0.7 and from_set.features.segment_hop == 1060


@pytest.mark.parametrize("item, tree", [
    ("model.dropout=lots", {"model": {"dropout": "lots"}}),
    ("model.lambda=1.5", {"model": {"lambda": 1.5}}),
    ("train.epochs=2.5", {"train": {"epochs": 2.5}}),
    ("model.preset=dann3", {"model": {"preset": "dann3"}}),
])
def test_bad_values_give_the_yaml_error(tmp_path, item, tree):
    with pytest.raises(ConfigError) as from_set:
        load_fit_config(None, parse_assignments([item]))
    with pytest.raises(ConfigError) as from_yaml:
        _yaml_config(tmp_path, tree)
    assert str(from_set.value) == str(from_yaml.value)


def test_unknown_keys_name_the_accepted_ones():
    with pytest.raises(ConfigError, match="unknown key train.patiense; accepted keys under train are .*patience"):
        parse_assignments(["train.patiense=3"])
    with pytest.raises(ConfigError, match="train.patience is a single value"):
        parse_assignments(["train.patience.x=3"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignments(["train.patience"])


def test_fit_flags_then_set_and_consistent_names(tmp_path):
    args = build_parser().parse_args(["--preset", "dann1", "--center-alpha", "0.3", "--lambda", "0.9", "--epochs", "3",
                                      "--emotion-map", "map.yaml", "--set", "train.epochs=4",
                                      "--set", "model.domain_hidden=32"])
    config = load_fit_config(None, overrides_from_args(args))
    assert (config.model.preset, config.model.center_alpha, config.model.lambda_) == ("dann1", 0.3, 0.9)
    assert config.train.epochs == 4 and config.model.domain_hidden == 32  # --set wins over --epochs
    assert config.data.emotion_map == "map.yaml"
    help_text = build_parser().format_help()
    assert "LAMBDA_" not in help_text and "--alpha " not in help_text and "--model " not in help_text


def test_experiments_set_and_suite_names():
    parser = experiments_parser()
    assert all(name in parser.format_help() for name in ("paper", "gamma_sweep", "lambda_sweep"))
    tree, _ = experiments_overrides(parser.parse_args(["--out", "x", "--set", "train.patience=2", "--epochs", "3"]))
    assert tree == {"train": {"epochs": 3, "patience": 2}}
    with pytest.raises(ConfigError, match="the suite decides"):
        experiments_overrides(parser.parse_args(["--out", "x", "--set", "train.seed=2"]))
