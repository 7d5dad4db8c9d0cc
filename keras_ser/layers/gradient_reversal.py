"""Gradient reversal: identity forward, -gamma times the gradient backward."""

import math

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_ser")
class GradientReversal(keras.layers.Layer):
    """Passes its input through and reverses (and scales) the gradient.

    The domain heads behind this layer learn to predict the domain, while the
    feature extractor in front of it receives -gamma times their gradient and
    so learns features the heads cannot use. gamma is a non-trainable weight:
    it is checkpointed and can be changed during training (`set_gamma`), e.g.
    following `ganin_coefficient`.

    Args:
        gamma: initial reversal coefficient (paper: 0.3). Must be >= 0.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: a tensor of any shape.

    Example:
    ```python
    features = keras.Input((64,))
    domain_logits = keras.layers.Dense(3)(GradientReversal(gamma=0.3)(features))
    ```

    Reference:
        Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation", ICML 2015;
        Gao et al., "Domain-invariant feature learning for cross corpus speech emotion
        recognition", ICASSP 2022, eq. (1)-(2).
    """

    def __init__(self, gamma=0.3, **kwargs):
        super().__init__(**kwargs)
        if gamma < 0:
            raise ValueError(f"GradientReversal: gamma must be >= 0, got {gamma}")
        self.gamma = float(gamma)
        # Identical on every replica, so any replica's write is the value.
        self.coefficient = self.add_weight(
            name="gamma",
            shape=(),
            initializer=keras.initializers.Constant(self.gamma),
            trainable=False,
            aggregation="only_first_replica",
        )

    def call(self, inputs):
        coefficient = tf.cast(tf.convert_to_tensor(self.coefficient), inputs.dtype)

        @tf.custom_gradient
        def reverse(x):
            def grad(upstream):
                return -coefficient * upstream

            return tf.identity(x), grad

        return reverse(inputs)

    def set_gamma(self, value):
        self.coefficient.assign(value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma})
        return config


def ganin_coefficient(gamma, progress):
    """Ganin's schedule: gamma * (2 / (1 + exp(-10 p)) - 1), p in [0, 1] the training progress.

    Works on floats and tensors.
    """
    if isinstance(progress, (int, float)):
        return gamma * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)
    return gamma * (2.0 / (1.0 + tf.exp(-10.0 * progress)) - 1.0)
