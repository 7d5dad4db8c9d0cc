"""Registry of the synthetic corpora, by the same names as the corpus adapters."""

from keras_ser.synth.layouts.base import SCALES, PlannedUtterance, SpeakerSpec, SyntheticCorpus
from keras_ser.synth.layouts.emodb import Emodb
from keras_ser.synth.layouts.iemocap import Iemocap
from keras_ser.synth.layouts.msp_improv import MspImprov
from keras_ser.synth.layouts.savee import Savee

SYNTHETIC_CORPORA = {cls.name: cls for cls in (Iemocap, MspImprov, Savee, Emodb)}

__all__ = ["SCALES", "SYNTHETIC_CORPORA", "PlannedUtterance", "SpeakerSpec", "SyntheticCorpus"]
