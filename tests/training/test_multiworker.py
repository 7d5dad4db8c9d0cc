"""Two MultiWorkerMirroredStrategy workers on loopback train one model, as one worker would."""

import json
import os
import socket
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.xdist_group("cluster")  # never alongside another loopback cluster
@pytest.mark.slow
def test_two_workers_on_loopback_train_like_one(tones, tmp_path):
    prepared = tones
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    try:
        for index in range(2):
            env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                                         "task": {"type": "worker", "index": index}}))
            processes.append(subprocess.Popen(
                [sys.executable, os.path.join(HERE, "multiworker_check.py"), prepared, str(tmp_path / "run")],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = [p.communicate(timeout=600) for p in processes]
    finally:
        for p in processes:
            p.kill()
    reports = []
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    assert reports[0]["replicas"] == reports[1]["replicas"] == 2
    # Same weights on both workers: the same per-epoch losses and the same test metrics.
    assert reports[0]["history"] == reports[1]["history"] and len(reports[0]["history"]) == 2
    assert reports[0]["test"] == reports[1]["test"]
    # Only the chief (worker 0) writes the run folder.
    assert (tmp_path / "run" / "results.json").exists()
    # Train steps on the two workers equal the same steps on one worker (all-reduced
    # gradients, global-batch loss scaling, synchronized BN), and they trained every weight.
    for report in reports:
        equivalence = report["equivalence"]
        assert equivalence["weights_max_diff"] < 1e-5, equivalence
        assert equivalence["unmoved_trainable"] == [] and equivalence["weights_moved"] > 100 * 1e-5, equivalence
