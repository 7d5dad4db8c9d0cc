"""Memory between trainings in one process (tuning trials, experiment suites)."""

import contextlib
import ctypes
import gc

import keras


@contextlib.contextmanager
def released_after_training():
    """Frees what one training leaves behind, so memory stays flat over many in one process.

    Used between tuning trials (keras-team/keras-tuner#395) and between the
    runs of an experiment suite.

    Besides Keras' global state (`clear_session`) and Python cycles (`gc`):
    `tf.custom_gradient` traced in graph mode (GradientReversal inside the
    train step's tf.function) registers every traced gradient in TensorFlow's
    global gradient registry under a fresh "CustomGradient-<uid>" name, and that
    entry keeps the whole train-step graph alive: about 25 MB per trial of the
    tiny model. Once the trial's functions are gone nothing looks these names
    up again, so the entries the trial added are dropped.
    """
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    before = set(registry)
    # What is alive now (modules, data, earlier results) outlives this
    # training: frozen, the collections during and after it only look at what
    # the training creates (a full collection of a process that has imported
    # TensorFlow takes a quarter to half a second). Unfrozen at the end, so
    # older garbage is still found by later collections.
    gc.freeze()
    try:
        yield
    finally:
        try:
            for name in set(registry) - before:
                if name.startswith("CustomGradient-"):
                    del registry[name]
            keras.backend.clear_session(free_memory=False)
            gc.collect()
        finally:
            gc.unfreeze()
        _return_freed_memory()


def _return_freed_memory() -> None:
    # glibc keeps freed arenas mapped; without a trim the RSS measured between
    # trials drifts with fragmentation although no objects survive.
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the allocator returns memory its own way
