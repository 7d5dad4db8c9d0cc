"""The training objective (paper eq. 1, 2, 6) as a function of one batch's model outputs.

    L = sum_t [lambda * CE_t + (1 - lambda) * Center_t] + sum_d CE_d

gamma is not an argument: it enters only through the gradient reversal layer,
which hands the feature extractor -gamma times the domain terms' gradient. The
domain heads themselves minimise CE_d unscaled.
"""

from typing import Callable, Dict, List

import keras
import tensorflow as tf


def objective_terms(outputs: Dict, labels: Dict, weights: Dict, tasks: List[str], center_tasks: List[str],
                    heads: List[str], lambda_: float, count: Callable) -> Dict[str, tf.Tensor]:
    """Every loss term and their sum ("total") for one (replica's) batch.

    Each term is sum_i w_i * loss_i / count(w): a sample of weight 0 (no label
    for that head) adds nothing to the value or the gradient. `count` gives the
    normaliser; under a strategy it is the global labelled count, so replica
    gradients sum to the one-replica gradient of the global batch.
    """
    terms = {}
    total = 0.0
    for task in tasks:
        w = weights[task]
        normaliser = count(w)
        terms[f"{task}_softmax"] = _weighted_cross_entropy(labels[task], outputs[task], w) / normaliser
        if task in center_tasks:
            terms[f"{task}_center"] = tf.reduce_sum(outputs[f"{task}_center"] * w) / normaliser
            # eq. (6): L_E = lambda * softmax + (1 - lambda) * center
            total += lambda_ * terms[f"{task}_softmax"] + (1.0 - lambda_) * terms[f"{task}_center"]
        else:
            total += terms[f"{task}_softmax"]
    for head in heads:
        w = weights[head]
        terms[f"{head}_domain"] = _weighted_cross_entropy(labels[head], outputs[head], w) / count(w)
        total += terms[f"{head}_domain"]
    terms["total"] = total
    return terms


def _weighted_cross_entropy(labels, logits, w):
    cross_entropy = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return tf.reduce_sum(cross_entropy * w)
