"""SIGKILL at a random point, then rerun: the result equals an uninterrupted run."""

import contextlib
import glob
import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import tiny_emodb


def _run_and_kill(args, ready, delay_range, too_late, timeout=300):
    """Starts `python -m args`, waits until `ready()` holds, then SIGKILLs after a random delay,
    or at once when `too_late()` holds first (so a loaded machine cannot let the run finish)."""
    process = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.time() + timeout
        while not ready():
            assert process.poll() is None, "finished before it could be killed"
            assert time.time() < deadline, "never became ready"
            time.sleep(0.05)
        kill_at = time.time() + random.Random(os.getpid()).uniform(*delay_range)
        while time.time() < kill_at and not too_late():
            time.sleep(0.02)
        finished = process.poll() is not None
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    return finished


def _tree(folder):
    files = {}
    for path in sorted(glob.glob(os.path.join(folder, "**", "*"), recursive=True)):
        if os.path.isfile(path):
            files[os.path.relpath(path, folder)] = open(path, "rb").read()
    return files


@pytest.mark.slow
def test_killed_prepare_reruns_to_identical_output(tmp_path):
    corpus = tiny_emodb(str(tmp_path / "emodb"), speakers=("03", "08", "09", "10", "11", "12", "13", "14", "15", "16"),
                        emotions="WLEAFTN", seconds=1.0)
    reference, killed = str(tmp_path / "reference"), str(tmp_path / "killed")
    from pipelines.prepare import main as prepare

    # Reference and rerun in this process, the killed run as a process of its own (bytes are compared).
    args = ["--corpus", f"emodb={corpus}", "--workers", "2", "--out"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert prepare([*args, reference]) == 0
    receipts = lambda: glob.glob(os.path.join(killed, "shards", "emodb", "*.json"))  # noqa: E731
    # Killed within 0.5 s of the first of 10 speakers' receipts, at the latest at the sixth.
    finished = _run_and_kill(["pipelines.prepare", *args, killed], receipts, (0.0, 0.5),
                             too_late=lambda: len(receipts()) > 5)
    assert not finished
    with contextlib.redirect_stdout(io.StringIO()):
        assert prepare([*args, killed]) == 0
    expected, actual = _tree(reference), _tree(killed)
    summaries = [json.loads(tree.pop("summary.json")) for tree in (expected, actual)]
    for summary in summaries:
        summary.pop("wall_seconds"), summary.pop("shards_written")
    assert summaries[0] == summaries[1]
    prepared = [json.loads(tree.pop("prepared.json")) for tree in (expected, actual)]
    for info in prepared:
        info.pop("corpora")
    assert prepared[0] == prepared[1]
    assert not [name for name in actual if ".tmp" in name]
    assert actual.keys() == expected.keys() and actual == expected


@pytest.mark.xdist_group("fit_reference")
@pytest.mark.slow
def test_killed_fit_resumes_to_the_uninterrupted_metrics(reference_run, tmp_path):
    from keras_ser.fit import main

    killed = str(tmp_path / "killed")
    checkpoint = lambda epoch: os.path.join(killed, "checkpoints", f"ckpt-{epoch}.index")  # noqa: E731
    # Killed at a random point of epoch 2 (the reference run has 4 epochs), at the latest when
    # epoch 2's checkpoint appears.
    finished = _run_and_kill(["keras_ser.fit", *reference_run.args, "--out", killed],
                             lambda: os.path.exists(checkpoint(1)), (0.0, 2.0),
                             too_late=lambda: os.path.exists(checkpoint(2)))
    assert not finished and not os.path.exists(os.path.join(killed, "results.json"))
    assert main(reference_run.args + ["--out", killed, "--resume"]) == 0
    reference = json.load(open(os.path.join(reference_run.out, "results.json")))
    resumed = json.load(open(os.path.join(killed, "results.json")))
    assert resumed["test"] == reference["test"]
    assert json.load(open(os.path.join(killed, "history.json"))) == json.load(
        open(os.path.join(reference_run.out, "history.json")))


@pytest.mark.slow
def test_killed_experiments_resume_to_the_uninterrupted_report(tones, tmp_path):
    import yaml

    from keras_ser.experiments.__main__ import main

    suite = tmp_path / "study.yaml"
    suite.write_text(yaml.safe_dump({
        "base": {"model": {"preset": "dann2", "loss": "s", "conv_filters": [8, 8, 8], "lstm_units": 16,
                           "embedding_dim": 16, "domain_hidden": 16}, "train": {"batch_size": 16, "epochs": 2}},
        "protocols": {"multi": {}},
        "tasks": ["arousal"],
        "variants": [{"name": "gamma 0.3", "overrides": {}}, {"name": "gamma 1", "overrides": {"model": {"gamma": 1.0}}}],
        "analysis": {"embedding": "pca", "embedding_samples": 200, "probe_samples": 200, "bootstrap": 100},
    }))
    args = ["--suite", str(suite), "--prepared", tones, "--quiet", "--out"]
    assert main(args + [str(tmp_path / "reference")]) == 0
    killed = str(tmp_path / "killed")
    checkpoints = lambda: glob.glob(os.path.join(killed, "runs", "*", "*", "*", "checkpoints", "ckpt-*.index"))  # noqa: E731
    # Two runs of 2 epochs: killed within 3 s of the first checkpoint, at the latest once the
    # first run has trained (its test evaluation and the second run are still to do).
    finished = _run_and_kill(["keras_ser.experiments", *args, killed], checkpoints, (0.0, 3.0),
                             too_late=lambda: len(checkpoints()) >= 2)
    assert not finished
    assert main(args + [killed]) == 0
    tables = [json.load(open(os.path.join(folder, "report.json")))["groups"]["multi"]["tables"]
              for folder in (str(tmp_path / "reference"), killed)]
    assert tables[0] == tables[1]
