"""Run as one worker of a 2-worker MultiWorkerMirroredStrategy cluster on 127.0.0.1.

Usage: multiworker_check.py PREPARED OUT_DIR  (TF_CONFIG set by the caller)
Prints one JSON line: this worker's test results and training history, and
how far train steps on 2 workers are from the same steps on one worker.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(prepared: str, out: str) -> int:
    import tensorflow as tf

    from keras_ser.config import load_fit_config
    from keras_ser.fit import run_fit
    from keras_ser.training.strategy import make_strategy
    from tests.helpers import TINY_MODEL
    from tests.training.strategy_equivalence import compare

    config = load_fit_config(None, {
        "data": {"prepared": prepared}, "out": out, "task": "arousal", "model": TINY_MODEL,
        "train": {"batch_size": 16, "epochs": 2, "seed": 3, "strategy": "multi_worker"},
    })
    strategy = make_strategy("multi_worker")
    history = []
    results = run_fit(config, verbose=False, on_epoch_end=lambda record: history.append(record), strategy=strategy)
    # Each worker's pipeline yields the same per-replica batches of 16: the 2-worker mean over 32
    # (duplicated) samples is the one-worker mean over those 16. Softmax only: the center update
    # divides by (1 + count), which duplicated samples change (tests/training/mirrored_check.py
    # compares center loss on the same global batch).
    equivalence = compare(strategy, 32, tf.distribute.get_strategy(), 16, loss="s")
    print(json.dumps({"replicas": results["replicas"], "test": results["test"], "equivalence": equivalence,
                      "history": [{k: v for k, v in h.items() if isinstance(v, float)} for h in history]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
