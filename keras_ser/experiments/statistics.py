"""Numbers of a table cell: UA over seeds and a bootstrap interval.

A cell is the utterance-level UA (%) of one system on one corpus: mean and
sample standard deviation over seeds. With speaker folds, each seed's UA is
computed from the utterances of all folds pooled (every utterance is tested
once per seed), i.e. from the summed confusion matrices.

The 95 % interval is a percentile bootstrap over test *utterances*: the
corpus's utterances are resampled with replacement (B times, numpy, seed 0),
the same resample for every seed (seeds share the test set), and the
statistic is recomputed: the seed-mean UA. The Average column resamples each
corpus independently and averages the corpora. The interval therefore shows
how much the test set's finite size moves the mean; the ± std shows the
spread over training seeds.
"""

from typing import Dict, List, Optional

import numpy as np


def ua_from_confusion(confusion) -> float:
    """Mean recall over the classes present (scikit-learn's balanced accuracy)."""
    confusion = np.asarray(confusion, dtype=float)
    support = confusion.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(confusion)[present] / support[present])) if present.any() else float("nan")


def summarise(values: List[float]) -> Dict[str, Optional[float]]:
    values = [v for v in values if v is not None and not np.isnan(v)]
    if not values:
        return {"mean": None, "std": None, "values": []}
    # One seed has no spread: std is undefined (None), not zero.
    return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else None,
            "values": [float(v) for v in values]}


def bootstrap_ua(per_seed: List[Dict[str, np.ndarray]], resamples: int, rng) -> np.ndarray:
    """Seed-mean UA of `resamples` bootstrap resamples of the utterances.

    `per_seed`: one {"ids", "labels", "predicted"} per seed; utterances are
    aligned by id (those every seed tested).
    """
    common = sorted(set.intersection(*[set(p["ids"].tolist()) for p in per_seed]))
    if not common:
        return np.full(resamples, np.nan)
    labels, correct = None, []
    for p in per_seed:
        order = {u: i for i, u in enumerate(p["ids"].tolist())}
        index = np.array([order[u] for u in common])
        labels = p["labels"][index]
        correct.append(p["predicted"][index] == labels)
    correct = np.stack(correct)  # (seeds, utterances)
    draws = rng.integers(0, len(common), size=(resamples, len(common)))
    drawn_labels = labels[draws]  # (B, n)
    recalls = []
    for c in np.unique(labels):
        of_class = drawn_labels == c
        support = of_class.sum(axis=1)  # (B,)
        hits = (correct[:, draws] & of_class[None]).sum(axis=2)  # (seeds, B)
        with np.errstate(invalid="ignore", divide="ignore"):
            recalls.append(np.where(support > 0, hits / np.maximum(support, 1), np.nan))
    ua = np.nanmean(np.stack(recalls), axis=0)  # (seeds, B): mean over classes drawn
    return ua.mean(axis=0)


def interval(draws: np.ndarray, level: float = 0.95) -> Optional[List[float]]:
    draws = draws[~np.isnan(draws)]
    if draws.size == 0:
        return None
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))]
