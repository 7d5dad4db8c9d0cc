import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ser.layers import CenterLoss


def _layer(centers, alpha=0.5):
    layer = CenterLoss(num_classes=centers.shape[0], alpha=alpha)
    layer.build([(None, centers.shape[1]), (None,), (None,)])
    layer.centers.assign(centers)
    return layer


def test_loss_is_squared_distance_to_own_center():
    layer = _layer(np.array([[0.0, 0.0], [1.0, 1.0]], "float32"))
    x = np.array([[1.0, 2.0], [1.0, 1.0], [3.0, 1.0]], "float32")
    y = np.array([0, 1, 1])
    distances = layer([x, y, np.ones(3, "float32")]).numpy()
    np.testing.assert_allclose(distances, [5.0, 0.0, 4.0])


def test_centers_move_by_the_hand_computed_step():
    centers = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], "float32")
    layer = _layer(centers, alpha=0.5)
    x = np.array([[2.0, 0.0], [4.0, 2.0], [1.0, 3.0], [9.0, 9.0]], "float32")
    y = np.array([0, 0, 1, 1])
    w = np.array([1.0, 1.0, 1.0, 0.0], "float32")  # the last sample is unlabelled
    layer([x, y, w], training=True)
    # class 0: n=2, delta = (2*c0 - (x0 + x1)) / 3 = -(6, 2) / 3
    # class 1: n=1 (unlabelled sample excluded), delta = (c1 - x2) / 2 = (0, -2) / 2
    # class 2: no samples, no move
    expected = np.array([[0 + 0.5 * 2.0, 0 + 0.5 * 2 / 3], [1.0, 1.0 + 0.5], [5.0, 5.0]])
    np.testing.assert_allclose(layer.centers.numpy(), expected, rtol=1e-6)


def test_centers_do_not_move_in_inference():
    layer = _layer(np.zeros((2, 2), "float32"))
    layer([np.ones((2, 2), "float32"), np.array([0, 1]), np.ones(2, "float32")], training=False)
    np.testing.assert_array_equal(layer.centers.numpy(), np.zeros((2, 2)))


def test_gradient_flows_to_embeddings_only():
    layer = _layer(np.zeros((2, 2), "float32"))
    x = tf.Variable([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer([x, tf.constant([0]), tf.constant([1.0])], training=True))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [[2.0, 4.0]])
    assert not layer.trainable_weights


def test_serialization_round_trip():
    layer = CenterLoss(num_classes=3, alpha=0.2, unit_centers=True, name="c")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert (restored.num_classes, restored.alpha, restored.unit_centers, restored.name) == (3, 0.2, True, "c")


def test_alpha_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="alpha"):
        CenterLoss(2, alpha=1.5)


def test_unit_centers_are_renormalised_after_the_wen_update():
    layer = CenterLoss(num_classes=3, alpha=0.5, unit_centers=True)
    layer.build([(None, 2), (None,), (None,)])
    layer.centers.assign(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], "float32"))
    x = np.array([[0.0, 1.0], [0.6, 0.8]], "float32")
    layer([x, np.array([0, 1]), np.ones(2, "float32")], training=True)
    # class 0: delta = (c0 - x0) / 2 = (0.5, -0.5); c0 - 0.5 delta = (0.75, 0.25), then / ||.||
    # class 1: from zero, c1 - 0.5 (c1 - x1) / 2 = x1 / 4, then / ||.|| = x1
    # class 2: no samples, stays on the sphere where it was
    expected = np.array([[0.75, 0.25] / np.sqrt(0.625), [0.6, 0.8], [0.0, 1.0]])
    np.testing.assert_allclose(layer.centers.numpy(), expected, rtol=1e-6)


def test_bounded_center_loss_gradient_on_a_hand_example():
    from keras_ser.layers import UnitNormalization

    layer = CenterLoss(num_classes=2, unit_centers=True)
    layer.build([(None, 2), (None,), (None,)])
    layer.centers.assign(np.array([[1.0, 0.0], [0.0, 1.0]], "float32"))
    x = tf.Variable([[3.0, 4.0]])
    with tf.GradientTape() as tape:
        distance = layer([UnitNormalization()(x), tf.constant([0]), tf.constant([1.0])])
    # x / ||x|| = (0.6, 0.8): distance = ||(0.6, 0.8) - (1, 0)||^2 = 0.8 = 2 - 2 cos
    np.testing.assert_allclose(distance.numpy(), [0.8], rtol=1e-6)
    # d/dx = -(2 / ||x||) (c - cos * x/||x||) = -0.4 * ((1, 0) - 0.6 (0.6, 0.8)) = (-0.256, 0.192):
    # orthogonal to x, so the loss cannot fall by shrinking the embedding
    gradient = tape.gradient(distance, x).numpy()
    np.testing.assert_allclose(gradient, [[-0.256, 0.192]], rtol=1e-5)
    assert abs(float(np.sum(gradient * x.numpy()))) < 1e-6
    scaled = tf.Variable([[30.0, 40.0]])
    with tf.GradientTape() as tape:
        far = layer([UnitNormalization()(scaled), tf.constant([0]), tf.constant([1.0])])
    np.testing.assert_allclose(far.numpy(), [0.8], rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(far, scaled).numpy(), gradient / 10, rtol=1e-5)


def test_proxy_centers_are_the_classifier_directions_and_move_nothing():
    from keras_ser.layers import CosineClassifier, ProxyCenterLoss

    classifier = CosineClassifier(2, scale=10.0)
    classifier.build((None, 2))
    classifier.kernel.assign(np.array([[2.0, 0.0], [0.0, -3.0]], "float32"))  # columns: (1, 0) and (0, -1)
    layer = ProxyCenterLoss(classifier)
    x = tf.Variable([[3.0, 4.0], [0.0, -5.0]])
    with tf.GradientTape(persistent=True) as tape:
        distances = layer([x, tf.constant([0, 1]), tf.constant([1.0, 1.0])])
    # ||(0.6, 0.8) - (1, 0)||^2 = 0.8; (0, -1) is on its class direction.
    np.testing.assert_allclose(distances.numpy(), [0.8, 0.0], atol=1e-6)
    # The hand gradient of 2 - 2 cos(x, c) at x = (3, 4), c = (1, 0): orthogonal to x.
    np.testing.assert_allclose(tape.gradient(distances, x).numpy(), [[-0.256, 0.192], [0.0, 0.0]], atol=1e-6)
    # The center term places no class direction, and holds no weights of its own.
    assert tape.gradient(distances, classifier.kernel) is None
    assert layer.weights == [] and len(classifier.weights) == 2


def test_proxy_centers_stay_apart_when_every_embedding_meets():
    """Where running centers would meet (every segment on one point), the classes stay an angle apart."""
    from keras_ser.layers import CosineClassifier, ProxyCenterLoss

    classifier = CosineClassifier(2)
    classifier.build((None, 2))
    classifier.kernel.assign(np.array([[1.0, 0.0], [0.0, 1.0]], "float32"))
    x = np.tile(np.array([[1.0, 0.0]], "float32"), (4, 1))
    y = np.array([0, 0, 1, 1])
    distances = ProxyCenterLoss(classifier)([x, y, np.ones(4, "float32")]).numpy()
    np.testing.assert_allclose(distances, [0.0, 0.0, 2.0, 2.0], atol=1e-6)
    # Running unit centers follow the class means onto that one point: zero loss.
    running = CenterLoss(num_classes=2, alpha=1.0, unit_centers=True)
    running([x, y, np.ones(4, "float32")], training=True)
    np.testing.assert_allclose(running([x, y, np.ones(4, "float32")]).numpy(), 0.0, atol=1e-6)
