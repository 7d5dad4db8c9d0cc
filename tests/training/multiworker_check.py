"""Run as one worker of a 2-worker MultiWorkerMirroredStrategy cluster on 127.0.0.1.

Usage: multiworker_check.py PREPARED OUT_DIR  (TF_CONFIG set by the caller)
Prints one JSON line: this worker's test results and training history.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(prepared: str, out: str) -> int:
    from keras_ser.config import load_fit_config
    from keras_ser.fit import run_fit
    from tests.helpers import TINY_MODEL

    config = load_fit_config(None, {
        "data": {"prepared": prepared}, "out": out, "task": "arousal", "model": TINY_MODEL,
        "train": {"batch_size": 16, "epochs": 2, "seed": 3, "strategy": "multi_worker"},
    })
    history = []
    results = run_fit(config, verbose=False, on_epoch_end=lambda record: history.append(record))
    print(json.dumps({"replicas": results["replicas"], "test": results["test"],
                      "history": [{k: v for k, v in h.items() if isinstance(v, float)} for h in history]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
