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

from keras_ser.synth.generation import generate
from keras_ser.synth.layouts import SCALES, SYNTHETIC_CORPORA

__all__ = ["SCALES", "SYNTHETIC_CORPORA", "generate"]
