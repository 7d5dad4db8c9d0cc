"""Binary arousal/valence targets for each corpus's categorical emotions.

The paper trains arousal and valence as two binary tasks; categorical labels
are mapped after Schuller et al. 2010 (Table 1 of Gao et al., ICASSP 2022).
The mapping lives in `emotion_map.yaml` in words (`arousal: high|low`,
`valence: positive|negative`) so it can be read and changed without code;
`load_emotion_map` turns it into the integers the records carry.
"""

import os
from typing import Dict, Optional, Tuple

import yaml

# The words adapters translate corpus codes into.
EMOTIONS = ("angry", "happy", "neutral", "sad", "boredom", "disgust", "fear", "surprise", "calm")
AROUSAL = {"low": 0, "high": 1}
VALENCE = {"negative": 0, "positive": 1}
DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emotion_map.yaml")

EmotionMap = Dict[str, Dict[str, Tuple[int, int]]]


class EmotionMapError(ValueError):
    """An emotion map file that cannot be read or has a bad entry."""


def load_emotion_map(path: Optional[str] = None) -> EmotionMap:
    """Reads an emotion map YAML (the packaged one by default).

    Args:
        path: YAML file of the form
            `{corpus: {emotion: {arousal: high|low, valence: positive|negative}}}`;
            None for the packaged `emotion_map.yaml`.

    Returns:
        `{corpus: {emotion: (arousal, valence)}}` with arousal 0 = low, 1 = high
        and valence 0 = negative, 1 = positive.

    Raises:
        EmotionMapError: the file is missing, is not valid YAML, or has an entry
            with an unknown emotion or word, naming the file, corpus and emotion.
    """
    path = path or DEFAULT_PATH
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as error:
        raise EmotionMapError(f"emotion map {path!r} cannot be read: {error}") from error
    except yaml.YAMLError as error:
        raise EmotionMapError(f"emotion map {path!r} is not valid YAML: {error}") from error
    return parse_emotion_map(data, source=path)


def parse_emotion_map(data, source: str = "<dict>") -> EmotionMap:
    """Validates an already-parsed emotion map (see `load_emotion_map`)."""
    if not isinstance(data, dict) or not data:
        raise EmotionMapError(f"emotion map {source!r}: expected a mapping of corpus names to emotion tables")
    result: EmotionMap = {}
    for corpus, table in data.items():
        where = f"emotion map {source!r}, corpus {corpus!r}"
        if not isinstance(corpus, str) or not isinstance(table, dict) or not table:
            raise EmotionMapError(f"{where}: expected a non-empty mapping of emotion names to entries")
        result[corpus] = {}
        for emotion, entry in table.items():
            result[corpus][emotion] = _parse_entry(f"{where}, emotion {emotion!r}", emotion, entry)
    return result


def _parse_entry(where: str, emotion, entry) -> Tuple[int, int]:
    if emotion not in EMOTIONS:
        raise EmotionMapError(f"{where}: unknown emotion; the shared vocabulary is {', '.join(EMOTIONS)}")
    if not isinstance(entry, dict) or set(entry) != {"arousal", "valence"}:
        raise EmotionMapError(f"{where}: expected exactly {{arousal: high|low, valence: positive|negative}}, got {entry!r}")
    arousal, valence = str(entry["arousal"]).lower(), str(entry["valence"]).lower()
    if arousal not in AROUSAL:
        raise EmotionMapError(f"{where}: arousal must be one of {', '.join(AROUSAL)}, got {entry['arousal']!r}")
    if valence not in VALENCE:
        raise EmotionMapError(f"{where}: valence must be one of {', '.join(VALENCE)}, got {entry['valence']!r}")
    return AROUSAL[arousal], VALENCE[valence]
