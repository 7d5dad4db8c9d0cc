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
default), test utterance UA per corpus and task, and the no-adaptation test
UA; `--tables` prints them as markdown (the docs/normalisation report).

`--from-runs SUITE_OUT` trains nothing: it takes the finished runs of an
experiments suite (`python -m keras_ser.experiments --suite normalisation`,
3 seeds, the suite's 15 epochs) and adds the two rescorings to each:

    python benchmarks/normalisation.py --from-runs results/normalisation --out results/normalisation-rescored
"""

import argparse
import json
import os
import subprocess
import sys
import time

NORMALISATIONS = ("global", "corpus", "speaker")
SYSTEMS = {"baseline:s": "Baseline (S)", "dann2:sc": "DANN_2 (S+C)"}
# Adaptation audio per test speaker in the "a few seconds" rescoring.
ADAPTATION_SECONDS = 5


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


def few_seconds_scores(folder, seconds):
    """Test scores with each test speaker normalised by the statistics of its first `seconds` of audio.

    What a device does: `keras_ser.adaptation.RunningStatistics` with its
    default prior (the training statistics, worth half a second) over the
    frames of the speaker's first utterances (manifest order) until `seconds`.
    """
    import numpy as np
    import tensorflow as tf

    from keras_ser.adaptation import RunningStatistics
    from keras_ser.evaluation import collect_predictions, score
    from keras_ser.runs import load_run
    from pipelines.normalisation import Normalisation, Statistics
    from pipelines.records import parse_segments

    run = load_run(folder)
    features = run.prepared.features
    groups = {}
    for speaker in run.speakers["plan"]["test"]:
        chosen, total = set(), 0.0
        for row in (r for r in run.prepared.utterances if r["speaker"] == speaker):
            if total >= seconds:
                break
            chosen.add(row["utterance_id"])
            total += float(row["seconds"])
        stats = RunningStatistics(features.num_bins, run.mean, run.std, prior_frames=120.0)
        for batch in tf.data.TFRecordDataset(run.prepared.shard(speaker)).batch(512):
            parsed = parse_segments(batch, features.shape)
            keep = np.isin(parsed["utterance_id"].numpy().astype(str), sorted(chosen))
            stats.add_frames(parsed["spectrogram"].numpy()[keep])
        mean, std = stats.mean_std()
        groups[speaker] = Statistics(mean, std, [speaker])
    run.normalisation = Normalisation("speaker", run.normalisation.fallback, groups)
    dataset = run.split_dataset("test", batch_size=256)
    return score(collect_predictions(run.network.inference_model, dataset, run.config.tasks), run.config.tasks)


def suite_runs(suite_out):
    """(key, run folder, protocol, system, normalisation, seed) of every finished run under SUITE_OUT/runs."""
    from keras_ser.config import RUN_CONFIG, load_run_config
    from keras_ser.reporting import system_name

    found = []
    for root, _, files in sorted(os.walk(os.path.join(suite_out, "runs"))):
        if "results.json" not in files or RUN_CONFIG not in files:
            continue
        config = load_run_config(root)
        protocol = "multi" if config.protocol == "multi" else f"{config.source}>{','.join(config.targets)}"
        system = system_name(config.model.preset, config.model.loss)
        found.append((os.path.relpath(root, os.path.join(suite_out, "runs")), root, protocol, system,
                      config.data.normalisation, config.train.seed))
    return found


def summary_entry(entry, folder, protocol, system, normalisation, seed, rescore):
    """Updates `entry` with a finished run's numbers (and its rescorings, once, when `rescore`)."""
    results = json.load(open(os.path.join(folder, "results.json")))
    entry.update({"protocol": protocol, "system": SYSTEMS.get(system, system),
                  "normalisation": normalisation, "seed": seed, "epochs": results["epochs_run"],
                  "val_ua": round(100 * results["best_val_ua"], 2),
                  "test_ua": utterance_ua(results["test"]), "wall_seconds": results["wall_seconds"]})
    if normalisation != "global" and rescore and "test_ua_unadapted" not in entry:
        entry["test_ua_unadapted"] = utterance_ua(unadapted_scores(folder))
        entry[f"test_ua_{ADAPTATION_SECONDS}s"] = utterance_ua(few_seconds_scores(folder, ADAPTATION_SECONDS))
    return entry


def utterance_ua(test):
    return {task: {str(corpus): round(100 * entry["utterance"]["ua"], 2) for corpus, entry in by_corpus.items()}
            for task, by_corpus in test.items()}


def _mean(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.1f}"
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.1f} ± {std:.1f}"


def render(summary: dict) -> str:
    """Markdown tables: per protocol, rows system x normalisation, utterance UA (%) per test corpus and task."""
    lines = []
    protocols = list(dict.fromkeys(entry["protocol"] for entry in summary.values()))
    for protocol in protocols:
        entries = [e for e in summary.values() if e["protocol"] == protocol]
        corpora = sorted({c for e in entries for c in e["test_ua"]["arousal"] if c != "average"})
        title = "multi-corpus protocol" if protocol == "multi" else "cross-corpus, source {} -> target {}".format(
            *protocol.split(">"))
        seeds = sorted({e["seed"] for e in entries})
        lines += [f"### {title}", "",
                  f"Seeds: {', '.join(map(str, seeds))}; epochs: {', '.join(sorted({str(e['epochs']) for e in entries}))}. "
                  "Validation UA: mean over tasks (and validation corpora) of the run's best epoch; it chose the "
                  "epoch and is the number the default was chosen on. Test: utterance-level UA (%). "
                  "'no adapt.': the same model, every test speaker normalised with the training statistics; "
                  f"'{ADAPTATION_SECONDS} s': each test speaker normalised with the statistics of its first "
                  f"{ADAPTATION_SECONDS} s of audio (keras_ser.adaptation, training statistics as the prior).", ""]
        header = ["system", "normalisation", "val UA"] + [f"{t} {c}" for t in ("arousal", "valence") for c in corpora]
        header += [f"{t} {c} {label}" for label in ("no adapt.", f"{ADAPTATION_SECONDS} s")
                   for t in ("arousal", "valence") for c in corpora]
        lines += ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
        for system in dict.fromkeys(e["system"] for e in entries):
            for normalisation in NORMALISATIONS:
                rows = [e for e in entries if e["system"] == system and e["normalisation"] == normalisation]
                if not rows:
                    continue
                cells = [system, normalisation, _mean([e["val_ua"] for e in rows])]
                cells += [_mean([e["test_ua"][t].get(c) for e in rows]) for t in ("arousal", "valence") for c in corpora]
                cells += [_mean([e.get(key, {}).get(t, {}).get(c) for e in rows]) if normalisation != "global" else "="
                          for key in ("test_ua_unadapted", f"test_ua_{ADAPTATION_SECONDS}s")
                          for t in ("arousal", "valence") for c in corpora]
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepared", help="prepared folder holding the corpora (to train)")
    parser.add_argument("--from-runs", help="an experiments suite's --out: rescore its finished runs, train nothing")
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--protocols", default="multi,emodb>emovo,emovo>emodb")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--normalisations", default=",".join(NORMALISATIONS))
    parser.add_argument("--skip-unadapted", action="store_true", help="do not rescore without adaptation")
    parser.add_argument("--tables", action="store_true", help="only print the markdown tables of <out>/summary.json")
    args = parser.parse_args(argv)
    if args.tables:
        print(render(json.load(open(os.path.join(args.out, "summary.json")))))
        return 0
    if not (args.prepared or args.from_runs):
        parser.error("give --prepared (train the grid) or --from-runs (rescore a suite's runs)")
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    summary_path = os.path.join(args.out, "summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}

    def save():
        with open(summary_path, "w") as f:
            json.dump(summary, f, indent=1)

    if args.from_runs:
        for key, folder, protocol, system, normalisation, seed in suite_runs(args.from_runs):
            summary[key] = summary_entry(summary.get(key, {}), folder, protocol, system, normalisation, seed,
                                         not args.skip_unadapted)
            print(f"{key}: {summary[key]['val_ua']} val UA", flush=True)
            save()
        return 0
    for seed in seeds:
        for protocol in args.protocols.split(","):
            for system in args.systems.split(","):
                for normalisation in args.normalisations.split(","):
                    folder = train(args, protocol, system, normalisation, seed, sys.stdout)
                    if not os.path.exists(os.path.join(folder, "results.json")):
                        continue
                    key = os.path.relpath(folder, os.path.join(args.out, "runs"))
                    summary[key] = summary_entry(summary.get(key, {}), folder, protocol, system, normalisation, seed,
                                                 not args.skip_unadapted)
                    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
