"""A 2-worker MultiWorkerMirroredStrategy run loses a worker: fail fast, then resume."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from keras_ser.training.strategy import HEARTBEAT_TIMEOUT_SECONDS
from tests.helpers import tiny_model_config
from tests.training.test_multiworker import free_ports

# The survivor must stop within the heartbeat timeout plus time to abort the step,
# print and exit; without a health check it would wait on its peer indefinitely.
FAIL_FAST_SECONDS = HEARTBEAT_TIMEOUT_SECONDS + 50


def _start(index, workers, command):
    env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
    return subprocess.Popen([sys.executable, "-m", *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


@pytest.mark.xdist_group("cluster")  # never alongside another loopback cluster
@pytest.mark.slow
def test_killed_worker_fails_fast_and_the_cluster_resumes(tones, tmp_path):
    prepared = tones
    out = str(tmp_path / "run")
    command = ["keras_ser.fit", "--prepared", prepared, "--batch-size", "16", "--task", "arousal", "--out", out,
               "--config", tiny_model_config(str(tmp_path))]
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = [_start(i, workers, command + ["--epochs", "200"]) for i in range(2)]
    try:
        deadline = time.time() + 300
        while not glob.glob(os.path.join(out, "checkpoints", "ckpt-1.index")):
            assert time.time() < deadline and processes[0].poll() is None, processes[0].communicate()[1][-2000:]
            time.sleep(0.2)
        os.killpg(processes[1].pid, signal.SIGKILL)
        killed_at = time.time()
        try:
            _, stderr = processes[0].communicate(timeout=FAIL_FAST_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the surviving worker still ran {FAIL_FAST_SECONDS} s after its peer was killed")
        waited = time.time() - killed_at
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert processes[0].returncode == 3, stderr[-2000:]
    assert "a worker of the cluster failed or became unreachable" in stderr and "--resume" in stderr
    print(f"the survivor exited {waited:.1f} s after its peer was killed")
    epochs_before = json.load(open(os.path.join(out, "history.json")))

    # Restart the whole cluster with --resume: it continues from the last checkpoint.
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    target = len(epochs_before) + 2
    processes = [_start(i, workers, command + ["--epochs", str(target), "--resume"]) for i in range(2)]
    try:
        outputs = [p.communicate(timeout=300) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    for process, (_, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-2000:]
    history = json.load(open(os.path.join(out, "history.json")))
    assert [h["epoch"] for h in history] == list(range(1, target + 1))
    assert history[: len(epochs_before) - 1] == epochs_before[: len(epochs_before) - 1]
    assert os.path.exists(os.path.join(out, "results.json"))
