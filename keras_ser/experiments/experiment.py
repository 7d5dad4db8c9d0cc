"""One suite end to end: data -> planned runs -> training (cached) -> analysis -> plots -> report."""

import dataclasses
import json
import os
import time
from typing import Dict, Optional

from keras_ser.config import FitConfig, from_dict, merge
from keras_ser.experiments import plots
from keras_ser.experiments.analysis import analyse_run
from keras_ser.experiments.plan import make_groups, plan_runs
from keras_ser.experiments.report import (
    PAPER_REFERENCE,
    group_tables,
    invariance_table,
    load_paper_reference,
    paper_rows,
    write_report,
)
from keras_ser.experiments.runner import run_all
from keras_ser.experiments.suite import Suite


def resolve_data(overrides: Dict, verbose: bool = True):
    """Prepares (or finds) the data once for every run; returns (prepared corpora, description, synthetic)."""
    from keras_ser.data import adopt_prepared_features, resolve_prepared

    config = adopt_prepared_features(from_dict(FitConfig, merge(overrides, {"out": "unused"})).validate())
    data = config.data
    synthetic = not data.corpora and not data.prepared
    if synthetic:
        description = f"synthetic corpora, scale {data.synthetic_scale}, seed {data.synthetic_seed}"
    elif data.corpora:
        description = "corpora " + ", ".join(f"{k}: {v}" for k, v in sorted(data.corpora.items()))
    else:
        description = f"prepared folder {data.prepared}"
    if verbose:
        print(f"data: {description}", flush=True)
    return resolve_prepared(config, verbose=verbose), description, synthetic


def run_suite(suite: Suite, out: str, overrides: Optional[Dict] = None, seeds: Optional[int] = None,
              folds: Optional[int] = None, task: Optional[str] = None, sources=None,
              paper_reference: Optional[str] = PAPER_REFERENCE, synthetic: Optional[bool] = None,
              verbose: bool = True, fit=None) -> dict:
    """Runs what is missing of `suite` into `out` and writes out/report.{md,json}; returns the report.

    `overrides`: FitConfig settings from the command line (data, epochs, batch
    size); `seeds`, `folds`, `task` and `sources` replace the suite's values;
    `synthetic` says the data are synthetic stand-ins when that cannot be
    inferred (a --data file written by keras_ser.synth).
    """
    started = time.time()
    out = os.path.abspath(out)
    os.makedirs(os.path.join(out, "plots"), exist_ok=True)
    overrides = dict(overrides or {})
    seeds = seeds or suite.seeds
    folds = suite.folds if folds is None else folds
    tasks = [task] if task and task != "both" else list(suite.tasks)
    run_task = tasks[0] if len(tasks) == 1 else "both"

    prepared, description, is_synthetic = resolve_data(merge(suite.base, overrides), verbose)
    # Every run reads the folder prepared above instead of resolving the data again.
    overrides = merge(overrides, {"data": {"prepared": prepared.root, "corpora": {}},
                                  "features": dataclasses.asdict(prepared.features)})
    groups = make_groups(suite, prepared.corpora, sources)
    specs = plan_runs(suite, groups, out, overrides, seeds, folds, run_task)
    if verbose:
        print(f"suite {suite.name}: {len(specs)} runs ({len(groups)} protocol group(s) x {len(suite.variants)} "
              f"systems x {seeds} seed(s){f' x {folds} folds' if folds else ''})", flush=True)
    records = run_all(specs, verbose=verbose, fit=fit)

    results, analyses = {}, {}
    for spec in specs:
        with open(os.path.join(spec.out, "results.json"), encoding="utf-8") as f:
            results[spec.out] = json.load(f)
        analyses[spec.out] = analyse_run(spec.out, suite.analysis["embedding_samples"], suite.analysis["probe_samples"],
                                         seed=spec.seed)
    normalisation = {spec.out: spec.config.data.normalisation for spec in specs}
    for record in records:
        record["wall_seconds"] = results[record["out"]].get("wall_seconds")
        record["normalisation"] = normalisation[record["out"]]

    reference = load_paper_reference(paper_reference)
    variants = [v.name for v in suite.variants]
    report = {
        "suite": suite.to_dict(),
        "data": {"description": description, "corpora": prepared.corpora, "prepared": prepared.root,
                 "synthetic": bool(synthetic if synthetic is not None else is_synthetic)},
        "seeds": sorted({s.seed for s in specs}), "folds": folds, "tasks": tasks,
        "runs": records, "groups": {}, "paper_reference_used": False,
        # Feature normalisation of each row (pipelines.normalisation).
        "normalisation": {v: sorted({s.config.data.normalisation for s in specs if s.variant == v}) for v in variants},
    }
    for group in groups:
        tables = group_tables(group, specs, results, analyses, tasks, variants, suite.analysis["bootstrap"])
        report["groups"][group.key] = {
            "title": group.title, "protocol": group.protocol, "source": group.source, "targets": group.targets,
            "columns": group.test_corpora + ["average"], "tables": tables,
            "invariance": invariance_table(group, specs, analyses, variants),
            "plots": group_plots(suite, group, specs, results, analyses, tasks, out),
            "probe_speakers": {s.variant: analyses[s.out]["probe"]["speakers"] for s in specs if s.group == group.key},
        }
        if any(paper_rows(reference, prepared.corpora, group.key, t) for t in tasks):
            report["paper_reference_used"] = True
    report["paper_reference"] = reference or None
    report["wall_seconds"] = round(time.time() - started, 1)
    write_report(out, report, reference)
    if verbose:
        print(f"report: {os.path.join(out, 'report.md')}", flush=True)
    return report


def group_plots(suite: Suite, group, specs, results, analyses, tasks, out: str) -> dict:
    """Writes the group's PNGs; returns their paths relative to `out`."""
    runs = [s for s in specs if s.group == group.key]
    first_seed = min(s.seed for s in runs)
    first = {s.variant: s for s in runs if s.seed == first_seed and s.fold in (None, 0)}
    paths = {"curves": {}, "confusion": {}, "embeddings": None}
    for variant in suite.variants:
        histories = {}
        for spec in (s for s in runs if s.variant == variant.name and s.fold in (None, 0)):
            with open(os.path.join(spec.out, "history.json"), encoding="utf-8") as f:
                label = f"seed {spec.seed}" + (f", {spec.config.task}" if suite.task_models == "per_task" else "")
                histories[label] = json.load(f)
        name = f"plots/{group.key}-{variant.slug}-curves.png"
        plots.training_curves(histories, f"{group.key}: {variant.name}", os.path.join(out, name))
        paths["curves"][variant.name] = name
    for task in tasks:
        matrices = {}
        for variant in suite.variants:
            summed = {}
            for spec in (s for s in runs if s.variant == variant.name):
                for corpus, entry in results[spec.out]["test"].get(task, {}).items():
                    if corpus != "average":
                        confusion = entry["utterance"]["confusion"]
                        summed[corpus] = confusion if corpus not in summed else [
                            [a + b for a, b in zip(r1, r2)] for r1, r2 in zip(summed[corpus], confusion)]
            matrices[variant.name] = summed
        name = f"plots/{group.key}-{task}-confusion.png"
        plots.confusion_grid(matrices, ["low", "high"] if task == "arousal" else ["negative", "positive"],
                             f"{group.key}, {task}: utterance-level confusion (summed over seeds and folds)",
                             os.path.join(out, name))
        paths["confusion"][task] = name
    maps = {}
    for variant in suite.compare:
        sample = analyses[first[variant].out]["sample"]
        maps[variant] = {"points": plots.project(sample["embedding"], suite.analysis["embedding"]), "labels": sample}
    name = f"plots/{group.key}-embeddings.png"
    plots.embedding_maps(maps, suite.analysis["embedding"], f"{group.key}, seed {first_seed}", os.path.join(out, name))
    paths["embeddings"] = name
    return paths
