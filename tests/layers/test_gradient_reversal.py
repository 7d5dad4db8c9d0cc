import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ser.layers import GradientReversal, ganin_coefficient


def test_forward_is_identity():
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    np.testing.assert_array_equal(GradientReversal(0.3)(x).numpy(), x)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 2.5])
def test_gradient_is_reversed_and_scaled(gamma):
    layer = GradientReversal(gamma)
    x = tf.Variable(np.ones((3, 2), "float32"))
    upstream = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x) * upstream)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), -gamma * upstream.numpy())


def test_gamma_is_a_weight_that_can_change_during_training():
    layer = GradientReversal(0.3)
    assert [w.name for w in layer.non_trainable_weights] == ["gamma"]
    layer.set_gamma(1.5)
    x = tf.Variable([1.0, 2.0])

    @tf.function
    def grad():
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(layer(x))
        return tape.gradient(y, x)

    np.testing.assert_allclose(grad().numpy(), [-1.5, -1.5])
    layer.set_gamma(0.5)  # the traced function reads the new value
    np.testing.assert_allclose(grad().numpy(), [-0.5, -0.5])


def test_serialization_round_trip():
    layer = GradientReversal(0.7, name="grl")
    clone = GradientReversal.from_config(layer.get_config())
    assert clone.gamma == 0.7 and clone.name == "grl"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, GradientReversal) and restored.gamma == 0.7


def test_negative_gamma_is_rejected():
    with pytest.raises(ValueError, match="gamma"):
        GradientReversal(-0.1)


def test_ganin_schedule_ramps_from_zero_to_gamma():
    assert ganin_coefficient(0.3, 0.0) == 0.0
    assert ganin_coefficient(0.3, 1.0) == pytest.approx(0.3 * (2 / (1 + np.exp(-10)) - 1))
    assert 0 < ganin_coefficient(0.3, 0.1) < ganin_coefficient(0.3, 0.5) < 0.3
