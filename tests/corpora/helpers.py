"""Tiny corpus trees for adapter tests: placeholder .wav files, real label files.

Adapters never decode audio, so every .wav here is a few placeholder bytes.
"""

import pathlib
from typing import Dict, Iterable, Optional, Tuple

import pytest

from keras_ser.corpora import LayoutError, Skip, Utterance, get_adapter


def make_tree(root: pathlib.Path, wavs: Iterable[str] = (), texts: Optional[Dict[str, str]] = None) -> pathlib.Path:
    """Writes placeholder files at the relative paths `wavs` and text files `texts` under `root`."""
    for relative in wavs:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF placeholder")
    for relative, text in (texts or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def read_corpus(name: str, root, emotion_map=None) -> Tuple[Dict[str, Utterance], Dict[str, Skip]]:
    """The adapter's records split into utterances and skips, each keyed by utterance id."""
    records = list(get_adapter(name, str(root), emotion_map).records())
    utterances = {r.utterance_id: r for r in records if isinstance(r, Utterance)}
    skips = {r.utterance_id: r for r in records if isinstance(r, Skip)}
    assert len(utterances) + len(skips) == len(records), "utterance ids must be unique"
    return utterances, skips


def fields(utterance: Utterance) -> tuple:
    """The label fields an adapter derives, for compact comparisons."""
    return (utterance.speaker, utterance.gender, utterance.language, utterance.emotion,
            utterance.arousal, utterance.valence)


def assert_layout_error(name: str, root, expected_layout: str):
    """`records()` on `root` raises LayoutError quoting `expected_layout`."""
    with pytest.raises(LayoutError) as error:
        list(get_adapter(name, str(root)).records())
    assert expected_layout in str(error.value)
