"""SIGKILL at a random point, then rerun: the result equals an uninterrupted run."""

import glob
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import tiny_emodb, tiny_model_config, tiny_prepared

SMALL_MODEL = ["--batch-size", "16", "--seed", "2"]


def _run_and_kill(args, ready, delay_range, timeout=300):
    """Starts `python -m args`, waits until `ready()` holds, sleeps a random delay, SIGKILLs."""
    process = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.time() + timeout
        while not ready():
            assert process.poll() is None, "finished before it could be killed"
            assert time.time() < deadline, "never became ready"
            time.sleep(0.05)
        time.sleep(random.Random(os.getpid()).uniform(*delay_range))
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
    command = ["pipelines.prepare", "--corpus", f"emodb={corpus}", "--workers", "2", "--out"]
    subprocess.run([sys.executable, "-m", *command, reference], check=True, capture_output=True)
    _run_and_kill(command + [killed], lambda: glob.glob(os.path.join(killed, "shards", "emodb", "*.json")), (0.0, 0.5))
    subprocess.run([sys.executable, "-m", *command, killed], check=True, capture_output=True)
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


@pytest.mark.slow
def test_killed_fit_resumes_to_the_uninterrupted_metrics(tmp_path):
    prepared = tiny_prepared(str(tmp_path / "data"))
    common = ["keras_ser.fit", "--prepared", prepared, "--epochs", "4", "--task", "arousal", *SMALL_MODEL,
              "--config", tiny_model_config(str(tmp_path))]
    subprocess.run([sys.executable, "-m", *common, "--out", str(tmp_path / "reference")], check=True,
                   capture_output=True)
    killed = str(tmp_path / "killed")
    finished = _run_and_kill(common + ["--out", killed],
                             lambda: glob.glob(os.path.join(killed, "checkpoints", "ckpt-1.index")), (0.0, 2.0))
    assert not finished
    result = subprocess.run([sys.executable, "-m", *common, "--out", killed, "--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    reference = json.load(open(tmp_path / "reference" / "results.json"))
    resumed = json.load(open(os.path.join(killed, "results.json")))
    assert resumed["test"] == reference["test"]
    assert json.load(open(os.path.join(killed, "history.json"))) == json.load(
        open(tmp_path / "reference" / "history.json"))


@pytest.mark.slow
def test_killed_experiments_resume_to_the_uninterrupted_report(tmp_path):
    import yaml

    prepared = tiny_prepared(str(tmp_path / "data"))
    suite = tmp_path / "study.yaml"
    suite.write_text(yaml.safe_dump({
        "base": {"model": {"preset": "dann2", "loss": "s", "conv_filters": [8, 8, 8], "lstm_units": 16,
                           "embedding_dim": 16, "domain_hidden": 16}, "train": {"batch_size": 16, "epochs": 3}},
        "protocols": {"multi": {}},
        "tasks": ["arousal"],
        "variants": [{"name": "gamma 0.3", "overrides": {}}, {"name": "gamma 1", "overrides": {"model": {"gamma": 1.0}}}],
        "analysis": {"embedding": "pca", "embedding_samples": 200, "probe_samples": 200, "bootstrap": 100},
    }))
    command = ["keras_ser.experiments", "--suite", str(suite), "--prepared", prepared, "--quiet", "--out"]
    subprocess.run([sys.executable, "-m", *command, str(tmp_path / "reference")], check=True, capture_output=True)
    killed = str(tmp_path / "killed")
    finished = _run_and_kill(command + [killed],
                             lambda: glob.glob(os.path.join(killed, "runs", "*", "*", "*", "checkpoints", "ckpt-1.index")),
                             (0.0, 3.0))
    assert not finished
    subprocess.run([sys.executable, "-m", *command, killed], check=True, capture_output=True)
    tables = [json.load(open(os.path.join(folder, "report.json")))["groups"]["multi"]["tables"]
              for folder in (str(tmp_path / "reference"), killed)]
    assert tables[0] == tables[1]
