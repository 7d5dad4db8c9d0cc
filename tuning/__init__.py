"""Hyperparameter search for keras_ser with KerasTuner: `python -m tuning.search`.

hypermodel.py  the search space, declared from a resolved FitConfig
tuner.py       a keras_tuner.Tuner whose trials are keras_ser.fit's distributed training
report.py      the trial table and the validation-UA plot
search.py      the command line and `run_search`
"""

from tuning.hypermodel import FitHyperModel
from tuning.tuner import ORACLES, FitTuner, make_tuner

__all__ = ["FitHyperModel", "FitTuner", "ORACLES", "make_tuner"]
