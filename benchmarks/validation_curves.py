"""How steady is each run's validation UA, and how good are its checkpoints? (Not a test.)

    python benchmarks/validation_curves.py OFF_RUNS ON_RUNS [--warmup 5] [--json curves.json]

Compares two arms of the same suite (for instance the paper suite without and
with `train.ema_momentum`), read from their runs/ folders
(runs/<setting>/<system>/seed<k>/history.json), on the validation speakers
only; no test number is read. Per run:
- `after_warmup`: the mean validation UA (mean of both tasks) over the epochs
  after the first `--warmup`, to the last trained one: the quality of a
  checkpoint the run could have kept, without the maximum's optimism;
- `best`: the best epoch's validation UA (what early stopping keeps; the
  maximum of a noisy curve favours the noisier arm);
- `step`: the mean absolute change of validation UA between adjacent epochs.
Per arm: each group's (setting x system) mean over seeds, the score (mean over
groups) and the spread (square root of the mean per-group variance over seeds).
"""

import argparse
import glob
import json
import os
import sys

import numpy as np


def run_curves(runs: str, warmup: int) -> dict:
    """{(setting, system): {seed: {after_warmup, best, step, epochs}}} of one runs/ folder."""
    table: dict = {}
    for path in sorted(glob.glob(os.path.join(runs, "*", "*", "seed*", "history.json"))):
        setting, system, seed = path.split(os.sep)[-4:-1]
        curve = [100 * record["val_ua"] for record in json.load(open(path)) if "val_ua" in record]
        if len(curve) <= warmup:
            raise SystemExit(f"{path}: {len(curve)} epochs, not more than --warmup {warmup}")
        table.setdefault((setting, system), {})[seed] = {
            "after_warmup": float(np.mean(curve[warmup:])),
            "best": float(np.max(curve)),
            "step": float(np.mean(np.abs(np.diff(curve)))),
            "epochs": len(curve),
        }
    if not table:
        raise SystemExit(f"{runs}: no runs/<setting>/<system>/seed<k>/history.json")
    return table


def summary(table: dict, key: str) -> dict:
    """Score (mean over groups of the seed mean) and spread (sqrt of the mean per-group variance)."""
    means = [np.mean([run[key] for run in seeds.values()]) for seeds in table.values()]
    variances = [np.var([run[key] for run in seeds.values()], ddof=1) for seeds in table.values() if len(seeds) > 1]
    return {"score": float(np.mean(means)), "spread": float(np.sqrt(np.mean(variances))) if variances else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("off", help="runs/ folder of the first arm")
    parser.add_argument("on", help="runs/ folder of the second arm")
    parser.add_argument("--warmup", type=int, default=5, help="epochs left out of after_warmup (default 5)")
    parser.add_argument("--json", help="write the per-run numbers and summaries here")
    args = parser.parse_args(argv)
    arms = {"off": run_curves(args.off, args.warmup), "on": run_curves(args.on, args.warmup)}
    if set(arms["off"]) != set(arms["on"]):
        raise SystemExit(f"the two arms hold different runs: {sorted(set(arms['off']) ^ set(arms['on']))}")
    keys = ("after_warmup", "best", "step")
    print("| setting | system | " + " | ".join(f"{k} off | {k} on" for k in keys) + " |")
    print("|---|---|" + "---|---|" * len(keys))
    for group in sorted(arms["off"]):
        cells = [f"{np.mean([r[k] for r in arms[arm][group].values()]):.2f}" for k in keys for arm in ("off", "on")]
        print(f"| {group[0]} | {group[1]} | " + " | ".join(cells) + " |")
    summaries = {arm: {k: summary(table, k) for k in keys} for arm, table in arms.items()}
    for key in keys:
        off, on = summaries["off"][key], summaries["on"][key]
        print(f"{key}: off {off['score']:.2f} (spread {off['spread']:.2f}), on {on['score']:.2f} "
              f"(spread {on['spread']:.2f}), on - off {on['score'] - off['score']:+.2f}")
    if args.json:
        runs = {arm: {"/".join(group): seeds for group, seeds in table.items()} for arm, table in arms.items()}
        with open(args.json, "w") as f:
            json.dump({"warmup": args.warmup, "summaries": summaries, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
