"""keras_ser.training.memory.released_after_training: what one training leaves behind is freed."""

import gc
import weakref

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops

from keras_ser.layers import GradientReversal
from keras_ser.training.memory import released_after_training


class _Cycle:
    """An object only a garbage collection frees (it refers to itself)."""

    def __init__(self):
        self.me = self


def test_a_training_s_gradients_and_garbage_are_released_and_nothing_stays_frozen():
    registry = ops._gradient_registry._registry
    earlier = set(registry)  # other tests' traces in this process
    older = _Cycle()
    older_ref = weakref.ref(older)
    with released_after_training():
        reversal = GradientReversal(gamma=0.3)

        @tf.function
        def gradient(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(reversal(x))
            return tape.gradient(y, x)

        np.testing.assert_allclose(gradient(tf.ones([2])).numpy(), [-0.3, -0.3], rtol=1e-6)
        traced = {name for name in set(registry) - earlier if name.startswith("CustomGradient-")}
        assert traced, "the traced reversal registers its gradient"
        # What existed before the training is left out of its collections.
        assert gc.get_freeze_count() > 0
        made_inside = weakref.ref(_Cycle())
        del older  # garbage while frozen
    assert not traced & set(registry)
    assert made_inside() is None
    assert gc.get_freeze_count() == 0
    gc.collect()  # unfrozen: the older garbage is found again
    assert older_ref() is None
