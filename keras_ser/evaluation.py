"""Unweighted accuracy per corpus, at segment and at utterance level.

Utterance level: the segment posteriors of an utterance are averaged and the
argmax of the mean is the utterance's prediction (the paper's protocol).
UA = mean of per-class recalls (scikit-learn's balanced accuracy); WA = plain
accuracy.
"""

import collections
from typing import Callable, Dict, List

import numpy as np
from sklearn.metrics import confusion_matrix


def inference_function(inference_model) -> Callable:
    """The Keras inference model as one traced graph for every batch size.

    The input signature leaves the batch dimension open, so a partial last
    batch reuses the graph (shape-based retracing would trace it twice);
    autograph=False: a Keras model needs no conversion, which costs seconds
    per trace.
    """
    import tensorflow as tf

    spec = tf.TensorSpec((None, *inference_model.inputs[0].shape[1:]), inference_model.inputs[0].dtype)
    return tf.function(lambda x: inference_model(x, training=False), input_signature=[spec], autograph=False)


def collect_predictions(inference_model, dataset, tasks: List[str]) -> Dict[str, np.ndarray]:
    """Runs a Keras inference model over an evaluation dataset (x, labels, weights)."""
    return predictions_of(inference_function(inference_model), dataset, tasks)


def predictions_of(predict: Callable, dataset, tasks: List[str]) -> Dict[str, np.ndarray]:
    """The columns `score` reads, from any `predict` ((batch, 32, 129, 1) -> {task: (batch, 2)}):
    a Keras model, or an exported model's `segments` signature."""
    columns = collections.defaultdict(list)
    for x, labels, weights in dataset:
        probabilities = predict(x)
        columns["utterance"].append(labels["utterance"].numpy())
        for task in tasks:
            columns[f"{task}_probability"].append(np.asarray(probabilities[task]))
            columns[f"{task}_label"].append(labels[task].numpy())
            columns[f"{task}_weight"].append(weights[task].numpy())
    return {key: np.concatenate(values) for key, values in columns.items()}


def _scores(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """UA and WA read off one confusion matrix (what balanced_accuracy_score and
    accuracy_score compute, without their input checks: 3x faster validation scoring).
    UA averages the recalls of the classes present in `labels`."""
    confusion = confusion_matrix(labels, predicted, labels=[0, 1])
    support = confusion.sum(axis=1)
    present = support > 0
    return {
        "ua": float(np.mean(np.diag(confusion)[present] / support[present])),
        "wa": float(np.trace(confusion) / confusion.sum()),
        "confusion": confusion.tolist(),
        "count": int(labels.shape[0]),
    }


def utterance_posteriors(utterances: np.ndarray, probabilities: np.ndarray, labels: np.ndarray):
    """Mean posterior per utterance; returns (ids, mean probabilities, labels)."""
    ids, inverse = np.unique(utterances, return_inverse=True)
    sums = np.zeros((ids.shape[0], probabilities.shape[1]))
    np.add.at(sums, inverse, probabilities)
    counts = np.bincount(inverse, minlength=ids.shape[0])[:, None]
    utterance_labels = np.zeros(ids.shape[0], dtype=labels.dtype)
    utterance_labels[inverse] = labels
    return ids, sums / counts, utterance_labels


def score(predictions: Dict[str, np.ndarray], tasks: List[str]) -> dict:
    """{task: {corpus: {"utterance": {...}, "segment": {...}}}} for labelled samples."""
    results: dict = {}
    corpora = np.array([u.split(b"/", 1)[0].decode() for u in predictions["utterance"]])
    for task in tasks:
        keep = predictions[f"{task}_weight"] > 0
        results[task] = {}
        for corpus in sorted(set(corpora[keep])):
            mask = keep & (corpora == corpus)
            probabilities = predictions[f"{task}_probability"][mask]
            labels = predictions[f"{task}_label"][mask]
            _, mean, utterance_labels = utterance_posteriors(predictions["utterance"][mask], probabilities, labels)
            results[task][corpus] = {
                "utterance": _scores(utterance_labels, mean.argmax(axis=1)),
                "segment": _scores(labels, probabilities.argmax(axis=1)),
            }
        if results[task]:
            results[task]["average"] = {
                level: {"ua": float(np.mean([v[level]["ua"] for v in results[task].values()]))}
                for level in ("utterance", "segment")
            }
    return results


def mean_utterance_ua(results: dict) -> float:
    """The early-stopping and tuning objective: mean utterance UA over tasks and corpora."""
    values = [r["utterance"]["ua"] for task in results.values() for c, r in task.items() if c != "average"]
    return float(np.mean(values)) if values else 0.0
