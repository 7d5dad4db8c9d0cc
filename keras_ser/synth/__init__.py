"""Synthetic stand-ins for IEMOCAP, MSP-IMPROV, SAVEE and Emo-DB (the default data).

Real speech from eSpeak NG, emotion carried by prosody rules, and one
recording chain per corpus so the corpora differ as domains; written in each
corpus's own layout so the regular adapters in `keras_ser.corpora` read them.

Example:
    >>> from keras_ser.synth import generate
    >>> roots = generate("data/synthetic", scale="tiny", seed=0)
    >>> sorted(roots)
    ['emodb', 'iemocap', 'msp_improv', 'savee']
"""

import importlib

# Lazy (PEP 562): `python -m keras_ser.synth --help` answers before scipy loads.
_EXPORTS = {"generate": "keras_ser.synth.generation", "SCALES": "keras_ser.synth.layouts",
            "SYNTHETIC_CORPORA": "keras_ser.synth.layouts"}
__all__ = ["SCALES", "SYNTHETIC_CORPORA", "generate"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'keras_ser.synth' has no attribute {name!r}")
