"""Hyperband: a promoted trial continues the training of the trial it was promoted from."""

import json

import pytest

from keras_ser.config import load_fit_config
from tuning import make_tuner


def _history(folder) -> list:
    return json.loads((folder / "history.json").read_text())


@pytest.mark.slow
def test_promoted_trial_continues_the_first_rounds_training(tiny_config_path, tmp_path, monkeypatch):
    from keras_ser.training.trainer import Trainer

    trained = []  # (run folder, epoch) of every epoch actually trained
    reseed = Trainer._reseed_dropout
    monkeypatch.setattr(Trainer, "_reseed_dropout",
                        lambda self, epoch: (trained.append((self.run_dir, epoch)), reseed(self, epoch))[1])
    # max_epochs 3, factor 3: three trials of 1 epoch, then the best is promoted to 3 epochs.
    config = load_fit_config(tiny_config_path, {"out": str(tmp_path / "search"), "train": {"epochs": 3}})
    tuner = make_tuner(config, "hyperband", trials=4)
    tuner.search(verbose=0)

    trials = tuner.oracle.trials
    assert len(trials) == 4 and all(t.status == "COMPLETED" for t in trials.values())
    first_round = [t for t in trials.values() if t.hyperparameters.values["tuner/epochs"] == 1]
    promoted = [t for t in trials.values() if t.hyperparameters.values.get("tuner/trial_id")]
    assert len(first_round) == 3 and len(promoted) == 1
    trial = promoted[0]
    source_id = trial.hyperparameters.values["tuner/trial_id"]
    # Promoted from the best of the first round, with the same values.
    assert trials[source_id].score == max(t.score for t in first_round)
    searched = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
    assert searched == {k: v for k, v in trials[source_id].hyperparameters.values.items() if not k.startswith("tuner/")}

    runs = tmp_path / "search" / "trials"
    source, continued = _history(runs / source_id), _history(runs / trial.trial_id)
    assert len(source) == 1 and len(continued) == 3
    # The second round resumed from the first round's checkpoint: it trained
    # epochs 2 and 3 only, and its history starts with the first round's epoch.
    assert [epoch for folder, epoch in trained if folder == str(runs / trial.trial_id)] == [1, 2]
    assert [epoch for folder, epoch in trained if folder == str(runs / source_id)] == [0]
    assert continued[0] == source[0]
