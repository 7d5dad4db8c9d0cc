import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ser.layers import CosineClassifier, UnitNormalization


def _classifier(kernel, scale=10.0):
    layer = CosineClassifier(kernel.shape[1], scale=scale)
    layer.build((None, kernel.shape[0]))
    layer.kernel.assign(kernel)
    return layer


def test_logits_are_scale_times_cosines():
    layer = _classifier(np.array([[2.0, 0.0], [0.0, -3.0]], "float32"), scale=5.0)
    x = np.array([[3.0, 4.0], [0.0, 0.0]], "float32")
    # (0.6, 0.8) against unit columns (1, 0) and (0, -1); a zero input gives zero logits
    np.testing.assert_allclose(layer(x).numpy(), [[3.0, -4.0], [0.0, 0.0]], atol=1e-6)


def test_logits_do_not_change_when_the_embedding_is_rescaled():
    layer = _classifier(np.random.default_rng(0).normal(size=(4, 2)).astype("float32"))
    x = tf.Variable(np.random.default_rng(1).normal(size=(3, 4)).astype("float32"))
    labels = tf.constant([0, 1, 1])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(labels, layer(x), from_logits=True))
    np.testing.assert_allclose(layer(x * 0.01).numpy(), layer(x).numpy(), rtol=1e-5)
    # the cross-entropy's gradient has no radial part: shrinking x cannot lower it
    gradient = tape.gradient(loss, x).numpy()
    np.testing.assert_allclose(np.sum(gradient * x.numpy(), axis=1), 0.0, atol=1e-5)


def test_scale_is_fixed_unless_learned():
    fixed = CosineClassifier(2, scale=8.0)
    fixed.build((None, 3))
    learned = CosineClassifier(2, scale=8.0, learn_scale=True)
    learned.build((None, 3))
    assert len(fixed.trainable_weights) == 1 and len(learned.trainable_weights) == 2
    assert float(learned.logit_scale.numpy()) == 8.0


def test_unit_normalization():
    np.testing.assert_allclose(UnitNormalization()(np.array([[3.0, 4.0], [0.0, 0.0]], "float32")).numpy(),
                               [[0.6, 0.8], [0.0, 0.0]], atol=1e-7)


def test_serialization_round_trip():
    layer = CosineClassifier(2, scale=12.0, learn_scale=True, name="arousal")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert (restored.num_classes, restored.scale, restored.learn_scale, restored.name) == (2, 12.0, True, "arousal")


def test_scale_must_be_positive():
    with pytest.raises(ValueError, match="scale"):
        CosineClassifier(2, scale=0.0)
