"""report.json (every number) and report.md (the paper's table layout) of a suite.

Tables: one per protocol group and task; rows are the suite's systems (model
and loss), columns the test corpora and their average; cells are UA (%) mean
± std over seeds with the bootstrap 95 % interval (see
keras_ser.experiments.statistics); the best mean of each column is in bold.
The invariance table puts the probe accuracies (lower = more invariant; the
lowest is in bold) next to the average UA.

The paper's own numbers (keras_ser/configs/suites/paper_reference.yaml, empty
until a user copies them from the paper) are rendered as extra rows "<system>
[paper]" when that file has values for the group and task and its corpora are
exactly the corpora of the suite's data.
"""

import json
import os
from typing import Dict, List, Optional

import numpy as np

from keras_ser.config import load_yaml
from keras_ser.experiments.statistics import bootstrap_ua, interval, summarise, ua_from_confusion
from keras_ser.reporting import markdown_table
from keras_ser.io import atomic_write_text

PAPER_REFERENCE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs", "suites", "paper_reference.yaml")
PROBE_LABELS = ("corpus", "language", "gender")


def group_tables(group, specs, results: Dict[str, dict], analyses: Dict[str, dict], tasks: List[str],
                 variants: List[str], resamples: int) -> dict:
    """{task: {variant: {corpus | "average": cell}}} for one group; cell = mean, std, values, ci (fractions)."""
    tables = {}
    for task in tasks:
        tables[task] = {}
        for variant in variants:
            # The runs that trained this task (all of them, unless the suite trains each task alone).
            runs = [s for s in specs if s.group == group.key and s.variant == variant and task in s.config.tasks]
            seeds = sorted({s.seed for s in runs})
            per_corpus, draws = {}, {}
            for corpus in group.test_corpora:
                per_seed, predictions = [], []
                for seed in seeds:
                    folds = [s for s in runs if s.seed == seed]
                    confusions = [results[s.out]["test"].get(task, {}).get(corpus, {}).get("utterance", {}).get("confusion")
                                  for s in folds]
                    confusions = [np.asarray(c) for c in confusions if c is not None]
                    per_seed.append(ua_from_confusion(sum(confusions)) if confusions else None)
                    predictions.append(_corpus_predictions([analyses[s.out]["predictions"].get(task) for s in folds], corpus))
                per_corpus[corpus] = per_seed
                if all(p is not None and p["ids"].size for p in predictions):
                    draws[corpus] = bootstrap_ua(predictions, resamples, np.random.default_rng(0))
            cells = {}
            for corpus, values in per_corpus.items():
                cells[corpus] = {**summarise(values), "ci": interval(draws[corpus]) if corpus in draws else None}
            complete = [c for c in group.test_corpora if all(v is not None for v in per_corpus[c])]
            averages = [float(np.mean([per_corpus[c][i] for c in complete])) for i in range(len(seeds))] if complete else []
            average_draws = np.mean([draws[c] for c in complete if c in draws], axis=0) if complete and all(
                c in draws for c in complete) else None
            cells["average"] = {**summarise(averages), "ci": interval(average_draws) if average_draws is not None else None,
                                "corpora": complete}
            tables[task][variant] = cells
    return tables


def _corpus_predictions(per_fold: List[Optional[dict]], corpus: str) -> Optional[dict]:
    if any(p is None for p in per_fold):
        return None
    keep = [np.char.startswith(p["ids"].astype(str), corpus + "/") for p in per_fold]
    return {key: np.concatenate([p[key][k] for p, k in zip(per_fold, keep)]) for key in ("ids", "labels", "predicted")}


def invariance_table(group, specs, analyses: Dict[str, dict], variants: List[str]) -> dict:
    """{variant: {label: {mean, std, values, chance}}}: probe accuracy over seeds (folds averaged)."""
    table = {}
    for variant in variants:
        runs = [s for s in specs if s.group == group.key and s.variant == variant]
        table[variant] = {}
        for label in PROBE_LABELS:
            per_seed, chances = [], []
            for seed in sorted({s.seed for s in runs}):
                probes = [analyses[s.out]["probe"][label] for s in runs if s.seed == seed]
                accuracies = [p["accuracy"] for p in probes if p.get("accuracy") is not None]
                chances += [p["chance"] for p in probes if p.get("accuracy") is not None]
                per_seed.append(float(np.mean(accuracies)) if accuracies else None)
            table[variant][label] = {**summarise(per_seed), "chance": float(np.mean(chances)) if chances else None}
    return table


def best_rows(table: Dict[str, dict], lowest: bool = False) -> Dict[str, str]:
    """column -> the row with the best mean (highest UA, or lowest probe accuracy)."""
    best: Dict[str, str] = {}
    columns = {c for cells in table.values() for c in cells}
    for column in columns:
        scored = [(cells[column]["mean"], row) for row, cells in table.items()
                  if column in cells and cells[column].get("mean") is not None]
        if scored:
            best[column] = (min if lowest else max)(scored, key=lambda pair: pair[0])[1]
    return best


def load_paper_reference(path: Optional[str]) -> dict:
    """The user-filled paper numbers, or {} when absent or empty."""
    if not path or not os.path.exists(path):
        return {}
    reference = load_yaml(path)
    return reference if reference.get("tables") else {}


def paper_rows(reference: dict, corpora: List[str], group_key: str, task: str) -> Dict[str, Dict[str, float]]:
    """system -> column -> UA (%) from the reference, when it applies to these corpora.

    With exactly the paper's corpora every column is shown; with some of them
    only the shared corpora's columns (the paper's average is over others).
    """
    paper_corpora = reference.get("corpora", []) if reference else []
    shared = set(paper_corpora) & set(corpora)
    if not shared:
        return {}
    rows = (reference["tables"].get(group_key) or {}).get(task) or {}
    if sorted(paper_corpora) == sorted(corpora):
        return rows
    return {system: {c: v for c, v in cells.items() if c in shared} for system, cells in rows.items()
            if any(cells.get(c) is not None for c in shared)}


def _cell(cell: dict) -> str:
    if cell is None or cell.get("mean") is None:
        return "-"
    text = f"{100 * cell['mean']:.2f}" + ("" if cell.get("std") is None else f" ± {100 * cell['std']:.2f}")
    if cell.get("ci"):
        text += f" [{100 * cell['ci'][0]:.1f}, {100 * cell['ci'][1]:.1f}]"
    return text


def _column_name(corpus: str) -> str:
    return "Average" if corpus == "average" else corpus


def render_markdown(report: dict, reference: dict) -> str:
    lines = [f"# Suite `{report['suite']['name']}`", ""]
    if report["suite"]["description"]:
        lines += [report["suite"]["description"], ""]
    data = report["data"]
    lines += [
        f"- data: {data['description']} (corpora: {', '.join(data['corpora'])}; prepared: `{data['prepared']}`)",
        f"- seeds: {', '.join(map(str, report['seeds']))}; speaker folds: {report['folds'] or 'none (one speaker split)'}; "
        f"runs: {len(report['runs'])} ({_status_counts(report['runs'])})"
        + ("; one network per task (each task trained alone)"
           if report["suite"].get("task_models") == "per_task" else ""),
        f"- cells: utterance-level UA (%) mean ± std over seeds [95 % bootstrap interval over test utterances, "
        f"{report['suite']['analysis']['bootstrap']} resamples, paired across seeds]; **bold** = best mean in the column",
    ]
    if report.get("normalisation"):
        lines.append("- feature normalisation of each row: " + "; ".join(
            f"{variant}: {', '.join(modes)}" for variant, modes in report["normalisation"].items()))
    lines.append("")
    if reference and not report["paper_reference_used"]:
        lines += [f"Paper numbers ({reference.get('source', 'paper_reference.yaml')}) not shown: they are for the "
                  f"corpora {', '.join(reference.get('corpora', []))}.", ""]
    if reference and report["paper_reference_used"] and sorted(reference.get("corpora", [])) != sorted(data["corpora"]):
        lines += [f"Rows marked [paper] ({reference.get('source', 'paper_reference.yaml')}) show only the corpora "
                  f"these runs share with the paper ({', '.join(sorted(set(reference['corpora']) & set(data['corpora'])))}); "
                  "the paper's average is over its own corpora and is left out.", ""]
    if reference and report["paper_reference_used"] and data["synthetic"]:
        lines += ["Note: rows marked [paper] are the paper's results on the real corpora; these runs use the "
                  "synthetic stand-ins of the same names.", ""]
    for key, group in report["groups"].items():
        lines += [f"## {group['title']}", ""]
        columns = [_column_name(c) for c in group["columns"]]
        for task, table in group["tables"].items():
            rows, bold = {}, {}
            best = best_rows(table)
            paper = paper_rows(reference, data["corpora"], key, task)
            for variant, cells in table.items():
                rows[variant] = {_column_name(c): _cell(cell) for c, cell in cells.items()}
                if variant in paper:
                    rows[f"{variant} [paper]"] = {_column_name(c): ("-" if v is None else f"{float(v):.2f}")
                                                  for c, v in paper[variant].items()}
            bold = {_column_name(c): row for c, row in best.items()}
            lines += [markdown_table(f"{task.capitalize()} UA (%)", rows, columns, bold), ""]
        lines += _invariance_markdown(group), ""
        lines += _plots_markdown(group)
    return "\n".join(lines).rstrip() + "\n"


def _invariance_markdown(group: dict) -> str:
    table = group["invariance"]
    tasks = list(group["tables"])
    columns = [f"{t.capitalize()} UA avg" for t in tasks] + [f"{label} probe acc" for label in PROBE_LABELS]
    rows = {}
    for variant, probes in table.items():
        cells = {f"{t.capitalize()} UA avg": _cell(group["tables"][t][variant]["average"]).split(" [")[0] for t in tasks}
        for label in PROBE_LABELS:
            p = probes[label]
            cells[f"{label} probe acc"] = "n/a" if p["mean"] is None else (f"{100 * p['mean']:.1f}" + ("" if p.get("std") is None else f" ± {100 * p['std']:.1f}"))
        rows[variant] = cells
    bold = {f"{label} probe acc": row for label, row in best_rows(table, lowest=True).items()}
    bold.update({f"{t.capitalize()} UA avg": row for t in tasks
                 for c, row in best_rows({v: {"average": group["tables"][t][v]["average"]} for v in table}).items()})
    chance = ", ".join(f"{label} {100 * next(iter(table.values()))[label]['chance']:.1f}"
                       for label in PROBE_LABELS if next(iter(table.values()))[label]["chance"] is not None)
    note = ("Probe: LogisticRegression on frozen embeddings of training-side speakers, accuracy (%) on test "
            "speakers' segments; lower = more invariant (bold = lowest). "
            f"Majority-class rate of the probe's test side: {chance or 'n/a'}.")
    return markdown_table("Invariance of the emotion embedding", rows, columns, bold) + "\n\n" + note


def _plots_markdown(group: dict) -> List[str]:
    plots = group["plots"]
    lines = ["**Plots**", ""]
    lines += [f"- training curves, {variant}: [{os.path.basename(path)}]({path})" for variant, path in plots["curves"].items()]
    lines += [f"- confusion matrices, {task}: [{os.path.basename(path)}]({path})" for task, path in plots["confusion"].items()]
    if plots.get("embeddings"):
        lines += [f"- embeddings: [{os.path.basename(plots['embeddings'])}]({plots['embeddings']})", "",
                  f"![embeddings]({plots['embeddings']})"]
    for task, path in plots["confusion"].items():
        lines += ["", f"![confusion {task}]({path})"]
    return lines + [""]


def _status_counts(runs: List[dict]) -> str:
    counts: Dict[str, int] = {}
    for run in runs:
        counts[run["status"]] = counts.get(run["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def write_report(out: str, report: dict, reference: dict) -> None:
    for name, text in (("report.json", json.dumps(report, indent=1, default=_json_default)),
                       ("report.md", render_markdown(report, reference))):
        atomic_write_text(os.path.join(out, name), text)


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
