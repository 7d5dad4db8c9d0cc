"""Runs a suite's planned runs: finished runs are kept, interrupted ones resume.

A run is finished when its folder holds results.json; a folder without it is
continued with `run_fit(resume=True)` from its last checkpoint (or started).
A folder whose config.yaml differs from the planned settings is refused
rather than mixed into the tables: use another --out.
"""

import os
import time
from typing import Callable, List, Optional

from keras_ser.config import ConfigError, differences, load_run_config, to_dict
from keras_ser.experiments.plan import RunSpec
from keras_ser.experiments.suite import SuiteError


def run_status(spec: RunSpec) -> str:
    """done | partial | new, after checking the folder holds these settings."""
    try:
        previous = load_run_config(spec.out)
    except ConfigError as err:
        raise SuiteError(f"{err}; choose another --out or delete that folder") from err
    changed = [] if previous is None else [
        f"{key}: {old!r} -> {new!r}" for key, old, new in differences(to_dict(previous), to_dict(spec.config))]
    if changed:
        raise SuiteError(f"{spec.out} holds a run with other settings ({', '.join(changed[:5])}); "
                         "choose another --out or delete that folder")
    if os.path.exists(os.path.join(spec.out, "results.json")):
        return "done"
    return "partial" if os.path.exists(os.path.join(spec.out, "checkpoints")) else "new"


def run_all(specs: List[RunSpec], verbose: bool = True, fit: Optional[Callable] = None) -> List[dict]:
    """Trains what is missing; returns one record per run (folder, status, seconds)."""
    from keras_ser.training.memory import released_after_training

    if fit is None:
        from keras_ser.fit import run_fit as fit
    statuses = [run_status(spec) for spec in specs]  # refuse mismatches before any training
    records = []
    todo = sum(status != "done" for status in statuses)
    done = 0
    for spec, status in zip(specs, statuses):
        record = {"group": spec.group, "variant": spec.variant, "seed": spec.seed, "fold": spec.fold,
                  "out": spec.out, "status": "cached" if status == "done" else ("resumed" if status == "partial" else "trained")}
        if status != "done":
            done += 1
            if verbose:
                print(f"[{done}/{todo}] {spec.group} | {spec.variant} | seed {spec.seed}"
                      f"{'' if spec.fold is None else f' | fold {spec.fold}'}"
                      f"{' (resuming)' if status == 'partial' else ''}", flush=True)
            started = time.time()
            with released_after_training():  # one process trains many networks
                fit(spec.config, resume=True, verbose=False)
            record["seconds"] = round(time.time() - started, 1)
        records.append(record)
    return records

