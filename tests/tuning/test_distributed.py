"""One search shared by a chief (the oracle) and two workers over loopback gRPC."""

import glob
import json
import os
import time

import pytest

from tests.helpers import free_ports
from tests.tuning.helpers import kill, search_argv, start_search, tail


@pytest.mark.xdist_group("cluster")  # never alongside another loopback cluster
@pytest.mark.slow
def test_chief_and_two_workers_share_one_search(tiny_config_path, tmp_path):
    out = str(tmp_path / "search")
    argv = search_argv(tiny_config_path, out, trials=3)
    port, = free_ports(1)
    logs = {name: str(tmp_path / name) for name in ("chief", "tuner0", "tuner1")}
    processes = {}
    try:
        for name, log in logs.items():
            processes[name] = start_search(argv, log, tuner_id=name, port=port)
        deadline = time.time() + 300
        while any(p.poll() is None for p in processes.values()):
            failed = {n: p.returncode for n, p in processes.items() if p.poll() not in (None, 0)}
            assert not failed, "\n".join(f"{n}:\n{tail(logs[n] + '.err')}" for n in failed)
            assert time.time() < deadline, "the shared search did not finish in time"
            time.sleep(1)
    finally:
        for process in processes.values():
            kill(process)
    assert {n: p.returncode for n, p in processes.items()} == {"chief": 0, "tuner0": 0, "tuner1": 0}

    records = []
    for path in glob.glob(os.path.join(out, "trials", "*", "search_trial.json")):
        with open(path, encoding="utf-8") as f:
            records.append(json.load(f))
    assert len(records) == 3
    assert {r["tuner_id"] for r in records} == {"tuner0", "tuner1"}
    for record in records:
        assert f"trial {record['trial_id']} ({record['tuner_id']}): val_ua" in open(
            logs[record["tuner_id"]] + ".out").read()
    # The chief trains nothing itself; it writes the outcome.
    chief_out = open(logs["chief"] + ".out").read()
    assert "| trial | tuner |" in chief_out and "Test split of the best trial" in chief_out
    assert os.path.exists(os.path.join(out, "best.yaml")) and os.path.exists(os.path.join(out, "best_results.json"))
    assert "Test split" not in open(logs["tuner0"] + ".out").read()
