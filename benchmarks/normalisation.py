"""Feature normalisation compared on real corpora: global, corpus, speaker (not a test).

    nice -n 10 python benchmarks/normalisation.py --prepared PREPARED --out results/normalisation \
        --epochs 2 --seeds 0 [--protocols multi,emodb>emovo,emovo>emodb] [--systems baseline:s,dann2:sc]

One `python -m keras_ser.fit` per (protocol, system, normalisation, seed),
in that order with the normalisations innermost, so an interrupted sweep
still compares them on every group it reached; a run with results.json is
skipped on a rerun. After training, each run of `corpus` or `speaker` is
scored again with every speaker normalised by the training statistics: what
a deployed model costs when it is given no adaptation audio.

Writes <out>/summary.json: per run the validation UA (what chooses the
default), test utterance UA per corpus and task, and the no-adaptation test UA.
"""

import argparse
import json
import os
import subprocess
import sys
import time

NORMALISATIONS = ("global", "corpus", "speaker")
SYSTEMS = {"baseline:s": "Baseline (S)", "dann2:sc": "DANN_2 (S+C)"}


def protocol_args(protocol: str):
    """"multi" or "SOURCE>TARGET"."""
    if protocol == "multi":
        return ["--protocol", "multi"]
    source, target = protocol.split(">")
    return ["--protocol", "cross", "--source", source, "--targets", target]


def run_dir(out, protocol, system, normalisation, seed):
    return os.path.join(out, "runs", protocol.replace(">", "-to-"), system.replace(":", "-"), normalisation,
                        f"seed{seed}")


def train(args, protocol, system, normalisation, seed, log):
    folder = run_dir(args.out, protocol, system, normalisation, seed)
    if os.path.exists(os.path.join(folder, "results.json")):
        return folder
    preset, loss = system.split(":")
    command = [sys.executable, "-m", "keras_ser.fit", "--prepared", args.prepared, *protocol_args(protocol),
               "--model", preset, "--loss", loss, "--normalisation", normalisation, "--epochs", str(args.epochs),
               "--seed", str(seed), "--out", folder, "--overwrite"]
    started = time.time()
    with open(os.path.join(args.out, "logs", os.path.relpath(folder, os.path.join(args.out, "runs")).replace("/", "_")
                           + ".log"), "w") as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT)
    print(f"{protocol} {system} {normalisation} seed {seed}: exit {code}, {time.time() - started:.0f} s",
          file=log, flush=True)
    return folder


def unadapted_scores(folder):
    """Test scores with every speaker normalised by the training statistics."""
    from keras_ser.evaluation import collect_predictions, score
    from keras_ser.runs import load_run

    run = load_run(folder)
    dataset = run.split_dataset("test", batch_size=256, adapted=False)
    return score(collect_predictions(run.network.inference_model, dataset, run.config.tasks), run.config.tasks)


def utterance_ua(test):
    return {task: {corpus: round(100 * entry["utterance"]["ua"], 2) for corpus, entry in by_corpus.items()}
            for task, by_corpus in test.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepared", required=True, help="prepared folder holding the corpora")
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--protocols", default="multi,emodb>emovo,emovo>emodb")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--normalisations", default=",".join(NORMALISATIONS))
    parser.add_argument("--skip-unadapted", action="store_true", help="do not rescore without adaptation")
    args = parser.parse_args(argv)
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    summary_path = os.path.join(args.out, "summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    for seed in seeds:
        for protocol in args.protocols.split(","):
            for system in args.systems.split(","):
                for normalisation in args.normalisations.split(","):
                    folder = train(args, protocol, system, normalisation, seed, sys.stdout)
                    results_path = os.path.join(folder, "results.json")
                    if not os.path.exists(results_path):
                        continue
                    results = json.load(open(results_path))
                    key = os.path.relpath(folder, os.path.join(args.out, "runs"))
                    entry = summary.get(key, {})
                    entry.update({"protocol": protocol, "system": SYSTEMS.get(system, system),
                                  "normalisation": normalisation, "seed": seed, "epochs": results["epochs_run"],
                                  "val_ua": round(100 * results["best_val_ua"], 2),
                                  "test_ua": utterance_ua(results["test"]), "wall_seconds": results["wall_seconds"]})
                    if normalisation != "global" and not args.skip_unadapted and "test_ua_unadapted" not in entry:
                        entry["test_ua_unadapted"] = utterance_ua(unadapted_scores(folder))
                    summary[key] = entry
                    with open(summary_path, "w") as f:
                        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
