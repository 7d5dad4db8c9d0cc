"""A search killed mid-way continues where it stopped when the same command runs again."""

import glob
import json
import os
import time

import pytest

from tests.tuning.helpers import kill, search_argv, start_search, tail
from tuning.search import main


def _trial_states(out):
    states = {}
    for path in glob.glob(os.path.join(out, "search", "trial_*", "trial.json")):
        with open(path, encoding="utf-8") as f:
            trial = json.load(f)
        states[trial["trial_id"]] = trial["status"]
    return states


@pytest.mark.slow
def test_killed_search_resumes_without_retraining_finished_trials(tiny_config_path, tmp_path, capsys):
    out = str(tmp_path / "search")
    argv = search_argv(tiny_config_path, out, trials=2)
    process = start_search(argv, str(tmp_path / "first"))
    try:
        # The second trial's file appears once the first trial is completed and the tuner saved.
        deadline = time.time() + 240
        while "1" not in _trial_states(out):
            assert process.poll() is None, tail(str(tmp_path / "first.err"))
            assert time.time() < deadline, "the first trial did not finish in time"
            time.sleep(0.5)
    finally:
        kill(process)
    states = _trial_states(out)
    assert states["0"] == "COMPLETED" and states["1"] == "RUNNING"
    finished = os.path.join(out, "trials", "0", "search_trial.json")
    finished_stamp = os.stat(finished).st_mtime_ns

    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Reloading Tuner" in printed
    assert "trial 0 (" not in printed  # not retrained
    assert "trial 1 (" in printed
    assert os.stat(finished).st_mtime_ns == finished_stamp
    # The interrupted trial ran again; the total is --trials.
    assert _trial_states(out) == {"0": "COMPLETED", "1": "COMPLETED"}
    assert sorted(os.listdir(os.path.join(out, "trials"))) == ["0", "1"]
    assert os.path.exists(os.path.join(out, "best.yaml"))
