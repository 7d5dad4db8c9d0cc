"""Shared set-up for the tuning tests: a tiny model on the tiny tone corpora."""

import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A few thousand parameters: a trial of one epoch takes seconds on a CPU.
TINY = {
    "task": "arousal",
    "model": {"conv_filters": [8, 8, 8], "lstm_units": 16, "embedding_dim": 16, "domain_hidden": 16},
    "train": {"batch_size": 16, "epochs": 1, "seed": 1},
}


def write_tiny_config(folder: str, prepared: str) -> str:
    path = os.path.join(folder, "tiny.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump({**TINY, "data": {"prepared": prepared}}, f)
    return path


def search_argv(config_path: str, out: str, trials: int, tuner: str = "random") -> list:
    return ["--config", config_path, "--tuner", tuner, "--trials", str(trials), "--out", out]


def start_search(argv: list, log_prefix: str, tuner_id: str = None, port: int = None) -> subprocess.Popen:
    """`python -m tuning.search argv` as a child; output in <log_prefix>.out/.err."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    for key in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "TF_CONFIG"):
        env.pop(key, None)
    if tuner_id is not None:
        env.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(port))
    return subprocess.Popen([sys.executable, "-m", "tuning.search", *argv], cwd=REPO, env=env,
                            stdout=open(log_prefix + ".out", "w"), stderr=open(log_prefix + ".err", "w"))


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def tail(path: str, lines: int = 30) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])
