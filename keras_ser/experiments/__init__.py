"""Experiment suites: the paper's tables from one command.

    python -m keras_ser.experiments --suite paper --seeds 3 --out results/paper
    python -m keras_ser.experiments --suite gamma_sweep --data corpora.yaml --out results/gamma

A suite (keras_ser/configs/suites/*.yaml, see `suite`) lists systems and
protocols; `plan` expands it into runs; `runner` trains what is missing
(finished runs are kept, interrupted ones resume); `analysis` adds test
predictions, embeddings and an invariance probe per run; `report` writes
report.md and report.json with plots from `plots`.
"""

from keras_ser.experiments.experiment import run_suite
from keras_ser.experiments.suite import Suite, SuiteError, load_suite

__all__ = ["Suite", "SuiteError", "load_suite", "run_suite"]
