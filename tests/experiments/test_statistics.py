"""Cell statistics: UA from confusion matrices, the paired bootstrap over utterances."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix

from keras_ser.experiments.statistics import bootstrap_ua, interval, summarise, ua_from_confusion


def _predictions(labels, predicted, ids=None):
    ids = np.array([f"c/{i}" for i in range(len(labels))]) if ids is None else ids
    return {"ids": ids, "labels": np.asarray(labels), "predicted": np.asarray(predicted)}


def test_ua_from_confusion_is_balanced_accuracy():
    rng = np.random.default_rng(0)
    labels, predicted = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    assert ua_from_confusion(confusion_matrix(labels, predicted, labels=[0, 1])) == pytest.approx(
        balanced_accuracy_score(labels, predicted))
    # A class absent from the test labels does not count (as in scikit-learn).
    assert ua_from_confusion([[0, 0], [3, 7]]) == pytest.approx(0.7)


def test_summary_uses_the_sample_std_over_seeds():
    assert summarise([0.5, 0.7]) == {"mean": pytest.approx(0.6), "std": pytest.approx(np.std([0.5, 0.7], ddof=1)),
                                     "values": [0.5, 0.7]}
    assert summarise([0.5])["std"] is None and summarise([None])["mean"] is None


def test_bootstrap_of_perfect_predictions_is_a_point():
    draws = bootstrap_ua([_predictions([0, 1, 0, 1], [0, 1, 0, 1])], 100, np.random.default_rng(0))
    assert interval(draws) == [1.0, 1.0]


def test_bootstrap_interval_holds_the_seed_mean_and_narrows_with_more_utterances():
    rng = np.random.default_rng(1)

    def width(n):
        labels = rng.integers(0, 2, n)
        seeds = [_predictions(labels, np.where(rng.random(n) < 0.75, labels, 1 - labels)) for _ in range(3)]
        mean = np.mean([balanced_accuracy_score(s["labels"], s["predicted"]) for s in seeds])
        low, high = interval(bootstrap_ua(seeds, 500, np.random.default_rng(0)))
        assert low <= mean <= high
        return high - low

    assert width(1000) < width(50)


def test_bootstrap_pairs_seeds_by_utterance_id():
    labels = np.array([0, 1, 0, 1])
    first = _predictions(labels, [0, 1, 0, 1])
    # The same predictions listed in another order: identical draws.
    order = np.array([3, 2, 1, 0])
    second = _predictions(labels[order], np.array([0, 1, 0, 1])[order], first["ids"][order])
    one = bootstrap_ua([first, first], 50, np.random.default_rng(0))
    two = bootstrap_ua([first, second], 50, np.random.default_rng(0))
    np.testing.assert_allclose(one, two)
