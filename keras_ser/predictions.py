"""What a finished run leaves to look at: predictions.csv and PNG plots.

predictions.csv has one row per test utterance: corpus, speaker, utterance
id, segment count and, per task, the true label, the predicted label and its
probability. The prediction is the paper's utterance-level decision (argmax
of the mean segment posterior), the same one `keras_ser.evaluation.score`
counts, so the file reproduces results.json's confusion matrices. A true
label is empty where the utterance has none for that task (unlabelled
target-domain audio, an emotion outside the binary map).

plots/curves.png: the training curves (loss terms, head accuracies,
validation UA per epoch); plots/<task>-confusion.png: the utterance-level
confusion matrix of each test corpus.
"""

import csv
import os
from typing import Dict, List

import numpy as np

from keras_ser.export import CLASS_NAMES
from keras_ser.io import atomic_write_text

PREDICTIONS = "predictions.csv"
PLOTS = "plots"


def utterance_rows(predictions: Dict[str, np.ndarray], tasks: List[str], speakers: Dict[str, str]) -> List[dict]:
    """Segment predictions (`keras_ser.evaluation.collect_predictions`) -> one row per utterance.

    `speakers` maps "<corpus>/<utterance_id>" to the speaker (from the prepared manifest).
    """
    ids, inverse = np.unique(predictions["utterance"], return_inverse=True)
    counts = np.bincount(inverse, minlength=ids.shape[0])
    columns = {}
    for task in tasks:
        probabilities = np.zeros((ids.shape[0], len(CLASS_NAMES[task])))
        np.add.at(probabilities, inverse, predictions[f"{task}_probability"])
        labelled = np.zeros(ids.shape[0], bool)
        labelled[inverse[predictions[f"{task}_weight"] > 0]] = True
        labels = np.zeros(ids.shape[0], int)
        labels[inverse] = predictions[f"{task}_label"]
        columns[task] = (probabilities / counts[:, None], labelled, labels)
    rows = []
    for index, key in enumerate(ids):
        key = key.decode() if isinstance(key, bytes) else str(key)
        corpus, _, utterance_id = key.partition("/")
        row = {"corpus": corpus, "speaker": speakers.get(key, ""), "utterance_id": utterance_id,
               "segments": int(counts[index])}
        for task in tasks:
            mean, labelled, labels = columns[task]
            predicted = int(np.argmax(mean[index]))
            row[f"{task}_true"] = CLASS_NAMES[task][labels[index]] if labelled[index] else ""
            row[f"{task}_predicted"] = CLASS_NAMES[task][predicted]
            row[f"{task}_probability"] = round(float(mean[index][predicted]), 4)
        rows.append(row)
    return rows


def write_predictions(path: str, rows: List[dict], tasks: List[str]) -> str:
    import io

    columns = ["corpus", "speaker", "utterance_id", "segments"]
    columns += [f"{task}_{kind}" for task in tasks for kind in ("true", "predicted", "probability")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())
    return path


def read_predictions(path: str, tasks: List[str]) -> Dict[str, dict]:
    """{task: {"ids", "labels", "predicted"}} of the labelled utterances of a predictions.csv written by
    `write_predictions` (as `keras_ser.experiments.analysis.predicted_utterances` gives them)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    predictions = {}
    for task in tasks:
        labelled = [r for r in rows if r[f"{task}_true"]]
        names = CLASS_NAMES[task]
        predictions[task] = {"ids": np.array([f"{r['corpus']}/{r['utterance_id']}" for r in labelled], dtype=str),
                             "labels": np.array([names.index(r[f"{task}_true"]) for r in labelled], np.int64),
                             "predicted": np.array([names.index(r[f"{task}_predicted"]) for r in labelled], np.int64)}
    return predictions


def write_plots(folder: str, history: List[dict], test: dict, system: str) -> Dict[str, str]:
    """Training curves and per-corpus confusion matrices as PNGs in `folder`; returns {name: path}."""
    from keras_ser.experiments import plots

    os.makedirs(folder, exist_ok=True)
    written = {"curves": plots.training_curves({"run": history}, system, os.path.join(folder, "curves.png"))}
    for task, by_corpus in test.items():
        matrices = {corpus: entry["utterance"]["confusion"] for corpus, entry in by_corpus.items()
                    if corpus != "average"}
        if matrices:
            written[f"{task}-confusion"] = plots.confusion_grid(
                {system: matrices}, list(CLASS_NAMES[task]), f"{system}, {task}: utterance-level confusion (test)",
                os.path.join(folder, f"{task}-confusion.png"))
    return written


def speakers_of(prepared_root: str) -> Dict[str, str]:
    """"<corpus>/<utterance_id>" -> speaker, from a prepared folder's manifest."""
    with open(os.path.join(prepared_root, "manifest.csv"), newline="", encoding="utf-8") as f:
        return {f"{row['corpus']}/{row['utterance_id']}": row["speaker"] for row in csv.DictReader(f)
                if row["status"] == "ok"}
