"""Center loss with the class centers as layer state (Wen et al. 2016)."""

import keras
import tensorflow as tf

from keras_ser.layers.cosine_classifier import unit_rows


@keras.saving.register_keras_serializable(package="keras_ser")
class CenterLoss(keras.layers.Layer):
    """Per-sample squared distance of an embedding to its class center.

    The centers are a non-trainable weight (classes x embedding). When called
    with `training=True` they move towards the batch's labelled embeddings:
        delta_c_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j),  c_j <- c_j - alpha * delta_c_j
    Under a distribution strategy the per-class sums and counts are summed
    across replicas first, so every replica applies the update that one
    replica would compute from the whole global batch.

    With `unit_centers` the embeddings are expected on the unit sphere and
    every updated center is projected back onto it (c_j <- c_j / ||c_j||):
    the distance is then bounded by 4 and cannot be lowered by shrinking the
    embedding, and it equals 2 - 2 cos(x_i, c_{y_i}). A center no sample has
    reached yet stays at zero.

    Args:
        num_classes: number of emotion classes.
        alpha: center learning rate in [0, 1] (default 0.5).
        unit_centers: renormalise the centers after each update (default False).
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: list `[embeddings (batch, dim), labels (batch,) int, weights (batch,)]`;
            samples with weight 0 (no emotion label) neither pull on nor move the centers.
        training: update the centers only when true.

    Returns:
        (batch,) squared distances ||x_i - c_{y_i}||^2; the loss (eq. 4) is their
        weighted mean, taken by the caller.

    Example:
    ```python
    center_loss = CenterLoss(num_classes=2, alpha=0.5, unit_centers=True)
    distances = center_loss([embeddings, labels, weights], training=True)
    ```

    Reference:
        Wen et al., "A Discriminative Feature Learning Approach for Deep Face Recognition",
        ECCV 2016; Gao et al., ICASSP 2022, eq. (4)-(5); unit centers after Wang et al.,
        "NormFace", ACM MM 2017.
    """

    def __init__(self, num_classes, alpha=0.5, unit_centers=False, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"CenterLoss: alpha must be in [0, 1], got {alpha}")
        self.num_classes = int(num_classes)
        self.alpha = float(alpha)
        self.unit_centers = bool(unit_centers)

    def build(self, input_shape):
        dim = input_shape[0][-1]
        # Every replica computes the same update from all-reduced sums.
        self.centers = self.add_weight(
            name="centers",
            shape=(self.num_classes, dim),
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
        )

    def call(self, inputs, training=None):
        embeddings, labels, weights = inputs
        centers = tf.convert_to_tensor(self.centers)
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        distances = tf.reduce_sum(tf.square(embeddings - tf.gather(centers, labels)), axis=-1)
        if training:
            update = self._update_centers(tf.stop_gradient(embeddings), labels, weights, centers)
            with tf.control_dependencies([update]):
                distances = tf.identity(distances)
        return distances

    def _update_centers(self, embeddings, labels, weights, centers):
        members = tf.one_hot(labels, self.num_classes, dtype=embeddings.dtype)
        members *= tf.cast(tf.reshape(weights, [-1, 1]) > 0, embeddings.dtype)
        sums = tf.matmul(members, embeddings, transpose_a=True)
        counts = tf.reduce_sum(members, axis=0)[:, tf.newaxis]
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            sums, counts = replica.all_reduce(tf.distribute.ReduceOp.SUM, [sums, counts])
        # eq. (5): sum_i (c_j - x_i) = n_j c_j - sum_i x_i
        delta = (counts * centers - sums) / (1.0 + counts)
        updated = centers - self.alpha * delta
        if self.unit_centers:
            updated = unit_rows(updated)
        return self.centers.assign(updated)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0],)

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "alpha": self.alpha, "unit_centers": self.unit_centers})
        return config


class ProxyCenterLoss(keras.layers.Layer):
    """Center loss whose centers are a cosine classifier's class directions.

    `||x/||x|| - w_y/||w_y|| ||^2 = 2 - 2 cos(x, w_y)`, with the class weights
    w of `classifier` (a `CosineClassifier`) held constant here: the term
    pulls each embedding towards its class's direction and moves no weight,
    so only the softmax places the centers. Unlike running (Wen) centers,
    these cannot meet where a task's embeddings have gathered: if every
    segment sat on one point, the classes would still be apart by the
    classifier's angle and the term would not vanish.

    Args:
        classifier: the task's `CosineClassifier`, built before this layer is called.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: list `[embeddings (batch, dim), labels (batch,) int, weights (batch,)]`;
            `weights` is accepted for the same call as `CenterLoss` (the caller weights the mean).

    Returns:
        (batch,) squared distances to the class directions.
    """

    def __init__(self, classifier, **kwargs):
        super().__init__(**kwargs)
        # A function, not the layer: the classifier's weights stay its own (not tracked twice).
        self._kernel = lambda: classifier.kernel

    def class_directions(self):
        """(num_classes, dim) unit rows: the classifier's class directions, this loss's centers."""
        return unit_rows(tf.transpose(tf.convert_to_tensor(self._kernel())))

    def call(self, inputs, training=None):
        embeddings, labels, _ = inputs
        directions = tf.stop_gradient(self.class_directions())
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        return tf.reduce_sum(tf.square(unit_rows(embeddings) - tf.gather(directions, labels)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0],)
