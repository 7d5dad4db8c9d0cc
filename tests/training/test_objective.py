"""The loss composition of eq. (1), (2), (6): lambda weighting, gamma only in the reversal layer, masking."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ser.config import FeatureConfig, ModelConfig
from keras_ser.models import build_network, task_layers
from keras_ser.training.objective import objective_terms
from tests.helpers import TINY_MODEL

TASKS, HEADS = ["arousal", "valence"], ["gender", "corpus"]


def _count(w):
    return tf.maximum(tf.reduce_sum(w), 1.0)


def test_total_is_lambda_weighted_softmax_and_center_plus_domain_terms():
    logits = tf.constant([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    outputs = {"arousal": logits, "arousal_center": tf.constant([0.5, 1.0, 8.0]), "corpus": logits}
    labels = {"arousal": tf.constant([0, 1, 0]), "corpus": tf.constant([1, 1, 0])}
    weights = {"arousal": tf.constant([1.0, 1.0, 0.0]), "corpus": tf.constant([1.0, 1.0, 1.0])}
    terms = objective_terms(outputs, labels, weights, ["arousal"], ["arousal"], ["corpus"], 0.3, _count)
    ce = -np.log(np.exp([2.0, 1.0, 1.0]) / np.exp([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).sum(1))
    np.testing.assert_allclose(terms["arousal_softmax"], (ce[0] + ce[1]) / 2, rtol=1e-6)
    np.testing.assert_allclose(terms["arousal_center"], (0.5 + 1.0) / 2, rtol=1e-6)  # the third sample is unlabelled
    ce_corpus = -np.log(np.exp([0.0, 1.0, 1.0]) / np.exp([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).sum(1))
    np.testing.assert_allclose(terms["corpus_domain"], ce_corpus.mean(), rtol=1e-6)
    expected = 0.3 * terms["arousal_softmax"] + 0.7 * terms["arousal_center"] + terms["corpus_domain"]
    np.testing.assert_allclose(terms["total"], expected, rtol=1e-6)
    softmax_only = objective_terms(outputs, labels, weights, ["arousal"], [], ["corpus"], 0.3, _count)
    np.testing.assert_allclose(softmax_only["total"], terms["arousal_softmax"] + terms["corpus_domain"], rtol=1e-6)


@pytest.fixture(scope="module", params=["proxy", "bounded"])
def network(request):
    """The default center form (proxy) and running unit centers (bounded)."""
    tf.keras.utils.set_random_seed(0)
    config = ModelConfig(**TINY_MODEL, dropout=0.0, center_form=request.param)
    return build_network(config, FeatureConfig(), TASKS, HEADS, {"gender": 2, "corpus": 3})


def _center_form(network) -> str:
    """bounded: running centers (layer state); proxy: none."""
    return "bounded" if hasattr(network.center_losses["arousal"], "centers") else "proxy"


def _batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 32, 129, 1)).astype("float32")
    labels = {"arousal": np.array([0, 1, 0, 1, 1, 0]), "valence": np.array([1, 1, 0, 0, 1, 0]),
              "gender": np.array([0, 1, 1, 0, 1, 0]), "corpus": np.array([0, 1, 2, 0, 1, 2])}
    weights = {name: np.ones(n, "float32") for name in labels}
    return x, labels, weights


def _gradients(network, x, labels, weights, lambda_=0.5):
    """Total loss, gradient per trainable variable, centers after the step: from the same starting state."""
    state = [v.numpy() for v in network.training_model.non_trainable_variables]
    inputs = {"spectrogram": x}
    for task in TASKS:
        inputs.update({f"{task}_label": labels[task], f"{task}_weight": weights[task]})
    labels = {k: tf.constant(v, tf.int32) for k, v in labels.items()}
    weights = {k: tf.constant(v) for k, v in weights.items()}
    variables = network.training_model.trainable_variables
    with tf.GradientTape() as tape:
        outputs = network.training_model(inputs, training=True)
        total = objective_terms(outputs, labels, weights, TASKS, TASKS, HEADS, lambda_, _count)["total"]
    gradients = {v.path: (np.zeros(v.shape) if g is None else g.numpy())
                 for v, g in zip(variables, tape.gradient(total, variables))}
    centers = {t: network.center_losses[t].centers.numpy() for t in TASKS} if _center_form(network) == "bounded" else {}
    for variable, value in zip(network.training_model.non_trainable_variables, state):
        variable.assign(value)
    return float(total), gradients, centers


def _paths(network, names):
    return {v.path for layer in network.training_model.layers if layer.name in names for v in layer.trainable_variables}


def test_gamma_enters_only_through_the_reversal_layer(network):
    x, labels, weights = _batch()
    results = {}
    for gamma in (0.0, 0.3, 0.6):
        network.reversal.set_gamma(gamma)
        results[gamma] = _gradients(network, x, labels, weights)
    network.reversal.set_gamma(0.3)
    assert results[0.0][0] == pytest.approx(results[0.3][0], rel=1e-6) == pytest.approx(results[0.6][0], rel=1e-6)
    domain = _paths(network, [f"{h}_hidden" for h in HEADS] + [f"{h}_domain" for h in HEADS])
    emotion = {v.path for t in TASKS for layer in task_layers(network, t) for v in layer.trainable_variables}
    extractor = {v.path for v in network.extractor.trainable_variables}
    assert domain and emotion and extractor
    for path in domain | emotion:
        np.testing.assert_allclose(results[0.6][1][path], results[0.0][1][path], rtol=1e-5, atol=1e-8)
    # Below the reversal layer the gradient is g_E - gamma * g_D: linear in gamma, and not flat.
    moved = 0.0
    for path in extractor:
        g0, g3, g6 = (results[gamma][1][path] for gamma in (0.0, 0.3, 0.6))
        # float32 differences of nearly equal gradients: compare at a tolerance well under the effect
        np.testing.assert_allclose(g6 - g0, 2 * (g3 - g0), rtol=1e-3, atol=2e-5)
        moved = max(moved, float(np.max(np.abs(g3 - g0))))
    assert moved > 1e-3


def test_lambda_scales_the_classifier_gradient(network):
    x, labels, weights = _batch()
    classifiers = _paths(network, TASKS)
    _, low, _ = _gradients(network, x, labels, weights, lambda_=0.2)
    _, high, _ = _gradients(network, x, labels, weights, lambda_=0.8)
    # The classifier sees only the softmax term: its gradient is lambda * dCE/dW.
    for path in classifiers:
        assert np.max(np.abs(high[path])) > 0
        np.testing.assert_allclose(high[path], 4 * low[path], rtol=1e-4, atol=1e-8)


def test_masked_samples_contribute_nothing(network):
    x, labels, weights = _batch()
    for task in TASKS:
        weights[task][[1, 4]] = 0.0
    total, gradients, centers = _gradients(network, x, labels, weights)
    # Any label on a sample of weight 0 gives the same loss, gradients and centers.
    flipped = {k: v.copy() for k, v in labels.items()}
    for task in TASKS:
        flipped[task][[1, 4]] = 1 - flipped[task][[1, 4]]
    total_flipped, gradients_flipped, centers_flipped = _gradients(network, x, flipped, weights)
    assert total == pytest.approx(total_flipped, rel=1e-6)
    for path, gradient in gradients.items():
        np.testing.assert_allclose(gradients_flipped[path], gradient, rtol=1e-5, atol=1e-8)
    # Running centers (bounded form) move only towards labelled samples; proxy centers have no state.
    assert sorted(centers) == sorted(centers_flipped) == (TASKS if _center_form(network) == "bounded" else [])
    for task in centers:
        np.testing.assert_allclose(centers_flipped[task], centers[task], rtol=1e-6)
    # A task with no labelled sample gives its own layers no gradient at all.
    weights["valence"][:] = 0.0
    _, gradients, _ = _gradients(network, x, labels, weights)
    valence = {v.path for layer in task_layers(network, "valence") for v in layer.trainable_variables}
    assert valence
    for path in valence:
        np.testing.assert_array_equal(gradients[path], 0.0)


def test_unrolled_export_network_computes_what_the_training_network_computes(network):
    """Training builds the LSTM as a loop, export unrolled: same weights, same outputs."""
    config = ModelConfig(**TINY_MODEL, dropout=0.0, center_form=_center_form(network))
    unrolled = build_network(config, FeatureConfig(), TASKS, HEADS, {"gender": 2, "corpus": 3}, unroll=True)
    assert [w.shape for w in unrolled.training_model.weights] == [w.shape for w in network.training_model.weights]
    unrolled.training_model.set_weights(network.training_model.get_weights())
    x, _, _ = _batch(3)
    expected = network.inference_model(x, training=False)
    got = unrolled.inference_model(x, training=False)
    for task in TASKS:
        np.testing.assert_allclose(got[task].numpy(), expected[task].numpy(), atol=1e-6)
    assert not np.allclose(expected[TASKS[0]].numpy(), 0.5)  # a model that computes something


def test_proxy_centers_leave_the_classifier_to_the_softmax():
    """center_form proxy: the center term pulls the embedding to the classifier's class direction but
    moves no weight of the classifier (its gradient is still lambda * dCE/dW), and masked samples add nothing."""
    tf.keras.utils.set_random_seed(0)
    config = ModelConfig(**TINY_MODEL, dropout=0.0, center_form="proxy")
    network = build_network(config, FeatureConfig(), TASKS, HEADS, {"gender": 2, "corpus": 3})
    assert all(not layer.weights for layer in network.center_losses.values())
    x, labels, weights = _batch()
    classifiers = _paths(network, TASKS)
    projections = _paths(network, [f"{t}_projection" for t in TASKS])
    _, low, _ = _gradients(network, x, labels, weights, lambda_=0.2)
    _, high, _ = _gradients(network, x, labels, weights, lambda_=0.8)
    for path in classifiers:
        assert np.max(np.abs(high[path])) > 0
        np.testing.assert_allclose(high[path], 4 * low[path], rtol=1e-4, atol=1e-8)
    # Below the classifier both terms act: not lambda-proportional.
    assert any(not np.allclose(high[p], 4 * low[p], rtol=1e-2) for p in projections)
    for task in TASKS:
        weights[task][[1, 4]] = 0.0
    flipped = {k: v.copy() for k, v in labels.items()}
    for task in TASKS:
        flipped[task][[1, 4]] = 1 - flipped[task][[1, 4]]
    total, gradients, _ = _gradients(network, x, labels, weights)
    total_flipped, gradients_flipped, _ = _gradients(network, x, flipped, weights)
    assert total == pytest.approx(total_flipped, rel=1e-6)
    for path, gradient in gradients.items():
        np.testing.assert_allclose(gradients_flipped[path], gradient, rtol=1e-5, atol=1e-8)
