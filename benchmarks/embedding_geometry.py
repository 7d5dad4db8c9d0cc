"""Does the embedding collapse? Norm and class separation of every finished run (not a test).

    python benchmarks/embedding_geometry.py results/lambda/runs [RUN ...] [--split val] [--json geometry.json]

For each run folder (best.weights.h5 + results.json) under the arguments, on
the chosen split's labelled segments (default the validation speakers, so
nothing here is read off the test split):
- `norm`: mean L2 norm of the shared embedding (the extractor's output); the
  unbounded objective drove it towards 0;
- per task, in the space its classifier and center loss act on (the unit
  sphere for the bounded form): `between`, the distance between the two
  class means, and `ratio`, that distance over the mean distance of a segment
  to its class mean (below about 1 the classes overlap);
- `val_ua` / `test_ua` per task from the run's results (test only for
  reporting, never for choosing).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.int8_accuracy import find_runs  # noqa: E402


def task_spaces(run, x):
    """Shared embedding and each task's embedding (as its classifier sees it) for a batch."""
    network = run.network
    layers = {layer.name: layer for layer in network.training_model.layers}
    shared = network.extractor(x, training=False)
    spaces = {}
    for task in network.tasks:
        space = layers[f"{task}_projection"](shared) if f"{task}_projection" in layers else shared
        if f"{task}_unit" in layers:
            space = layers[f"{task}_unit"](space)
        spaces[task] = np.asarray(space)
    return np.asarray(shared), spaces


def measure(run_dir: str, split: str) -> dict:
    from keras_ser.runs import load_run

    run = load_run(run_dir)
    norms, spaces, labels = [], {t: [] for t in run.config.tasks}, {t: [] for t in run.config.tasks}
    for x, y, w in run.split_dataset(split):
        shared, per_task = task_spaces(run, x)
        norms.append(np.linalg.norm(shared, axis=1))
        for task in run.config.tasks:
            keep = w[task].numpy() > 0
            spaces[task].append(per_task[task][keep])
            labels[task].append(y[task].numpy()[keep])
    with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    history = []
    if os.path.exists(os.path.join(run_dir, "history.json")):
        with open(os.path.join(run_dir, "history.json"), encoding="utf-8") as f:
            history = json.load(f)
    row = {"run": run_dir, "norm": float(np.mean(np.concatenate(norms))) if norms else None, "tasks": {}}
    for task in run.config.tasks:
        z, y = np.concatenate(spaces[task]), np.concatenate(labels[task])
        means = [z[y == k].mean(axis=0) for k in (0, 1) if np.any(y == k)]
        entry = {"test_ua": results["test"][task]["average"]["utterance"]["ua"]}
        selected = results.get("task_selection", {}).get(task)
        if selected:
            entry["val_ua"] = selected["val_ua"]
        elif history:
            entry["val_ua"] = max(h.get("val_task_ua", {}).get(task, 0.0) for h in history) or None
        if len(means) == 2:
            spread = np.mean(np.linalg.norm(z - np.where((y == 0)[:, None], means[0], means[1]), axis=1))
            entry["between"] = float(np.linalg.norm(means[0] - means[1]))
            entry["ratio"] = float(entry["between"] / max(spread, 1e-12))
        row["tasks"][task] = entry
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="run folders, or folders searched for them")
    parser.add_argument("--split", default="val", choices=["val", "test"], help="segments measured (default val)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    rows = [measure(run, args.split) for run in find_runs(args.paths)]
    print(f"| run | norm | " + " | ".join(f"{t} between / ratio / val UA / test UA" for t in ("arousal", "valence")) + " |")
    print("|---|---|---|---|")
    for row in rows:
        cells = []
        for task in ("arousal", "valence"):
            e = row["tasks"].get(task, {})
            cells.append(" / ".join("-" if e.get(k) is None else f"{e[k]:.3f}" if k in ("between", "ratio")
                                    else f"{100 * e[k]:.1f}" for k in ("between", "ratio", "val_ua", "test_ua")))
        print(f"| {os.path.relpath(row['run'])} | {row['norm']:.3f} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
