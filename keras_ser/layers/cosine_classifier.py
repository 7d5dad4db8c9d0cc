"""Cosine classifier: logits are a scale times the cosine to each class weight (NormFace)."""

import keras
import tensorflow as tf

# Floor of a squared norm before its inverse square root: keeps a zero vector at zero.
EPSILON = 1e-12


def unit_rows(x, axis=-1):
    """x / ||x|| along `axis` (a zero vector stays zero); rsqrt, builtin in TFLite."""
    return x * tf.math.rsqrt(tf.maximum(tf.reduce_sum(tf.square(x), axis=axis, keepdims=True), EPSILON))


@keras.saving.register_keras_serializable(package="keras_ser")
class CosineClassifier(keras.layers.Layer):
    """Logits `s * cos(x, w_j)`: input and class weights are L2-normalised.

    Softmax cross-entropy over these logits depends only on the direction of
    the input, so it cannot be lowered by rescaling the embedding, and its
    value is bounded by the scale `s`: with a center loss on the same
    normalised embedding both terms of eq. (6) live on the unit sphere and
    lambda is a real trade-off.

    Args:
        num_classes: number of classes.
        scale: the logit scale s (fixed unless `learn_scale`); with 2 classes
            the largest logit gap is 2 s.
        learn_scale: train s with the network (NormFace's learned scale).
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: embeddings (batch, dim), normalised inside.

    Returns:
        (batch, num_classes) logits in [-s, s].

    Example:
    ```python
    logits = CosineClassifier(2, scale=10.0)(keras.Input((32,)))
    ```

    Reference:
        Wang et al., "NormFace: L2 Hypersphere Embedding for Face Verification", ACM MM 2017;
        Ranjan et al., "L2-constrained Softmax Loss for Discriminative Face Verification", 2017.
    """

    def __init__(self, num_classes, scale=10.0, learn_scale=False, **kwargs):
        super().__init__(**kwargs)
        if scale <= 0:
            raise ValueError(f"CosineClassifier: scale must be > 0, got {scale}")
        self.num_classes = int(num_classes)
        self.scale = float(scale)
        self.learn_scale = bool(learn_scale)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.num_classes),
                                      initializer="glorot_uniform")
        self.logit_scale = self.add_weight(name="scale", shape=(), initializer=keras.initializers.Constant(self.scale),
                                           trainable=self.learn_scale)

    def call(self, inputs):
        cosines = tf.matmul(unit_rows(inputs), unit_rows(tf.convert_to_tensor(self.kernel), axis=0))
        return tf.cast(tf.convert_to_tensor(self.logit_scale), inputs.dtype) * cosines

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "scale": self.scale, "learn_scale": self.learn_scale})
        return config


@keras.saving.register_keras_serializable(package="keras_ser")
class UnitNormalization(keras.layers.Layer):
    """x / ||x|| over the last axis (a zero vector stays zero), in TFLite builtins.

    Call arguments:
        inputs: (batch, dim) embeddings.

    Example:
    ```python
    on_sphere = UnitNormalization()(keras.Input((32,)))
    ```
    """

    def call(self, inputs):
        return unit_rows(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape
