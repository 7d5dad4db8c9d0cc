"""keras_ser.layers.BatchNormalization: the fused kernel on one replica, Keras's statistics exactly."""

import keras
import numpy as np
import tensorflow as tf

import keras_ser.layers


def _pair(momentum=0.9):
    """The layer and Keras's (unsynchronized) BatchNormalization with identical weights."""
    ours = keras_ser.layers.BatchNormalization(momentum=momentum)
    reference = keras.layers.BatchNormalization(momentum=momentum)
    for layer in (ours, reference):
        layer.build((None, 4, 5, 3))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=3).astype("float32") for _ in range(2)] + [
        rng.normal(size=3).astype("float32"), rng.uniform(0.5, 2.0, 3).astype("float32")]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


def _op_types(function, *args):
    graph = function.get_concrete_function(*args).graph.as_graph_def()
    return {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}


def test_training_step_equals_keras_batch_norm():
    ours, reference = _pair()
    # A small batch (8 x 4 x 5 = 160 values per channel): the kernel's
    # n / (n - 1) variance would move the moving variance by 6e-4 if kept.
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(2.0, 3.0, size=(8, 4, 5, 3)).astype("float32"))
    # Random weights on the outputs: every gradient is far from 0. (A weight per channel
    # alone makes gamma's gradient an exact 0 that each kernel misses by its rounding.)
    outer = tf.constant(rng.normal(size=(8, 4, 5, 3)).astype("float32"))
    results = []
    for layer in (ours, reference):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * outer)
        gradients = tape.gradient(loss, [x, layer.gamma, layer.beta])
        results.append([y, *gradients, layer.moving_mean, layer.moving_variance])
    for ours_value, reference_value in zip(*results):
        np.testing.assert_allclose(np.asarray(ours_value), np.asarray(reference_value), rtol=1e-5, atol=1e-5)
    assert not np.allclose(np.asarray(results[0][5]), [1.0, 1.0, 1.0])  # the moving variance moved


def test_one_replica_runs_the_fused_kernel_in_training_and_inference():
    ours, reference = _pair()
    spec = tf.TensorSpec((8, 4, 5, 3), tf.float32)

    def training_step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = ours(x, training=True)
        return tape.gradient(y, x)

    types = _op_types(tf.function(training_step), spec)
    assert {"FusedBatchNormV3", "FusedBatchNormGradV3"} <= types
    assert "FusedBatchNormV3" in _op_types(tf.function(lambda x: ours(x, training=False)), spec)
    # Inference with the moving statistics: Keras's values up to float32 rounding.
    x = np.random.default_rng(2).normal(size=(8, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(ours(x, training=False), reference(x, training=False), rtol=1e-6, atol=1e-6)
    assert not np.allclose(ours(x, training=False), x, atol=1e-2)  # the statistics and scale were applied


def test_frozen_layer_and_unfused_option_use_the_moving_statistics():
    ours, reference = _pair()
    x = np.random.default_rng(5).normal(size=(8, 4, 5, 3)).astype("float32")
    ours.trainable = reference.trainable = False
    # A frozen layer normalises with its moving statistics even when training (as Keras's does).
    np.testing.assert_allclose(ours(x, training=True), reference(x, training=True), rtol=1e-6, atol=1e-6)
    unfused = keras_ser.layers.BatchNormalization(momentum=0.9, fused=False)
    unfused.build((None, 4, 5, 3))
    unfused.set_weights(reference.get_weights())
    spec = tf.TensorSpec((8, 4, 5, 3), tf.float32)
    assert "FusedBatchNormV3" not in _op_types(tf.function(lambda x: unfused(x, training=False)), spec)
    np.testing.assert_array_equal(unfused(x, training=False), reference(x, training=False))


def test_other_inputs_take_keras_path():
    layer = keras_ser.layers.BatchNormalization()
    x = tf.constant(np.random.default_rng(3).normal(size=(6, 5)).astype("float32"))
    reference = keras.layers.BatchNormalization()
    np.testing.assert_allclose(layer(x, training=True), reference(x, training=True), rtol=1e-5, atol=1e-5)


def test_config_round_trip_and_weights_of_keras_batch_norm_load(tmp_path):
    ours = keras_ser.layers.BatchNormalization
    layer = ours(momentum=0.8, epsilon=1e-4, name="bn")
    clone = ours.from_config(layer.get_config())
    assert (clone.momentum, clone.epsilon, clone.name) == (0.8, 1e-4, "bn")
    assert keras.saving.get_registered_object("keras_ser>BatchNormalization") is ours

    def model(norm):
        inputs = keras.Input((4, 5, 3))
        return keras.Model(inputs, norm(name="bn")(keras.layers.Conv2D(2, 3, name="conv")(inputs)))

    # Models saved with Keras's layer restore into this one (same weights, same names).
    old = model(keras.layers.BatchNormalization)
    for variable in old.weights:
        variable.assign(np.random.default_rng(4).normal(size=variable.shape).astype("float32") + 1.0)
    old.save_weights(str(tmp_path / "old.weights.h5"))
    new = model(ours)
    new.load_weights(str(tmp_path / "old.weights.h5"))
    for a, b in zip(old.weights, new.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
