"""A search on tiny data: trials train with keras_ser.fit's loop; the outcome is a config fit accepts."""

import json
import os

import pytest
import yaml

from keras_ser.config import load_fit_config
from tests.tuning.helpers import search_argv
from tuning import make_tuner
from tuning.search import main


@pytest.mark.slow
def test_fixed_gamma_reaches_the_trained_gradient_reversal_weight(tiny_config_path, tmp_path):
    config = load_fit_config(tiny_config_path, {"out": str(tmp_path / "search")})
    tuner = make_tuner(config, "random", trials=1, fixed={"gamma": 0.7})
    tuner.search(verbose=0)
    trial = tuner.oracle.get_best_trials(1)[0]
    assert trial.status == "COMPLETED" and trial.hyperparameters.values["gamma"] == 0.7
    run_dir = tmp_path / "search" / "trials" / trial.trial_id
    # Recorded from the live GradientReversal weight during training.
    assert [h["gamma"] for h in json.loads((run_dir / "history.json").read_text())] == [pytest.approx(0.7)]
    run = tuner.load_model(trial)
    assert float(run.network.reversal.coefficient.numpy()) == pytest.approx(0.7)
    assert run.config.model.lambda_ == trial.hyperparameters.values["lambda"] != 0.5
    record = json.loads((run_dir / "search_trial.json").read_text())
    assert record["tuner_id"] == "tuner0" and record["val_ua"] == trial.score
    # A trial never looks at the test split.
    assert not (run_dir / "results.json").exists()


@pytest.mark.slow
def test_two_trial_search_writes_a_best_config_fit_accepts(tiny_config_path, tmp_path, capsys):
    from keras_ser.fit import main as fit_main

    out = tmp_path / "search"
    assert main(search_argv(tiny_config_path, str(out), trials=2) + ["--fix", "lambda=0.3"]) == 0
    printed = capsys.readouterr().out
    assert "| trial | tuner | status | gamma | lambda | center_alpha | learning_rate | epochs | val_ua |" in printed
    assert "Test split of the best trial" in printed and "| DANN_2 (S+C) |" in printed

    best = json.loads((out / "best_results.json").read_text())
    trials = sorted(os.listdir(out / "trials"))
    assert len(trials) == 2 and best["trial_id"] in trials
    assert set(best["test"]["arousal"]) == {"emodb", "savee", "average"}
    # Only the best trial is evaluated on the test split.
    assert [t for t in trials if (out / "trials" / t / "results.json").exists()] == [best["trial_id"]]
    assert (out / "val_ua_gamma_lambda.png").read_bytes()[:4] == b"\x89PNG"

    saved = yaml.safe_load((out / "best.yaml").read_text())
    assert saved["model"]["gamma"] == pytest.approx(best["hyperparameters"]["gamma"])
    assert saved["model"]["lambda"] == best["hyperparameters"]["lambda"] == 0.3
    assert saved["train"]["learning_rate"] == pytest.approx(best["hyperparameters"]["learning_rate"])
    # Accepted as it is by keras_ser.fit (one epoch to keep the test short).
    assert fit_main(["--config", str(out / "best.yaml"), "--epochs", "1"]) == 0
    results = json.loads((out / "best_run" / "results.json").read_text())
    assert results["system"] == "DANN_2 (S+C)" and results["tasks"] == ["arousal"]


@pytest.mark.parametrize("stale_config", [
    "model: {no_such_setting: 1}\n",  # a config.yaml this release cannot read
    "train: {seed: 99}\n",  # a run of other values (a search restarted from scratch)
])
def test_a_trial_folder_left_by_another_run_is_replaced(tiny_config_path, tmp_path, capsys, stale_config):
    out = tmp_path / "search"
    stale = out / "trials" / "0"
    (stale / "checkpoints").mkdir(parents=True)
    (stale / "config.yaml").write_text(stale_config)
    assert main(search_argv(tiny_config_path, str(out), trials=1)) == 0
    record = json.loads((stale / "search_trial.json").read_text())
    assert record["trial_id"] == "0" and record["val_ua"] > 0
    assert yaml.safe_load((stale / "config.yaml").read_text())["train"]["seed"] == 1


def test_bad_fixed_setting_is_named(tiny_config_path, tmp_path, capsys):
    assert main(search_argv(tiny_config_path, str(tmp_path / "s"), trials=1) + ["--fix", "gama=1"]) == 2
    assert "--fix: 'gama=1'" in capsys.readouterr().err


def test_search_needs_validation_speakers(tiny_config_path, tmp_path, capsys):
    tree = yaml.safe_load(open(tiny_config_path))
    tree["data"]["val_fraction"] = 0.0
    config = tmp_path / "noval.yaml"
    config.write_text(yaml.safe_dump(tree))
    assert main(search_argv(str(config), str(tmp_path / "s"), trials=1)) == 2
    assert "data.val_fraction" in capsys.readouterr().err
