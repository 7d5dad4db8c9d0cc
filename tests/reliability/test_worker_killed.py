"""A 2-worker MultiWorkerMirroredStrategy run on loopback: it trains as one worker would, and when
it loses a worker it fails fast and the restarted cluster resumes."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from keras_ser.training.strategy import HEARTBEAT_TIMEOUT_SECONDS
from tests.helpers import free_ports, tiny_model_config

CHECK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "training", "multiworker_check.py")

# The survivor must stop within the heartbeat timeout plus time to abort the step,
# print and exit; without a health check it would wait on its peer indefinitely.
FAIL_FAST_SECONDS = HEARTBEAT_TIMEOUT_SECONDS + 50


def _start(index, workers, command):
    """Worker `index` running `command` (arguments of `python`) with its TF_CONFIG."""
    env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
    return subprocess.Popen([sys.executable, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


@pytest.mark.xdist_group("cluster")  # never alongside another loopback cluster
@pytest.mark.slow
def test_killed_worker_fails_fast_and_the_cluster_resumes_training_like_one_worker(tones, tmp_path):
    prepared = tones
    out = str(tmp_path / "run")
    fit_args = ["--prepared", prepared, "--batch-size", "16", "--task", "arousal", "--seed", "3", "--out", out,
                "--config", tiny_model_config(str(tmp_path))]
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = [_start(i, workers, ["-m", "keras_ser.fit", *fit_args, "--epochs", "200"]) for i in range(2)]
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

    # Restart the whole cluster with --resume: it continues from the last checkpoint. The
    # workers train as `python -m keras_ser.fit` does (same arguments, same run_fit), and report
    # what they ran and how their train steps compare with one worker's.
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    target = len(epochs_before) + 2
    processes = [_start(i, workers, [CHECK, *fit_args, "--epochs", str(target), "--resume"]) for i in range(2)]
    try:
        outputs = [p.communicate(timeout=300) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    reports = []
    for process, (stdout, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-2000:]
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    history = json.load(open(os.path.join(out, "history.json")))
    assert [h["epoch"] for h in history] == list(range(1, target + 1))
    assert history[: len(epochs_before) - 1] == epochs_before[: len(epochs_before) - 1]
    # Only the chief (worker 0) writes the run folder.
    assert os.path.exists(os.path.join(out, "results.json"))

    # Both workers hold the same weights: the same per-epoch losses and the same test metrics.
    assert reports[0]["replicas"] == reports[1]["replicas"] == 2
    assert reports[0]["history"] == reports[1]["history"] and len(reports[0]["history"]) >= 2
    ran = len(reports[0]["history"])  # from the restored checkpoint's epoch to the target
    assert reports[0]["history"] == [{k: v for k, v in h.items() if isinstance(v, float)} for h in history[-ran:]]
    assert reports[0]["test"] == reports[1]["test"]
    # Train steps on the two workers equal the same steps on one worker (all-reduced
    # gradients, global-batch loss scaling, synchronized BN), and they trained every weight.
    for report in reports:
        equivalence = report["equivalence"]
        assert equivalence["weights_max_diff"] < 1e-5, equivalence
        assert equivalence["unmoved_trainable"] == [] and equivalence["weights_moved"] > 100 * 1e-5, equivalence
