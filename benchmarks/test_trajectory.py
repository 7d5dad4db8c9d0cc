"""Is a system's test shortfall in its training or in its checkpoint choice? (Diagnostic, not a test.)

    python benchmarks/test_trajectory.py RUN [RUN ...] --out DIR [--json trajectory.jsonl]
    python benchmarks/test_trajectory.py --summary trajectory.jsonl [--warmup 5]

Retrains each finished run folder with its own config.yaml (same seed, same
data, same steps: op determinism makes it the same run, which the script
checks against the original results.json) into DIR/<system>/<run>, and after
every epoch scores the test speakers with that epoch's weights. The test
numbers are recorded for analysis only: nothing reads them during training,
and early stopping and the kept checkpoint are chosen on the validation
speakers exactly as in the original run.

Per run and task: the test utterance UA (average over the corpora) of every
epoch, the validation UA of every epoch, the epoch whose layers were kept
and the final test UA. Comparing two systems epoch by epoch separates what
training gives each (test UA at the same epochs) from what the choice of
checkpoint on noisy validation speakers gives or costs. `--summary` tabulates
a JSON-lines file per system and task: the kept checkpoint's test UA, the
mean and standard deviation of the test UA over the epochs after `--warmup`,
the mean absolute change between adjacent epochs, and the correlation over
epochs between validation and test UA (how well the validation speakers rank
the epochs for the test speakers).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def trajectory(run_dir: str, out: str) -> dict:
    """Retrains `run_dir` into `out`, scoring the test speakers after each epoch."""
    import keras_ser.fit as fit
    from keras_ser.config import load_run_config
    from keras_ser.evaluation import score
    from keras_ser.training import trainer as trainer_module

    config = load_run_config(run_dir)
    if config is None or not os.path.exists(os.path.join(run_dir, "results.json")):
        raise SystemExit(f"{run_dir}: not a finished run (config.yaml and results.json)")
    config.out = out
    seen = {}

    class Watched(trainer_module.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen["trainer"] = self

    def watched_build_data(*args, **kwargs):
        built = original_build_data(*args, **kwargs)
        seen["test_dataset"] = built[1]
        return built

    per_epoch = []

    def on_epoch_end(record):
        test = score(seen["trainer"].predictions(seen["test_dataset"]()), config.tasks)
        per_epoch.append({"epoch": record["epoch"], "val": record.get("val_task_ua"),
                          "test": {task: test[task]["average"]["utterance"]["ua"] for task in config.tasks}})

    original_trainer, original_build_data = trainer_module.Trainer, fit.build_data
    trainer_module.Trainer, fit.build_data = Watched, watched_build_data
    try:
        results = fit.run_fit(config, overwrite=True, verbose=False, on_epoch_end=on_epoch_end)
    finally:
        trainer_module.Trainer, fit.build_data = original_trainer, original_build_data
    original = json.load(open(os.path.join(run_dir, "results.json")))
    final = {task: results["test"][task]["average"]["utterance"]["ua"] for task in config.tasks}
    before = {task: original["test"][task]["average"]["utterance"]["ua"] for task in config.tasks}
    return {"run": run_dir, "system": results["system"], "epochs": per_epoch, "final_test": final,
            "original_test": before, "same_as_original": bool(np.allclose(list(final.values()),
                                                                          list(before.values()), atol=1e-9)),
            "task_selection": results["task_selection"]}


def summarise(path: str, warmup: int) -> str:
    """Markdown table per system and task, each cell the mean over the runs in `path`."""
    rows: dict = {}
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        for task, final in record["final_test"].items():
            test = np.array([100 * e["test"][task] for e in record["epochs"]])
            val = np.array([100 * e["val"][task] for e in record["epochs"]])
            late = test[warmup:]
            rows.setdefault((record["system"], task), []).append({
                "kept": 100 * final, "mean": late.mean(), "std": late.std(ddof=1),
                "step": np.abs(np.diff(test)).mean(), "r": np.corrcoef(val[warmup:], late)[0, 1]})
    lines = [f"| System | Task | Runs | Kept epoch's test UA | Test UA, epochs {warmup + 1}+: mean | std over epochs "
             "| Mean change between epochs | Corr. val vs test over epochs |", "|---|---|---|---|---|---|---|---|"]
    for (system, task), runs in sorted(rows.items(), key=lambda item: (item[0][1], item[0][0])):
        mean = {key: np.mean([run[key] for run in runs]) for key in runs[0]}
        lines.append(f"| {system} | {task} | {len(runs)} | {mean['kept']:.1f} | {mean['mean']:.1f} | {mean['std']:.1f} "
                     f"| {mean['step']:.1f} | {mean['r']:+.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="finished run folders")
    parser.add_argument("--out", help="folder for the retrained runs")
    parser.add_argument("--json", help="append each run's trajectory here (one JSON object per line)")
    parser.add_argument("--summary", help="tabulate a JSON-lines file written by --json instead of training")
    parser.add_argument("--warmup", type=int, default=5, help="epochs left out of the summary's means (default 5)")
    args = parser.parse_args(argv)
    if args.summary:
        print(summarise(args.summary, args.warmup))
        return 0
    if not args.runs or not args.out:
        parser.error("give run folders and --out, or --summary FILE")
    for run_dir in args.runs:
        parts = os.path.normpath(run_dir).split(os.sep)
        record = trajectory(run_dir, os.path.join(args.out, *parts[-2:]))
        print(f"{record['system']} {parts[-1]}: same as original {record['same_as_original']}", flush=True)
        for task in record["final_test"]:
            kept = record["task_selection"][task]["epoch"]
            curve = " ".join(f"{100 * e['test'][task]:.0f}" for e in record["epochs"])
            print(f"  {task}: test per epoch {curve}; kept epoch {kept}, test {100 * record['final_test'][task]:.1f}")
        if args.json:
            with open(args.json, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
