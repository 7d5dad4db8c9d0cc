"""Utterance-level UA on hand-computed posteriors: mean posterior per utterance, argmax,
balanced accuracy per corpus, then the average over corpora."""

import warnings

import numpy as np
import pytest

from keras_ser.evaluation import mean_utterance_ua, score

# (utterance, label, weight, segment posteriors), listed out of order on purpose:
# an utterance's segments are grouped by id, not by position.
SEGMENTS = [
    # a/u1, high: two segments lean high, one is confidently low. Mean high
    # posterior (0.6 + 0.6 + 0.1) / 3 = 0.43 -> low (a majority vote would say high).
    ("a/u1", 1, 1.0, [0.4, 0.6]),
    ("b/u2", 0, 1.0, [0.45, 0.55]),
    ("a/u2", 0, 1.0, [0.8, 0.2]),
    ("a/u1", 1, 1.0, [0.4, 0.6]),
    # a/u3, low: mean (0.45, 0.55) -> high, wrong.
    ("a/u3", 0, 1.0, [0.3, 0.7]),
    ("b/u1", 1, 1.0, [0.1, 0.9]),
    ("a/u4", 1, 1.0, [0.2, 0.8]),
    ("a/u1", 1, 1.0, [0.9, 0.1]),
    # b/u3 carries no label for the task (unlabelled target audio): it must not count,
    # although its posterior would be a wrong prediction.
    ("b/u3", 0, 0.0, [0.0, 1.0]),
    ("a/u5", 0, 1.0, [0.7, 0.3]),
    ("a/u3", 0, 1.0, [0.6, 0.4]),
    # b/u2, low: mean (0.55, 0.45) -> low, right (its first segment alone is wrong).
    ("b/u2", 0, 1.0, [0.65, 0.35]),
    ("b/u4", 0, 1.0, [0.2, 0.8]),
]

# Corpus a, utterances u1..u5: labels 1 0 0 1 0, predicted 0 0 1 1 0.
#   recall(low) = 2/3 (u2, u5 of u2, u3, u5), recall(high) = 1/2 (u4 of u1, u4)
#   UA = (2/3 + 1/2) / 2 = 7/12; WA = 3/5; confusion [[2, 1], [1, 1]].
# Corpus b, utterances u1, u2, u4 (u3 unlabelled): labels 1 0 0, predicted 1 0 1.
#   recall(low) = 1/2, recall(high) = 1 -> UA = 3/4; WA = 2/3; confusion [[1, 1], [0, 1]].
# Average over corpora: (7/12 + 3/4) / 2 = 2/3.
# Segment level, corpus a (8 segments): high 3/4 right, low 3/4 right -> UA 3/4.


def _predictions():
    ids, labels, weights, posteriors = zip(*SEGMENTS)
    return {
        "utterance": np.array([i.encode() for i in ids]),
        "arousal_probability": np.array(posteriors, "float32"),
        "arousal_label": np.array(labels, "int32"),
        "arousal_weight": np.array(weights, "float32"),
    }


def test_utterance_ua_is_the_balanced_accuracy_of_mean_posteriors_per_corpus():
    results = score(_predictions(), ["arousal"])["arousal"]
    assert list(results) == ["a", "b", "average"]
    a, b = results["a"]["utterance"], results["b"]["utterance"]
    assert a["ua"] == pytest.approx(7 / 12) and a["wa"] == pytest.approx(3 / 5)
    assert a["confusion"] == [[2, 1], [1, 1]] and a["count"] == 5
    assert b["ua"] == pytest.approx(3 / 4) and b["wa"] == pytest.approx(2 / 3)
    assert b["confusion"] == [[1, 1], [0, 1]] and b["count"] == 3
    assert results["average"]["utterance"]["ua"] == pytest.approx(2 / 3)
    assert results["a"]["segment"]["ua"] == pytest.approx(3 / 4) and results["a"]["segment"]["count"] == 8
    # The early-stopping objective averages the same per-corpus values.
    assert mean_utterance_ua({"arousal": results}) == pytest.approx(2 / 3)


def test_segment_order_does_not_change_the_scores():
    predictions = _predictions()
    order = np.random.default_rng(0).permutation(len(SEGMENTS))
    shuffled = {key: value[order] for key, value in predictions.items()}
    assert score(shuffled, ["arousal"]) == score(predictions, ["arousal"])


@pytest.mark.parametrize("seed", range(6))
def test_ua_and_wa_equal_scikit_learns_balanced_and_plain_accuracy(seed):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    from keras_ser.evaluation import _scores

    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 40))
    # Seeds 4 and 5: one class only among the labels (its recall alone is the UA).
    labels = rng.integers(0, 2, size) if seed < 4 else np.full(size, seed - 4)
    predicted = rng.integers(0, 2, size)
    scores = _scores(labels, predicted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a predicted class absent from the labels
        assert scores["ua"] == float(balanced_accuracy_score(labels, predicted))
    assert scores["wa"] == float(accuracy_score(labels, predicted))
    assert scores["count"] == size and sum(map(sum, scores["confusion"])) == size
