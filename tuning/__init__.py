"""Hyperparameter search for keras_ser with KerasTuner: `python -m tuning.search`.

hypermodel.py  the search space, declared from a resolved FitConfig
tuner.py       a keras_tuner.Tuner whose trials are keras_ser.fit's distributed training
report.py      the trial table and the validation-UA plot
search.py      the command line and `run_search`
"""

import importlib

# Lazy (PEP 562): `python -m tuning.search --help` must not import KerasTuner and TensorFlow.
_EXPORTS = {"FitHyperModel": "tuning.hypermodel", "FitTuner": "tuning.tuner", "ORACLES": "tuning.tuner",
            "make_tuner": "tuning.tuner"}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tuning' has no attribute {name!r}")
