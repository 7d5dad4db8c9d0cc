"""Corpus adapters: each reads one corpus as distributed and yields records.

`get_adapter("emodb", "/data/emodb").records()` gives one `Utterance` (or a
`Skip` with its reason) per audio file, labelled in the shared emotion
vocabulary and mapped to binary arousal/valence by the emotion map.
"""

from typing import Optional

from keras_ser.corpora.base import CorpusAdapter, LayoutError, Record, Skip, Utterance
from keras_ser.corpora.cremad import CremaD
from keras_ser.corpora.emodb import EmoDB
from keras_ser.corpora.emotion_map import EmotionMapError, load_emotion_map
from keras_ser.corpora.emovo import Emovo
from keras_ser.corpora.iemocap import Iemocap
from keras_ser.corpora.manifest import Manifest
from keras_ser.corpora.msp_improv import MspImprov
from keras_ser.corpora.ravdess import Ravdess
from keras_ser.corpora.savee import Savee
from keras_ser.corpora.tess import Tess

ADAPTERS = {
    adapter.name: adapter
    for adapter in (EmoDB, Savee, Iemocap, MspImprov, Ravdess, CremaD, Tess, Emovo, Manifest)
}


def get_adapter(name: str, root: str, emotion_map: Optional[dict] = None) -> CorpusAdapter:
    """The adapter registered as `name`, reading the corpus at `root`.

    Args:
        name: registry name, one of `ADAPTERS`.
        root: the corpus root folder as distributed (the CSV file for "manifest").
        emotion_map: `{corpus: {emotion: (arousal, valence)}}` as returned by
            `load_emotion_map`; None for the packaged map.

    Raises:
        ValueError: unknown name, listing the accepted ones.
        LayoutError: `root` does not exist.
    """
    if name not in ADAPTERS:
        raise ValueError(f"unknown corpus {name!r}; accepted: {', '.join(sorted(ADAPTERS))}")
    return ADAPTERS[name](root, emotion_map)


__all__ = [
    "ADAPTERS", "CorpusAdapter", "EmotionMapError", "LayoutError", "Record", "Skip", "Utterance",
    "get_adapter", "load_emotion_map",
]
