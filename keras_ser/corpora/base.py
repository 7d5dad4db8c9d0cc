"""What every corpus adapter yields: one `Utterance` per audio file, or a `Skip`.

An adapter reads a corpus as distributed, from its root folder. It never
decodes audio (that is `keras_ser.features`); it only maps the layout and the
label files to records. Files it cannot label are yielded as `Skip` with the
reason, so nothing is dropped silently.
"""

import dataclasses
import os
from typing import Iterator, Optional, Union


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One labelled (or unlabelled) utterance of a corpus.

    Args:
        path: absolute path of the audio file.
        utterance_id: id unique within the corpus (usually the file stem).
        corpus: registry name of the corpus, e.g. "emodb".
        speaker: speaker id, prefixed with the corpus ("emodb/03"), so speakers
            of different corpora never collide.
        gender: "f" or "m".
        language: ISO 639-1 code, e.g. "en", "de".
        emotion: categorical emotion in the shared vocabulary
            (angry, happy, neutral, sad, boredom, disgust, fear, surprise, calm, ...).
        arousal: 0 = low, 1 = high, -1 = not mapped for this emotion.
        valence: 0 = negative, 1 = positive, -1 = not mapped.
    """

    path: str
    utterance_id: str
    corpus: str
    speaker: str
    gender: str
    language: str
    emotion: str
    arousal: int
    valence: int


@dataclasses.dataclass(frozen=True)
class Skip:
    """A file that belongs to the corpus layout but cannot be used, and why."""

    path: str
    utterance_id: str
    corpus: str
    reason: str


Record = Union[Utterance, Skip]


class LayoutError(ValueError):
    """The root folder does not match the layout the adapter expects."""


class CorpusAdapter:
    """Base class: subclasses set `name`, `language`, `layout` and implement `scan`.

    `layout` is a one-line description of the expected on-disk layout; it is
    quoted in the error raised when a root does not match.
    """

    name: str = ""
    language: str = ""
    layout: str = ""

    def __init__(self, root: str, arousal_valence: Optional[dict] = None):
        self.root = os.path.abspath(root)
        if not os.path.isdir(self.root):
            raise LayoutError(f"{self.name}: corpus root {root!r} does not exist or is not a folder")
        from keras_ser.corpora.emotion_map import load_emotion_map

        self.emotion_map = arousal_valence or load_emotion_map()

    def scan(self) -> Iterator[Record]:
        raise NotImplementedError

    def records(self) -> Iterator[Record]:
        """`scan()` sorted by utterance id, raising `LayoutError` when nothing matches."""
        found = sorted(self.scan(), key=lambda r: (r.utterance_id, r.path))
        if not found:
            raise LayoutError(
                f"{self.name}: no files matching the expected layout under {self.root!r}; "
                f"expected {self.layout}"
            )
        return iter(found)

    def label(self, path, utterance_id, speaker, gender, emotion) -> Record:
        """Builds the Utterance for a mapped emotion, or a Skip naming the unknown emotion."""
        table = self.emotion_map.get(self.name, {})
        if emotion not in table:
            return Skip(path, utterance_id, self.name, f"emotion {emotion!r} not in the {self.name} emotion map")
        arousal, valence = table[emotion]
        return Utterance(
            path=path,
            utterance_id=utterance_id,
            corpus=self.name,
            speaker=f"{self.name}/{speaker}",
            gender=gender,
            language=self.language,
            emotion=emotion,
            arousal=arousal,
            valence=valence,
        )
