"""What int8 quantization costs in UA, over many trained runs, per int8 recipe (not a test).

    python benchmarks/int8_accuracy.py results/paper/runs/multi [RUN ...] [--split val]
        [--recipe first-conv-float,all-int8] [--json int8_accuracy.json]

Every argument is a run folder or a folder searched for run folders (any
folder with best.weights.h5 and results.json, e.g. an experiments suite's
runs/). Each run is exported to a temporary folder as float32 and int8
TFLite (`keras_ser.export.export_run`, the same conversion and calibration
as `python -m keras_ser.export`, once per `--recipe`) and both files are
scored on the run's test split (`--split val`: its validation speakers, the
split to choose a recipe on) through their `segments` signature (`--evaluate`). Prints per run
and on average the utterance UA of the float model and int8 minus float, per
task; the issue's bound is a loss of at most 1 point.

A single small test split decides few utterances (36 for the synthetic
Emo-DB stand-in), so one flipped utterance moves a corpus's UA by 3-6
points; the mean over runs is the number to read.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

TASKS = ("arousal", "valence")
# The bound: int8 loses at most 1 point of UA.
ONE_POINT = 0.01


def find_runs(paths):
    runs = []
    for path in paths:
        for root, dirs, files in os.walk(path):
            dirs.sort()
            if "best.weights.h5" in files and "results.json" in files:
                runs.append(root)
                dirs[:] = []
    if not runs:
        raise SystemExit(f"no finished runs (best.weights.h5 + results.json) under {', '.join(paths)}")
    return runs


def measure(run_dir: str, split: str = "test", recipe: str = "first-conv-float", float_scores=None) -> tuple:
    """(row, the float file's scores); pass those back as `float_scores` for the run's next recipe,
    so the float model is converted and scored once per run, not once per recipe."""
    from keras_ser.export import export_run

    started = time.time()
    with tempfile.TemporaryDirectory(prefix="keras_ser_int8_") as out:
        quantize = ["int8"] if float_scores is not None else ["none", "int8"]
        written = export_run(run_dir, ["tflite"], quantize, out=out, evaluate=split, int8_recipe=recipe)
    if float_scores is None:
        float_scores = written["tflite_none"]["scores"]
    row = {"run": run_dir, "recipe": recipe, "seconds": round(time.time() - started, 1)}
    for task in TASKS:
        if task not in written["keras"]["scores"]:
            continue
        int8_scores = written["tflite_int8"]["scores"][task]
        row[task] = {
            "float_ua": float_scores[task]["average"]["utterance"]["ua"],
            "int8_ua": int8_scores["average"]["utterance"]["ua"],
            "per_corpus": {corpus: {"float": float_scores[task][corpus]["utterance"]["ua"],
                                    "int8": int8_scores[corpus]["utterance"]["ua"],
                                    "utterances": float_scores[task][corpus]["utterance"]["count"]}
                           for corpus in float_scores[task] if corpus != "average"},
        }
        row[task]["delta"] = row[task]["int8_ua"] - row[task]["float_ua"]
    return row, float_scores


def summarise(rows) -> dict:
    summary = {}
    for task in TASKS:
        deltas = [row[task]["delta"] for row in rows if task in row]
        corpus_deltas = [c["int8"] - c["float"] for row in rows if task in row for c in row[task]["per_corpus"].values()]
        if deltas:
            summary[task] = {"runs": len(deltas), "mean_delta": float(np.mean(deltas)),
                             "min_delta": float(np.min(deltas)), "max_delta": float(np.max(deltas)),
                             "runs_within_1_point": int(sum(d >= -ONE_POINT for d in deltas)),
                             "corpus_min_delta": float(np.min(corpus_deltas))}
    summary["runs_within_1_point_on_every_task"] = int(sum(
        all(row[task]["delta"] >= -ONE_POINT for task in TASKS if task in row) for row in rows))
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="run folders, or folders holding run folders")
    parser.add_argument("--json", help="also write the rows and the summary here")
    parser.add_argument("--split", default="test", choices=("test", "val"),
                        help="speakers scored (default test; val to choose a recipe without the test split)")
    parser.add_argument("--recipe", default="first-conv-float",
                        help="comma-separated int8 recipes to compare (keras_ser.export.INT8_RECIPES): "
                             "first-conv-float, all-int8")
    args = parser.parse_args(argv)

    from keras_ser.export import INT8_RECIPES

    recipes = args.recipe.split(",")
    unknown = sorted(set(recipes) - set(INT8_RECIPES))
    if unknown:
        parser.error(f"--recipe: {', '.join(unknown)} not accepted; choose from {', '.join(INT8_RECIPES)}")
    runs = find_runs(args.paths)
    float_scores = {}
    results = {}
    for recipe in recipes:
        rows = []
        print(f"\nint8 recipe {recipe}, {args.split} split\n")
        header = "| run | " + " | ".join(f"{t} float | {t} int8 - float" for t in TASKS) + " |"
        print(header + "\n|---|" + "---:|---:|" * len(TASKS), flush=True)
        for run_dir in runs:
            row, float_scores[run_dir] = measure(run_dir, args.split, recipe, float_scores.get(run_dir))
            rows.append(row)
            cells = [f"{100 * row[t]['float_ua']:.2f} | {100 * row[t]['delta']:+.2f}" if t in row else "- | -"
                     for t in TASKS]
            print(f"| {os.path.relpath(run_dir)} | " + " | ".join(cells) + " |", flush=True)
        summary = summarise(rows)
        results[recipe] = {"rows": rows, "summary": summary}
        print()
        for task in TASKS:
            if task not in summary:
                continue
            s = summary[task]
            print(f"{recipe}, {task}: int8 - float over {s['runs']} runs: mean {100 * s['mean_delta']:+.2f}, "
                  f"min {100 * s['min_delta']:+.2f}, max {100 * s['max_delta']:+.2f} points; "
                  f"{s['runs_within_1_point']}/{s['runs']} runs lose at most 1 point; "
                  f"worst single corpus {100 * s['corpus_min_delta']:+.2f}")
        print(f"{recipe}: {summary['runs_within_1_point_on_every_task']}/{len(rows)} runs lose at most 1 point "
              "on every task")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"split": args.split, "recipes": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
