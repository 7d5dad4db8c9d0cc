"""keras_ser: domain-invariant cross-corpus speech emotion recognition (TensorFlow/Keras).

Data flow: corpora (adapters) -> features (decode, 16 kHz, 32 x 129 log spectrogram
segments) -> pipelines (TFRecords, tf.data) -> models (CNN-BLSTM, gradient reversal,
center loss) -> training (distributed loop) -> evaluation (UA) -> export.

Python API (each name is imported on first use, so `import keras_ser` stays light):

    keras_ser.fit(...)               train and evaluate one system -> keras_ser.runs.Run (also keras_ser.train)
    keras_ser.load_run(folder)       a finished run folder -> Run (config, network, results, history, export())
    keras_ser.Recognizer.load(path)  an exported model, callable on a file or a NumPy array -> Prediction
    keras_ser.load_fit_config(...)   defaults -> YAML -> overrides, validated (keras_ser.config)

The command line is `keras-ser` (keras_ser.cli).
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "train": "keras_ser.fit",
    "load_run": "keras_ser.runs",
    "Run": "keras_ser.runs",
    "Recognizer": "keras_ser.recognizer",
    "Prediction": "keras_ser.recognizer",
    "FitConfig": "keras_ser.config",
    "ConfigError": "keras_ser.config",
    "load_fit_config": "keras_ser.config",
}
__all__ = ["fit", *_EXPORTS]


def __getattr__(name):
    # `keras_ser.fit` is the module of `python -m keras_ser.fit`, made callable (see keras_ser.fit.train).
    if name == "fit":
        return importlib.import_module("keras_ser.fit")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'keras_ser' has no attribute {name!r}")
