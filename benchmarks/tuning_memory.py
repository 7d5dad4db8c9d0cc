"""Memory across tuning trials (keras-team/keras-tuner#395 reports growth): `python benchmarks/tuning_memory.py`.

Runs a 10-trial random search of the tiny model on the tiny tone corpora and
reads the resident set size after every trial (FitTuner clears the Keras
session and collects garbage between trials). Prints the table and writes JSON.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_ser.config import load_fit_config  # noqa: E402
from tests.helpers import tiny_prepared  # noqa: E402
from tests.tuning.helpers import write_tiny_config  # noqa: E402
from tuning.tuner import FitTuner, current_rss_mb, make_tuner  # noqa: E402


def measure(trials: int, folder: str) -> list:
    config = load_fit_config(write_tiny_config(folder, tiny_prepared(folder)), {"out": os.path.join(folder, "search")})
    rows = []
    before = {"rss_mb": current_rss_mb(), "started": time.time()}

    class MeasuredTuner(FitTuner):
        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            now = time.time()
            rows.append({
                "trial": len(rows) + 1,
                "trial_id": trial.trial_id,
                "wall_seconds": round(now - before["started"], 2),
                "rss_mb": round(current_rss_mb(), 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            })
            before["started"] = now

    tuner = make_tuner(config, "random", trials)
    tuner.__class__ = MeasuredTuner
    tuner.search(verbose=0)
    return [{"trial": 0, "trial_id": "-", "wall_seconds": 0.0, "rss_mb": round(before["rss_mb"], 1),
             "peak_rss_mb": None}] + rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="trials in the search (default 10)")
    parser.add_argument("--json", default="benchmarks/tuning_memory.json", help="where to write the measurements")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tuning_memory_") as folder:
        rows = measure(args.trials, folder)
    print("| trial | wall s | RSS MB | peak RSS MB |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['trial']} | {row['wall_seconds']:.1f} | {row['rss_mb']:.0f} | {row['peak_rss_mb'] or '-'} |")
    trained = rows[1:]
    growth = (trained[-1]["rss_mb"] - trained[1]["rss_mb"]) / max(1, len(trained) - 2) if len(trained) > 2 else 0.0
    summary = {"trials": rows, "rss_growth_mb_per_trial_after_second": round(growth, 2),
               "mean_trial_seconds": round(sum(r["wall_seconds"] for r in trained) / len(trained), 2)}
    print(f"RSS growth after the second trial: {growth:.2f} MB per trial; "
          f"mean trial wall time {summary['mean_trial_seconds']:.1f} s")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
