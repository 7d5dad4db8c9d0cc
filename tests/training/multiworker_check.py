"""Run as one worker of a 2-worker MultiWorkerMirroredStrategy cluster on 127.0.0.1.

Usage: multiworker_check.py FIT_ARGS...  (`python -m keras_ser.fit` arguments; TF_CONFIG set by the caller)
Trains like `python -m keras_ser.fit FIT_ARGS` on the cluster, then prints
one JSON line: this worker's test results and the history of the epochs it
ran, and how far train steps on 2 workers are from the same steps on one
worker.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(argv) -> int:
    import tensorflow as tf

    from keras_ser.config import load_fit_config
    from keras_ser.fit import build_parser, overrides_from_args, run_fit
    from keras_ser.training.strategy import make_strategy
    from tests.training.strategy_equivalence import compare

    args = build_parser("multiworker_check.py").parse_args(argv)
    config = load_fit_config(args.config, overrides_from_args(args))
    strategy = make_strategy("multi_worker")
    history = []
    results = run_fit(config, resume=args.resume, verbose=False, on_epoch_end=lambda record: history.append(record),
                      strategy=strategy)
    # Each worker's pipeline yields the same per-replica batches of 16: the 2-worker mean over 32
    # (duplicated) samples is the one-worker mean over those 16. Softmax only: the center update
    # divides by (1 + count), which duplicated samples change (tests/training/mirrored_check.py
    # compares center loss on the same global batch).
    # One worker runs Keras's synchronized BatchNorm graph too: the comparison is of the replica
    # arithmetic alone, not of the fused kernel's own rounding (CPU-dependent; see test_mirrored).
    equivalence = compare(strategy, 32, tf.distribute.get_strategy(), 16, loss="s", fused_b=False)
    print(json.dumps({"replicas": results["replicas"], "test": results["test"], "equivalence": equivalence,
                      "history": [{k: v for k, v in h.items() if isinstance(v, float)} for h in history]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
