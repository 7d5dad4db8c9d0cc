"""What every corpus adapter yields: one `Utterance` per audio file, or a `Skip`.

An adapter reads a corpus as distributed, from its root folder. It never
decodes audio (that is `keras_ser.features`); it only maps the layout and the
label files to records. Files it cannot label are yielded as `Skip` with the
reason, so nothing is dropped silently.
"""

import dataclasses
import os
import re
from typing import Callable, Iterable, Iterator, List, Optional, Union


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
        """`scan()` sorted by utterance id, raising `LayoutError` when no utterance matches.

        A root that yields only skips (say, a folder of unrelated .wav files) is
        treated as the wrong layout too: training on an empty corpus is never
        what the user meant. A second file with an utterance id already used in
        the corpus (a corpus unpacked twice under the root) becomes a `Skip`, so
        ids stay unique within a corpus.
        """
        found = sorted(self.scan(), key=lambda r: (r.utterance_id, r.path))
        first_path = {}
        unique: List[Record] = []
        for record in found:
            if isinstance(record, Utterance):
                key = (record.corpus, record.utterance_id)
                if key in first_path:
                    record = Skip(record.path, record.utterance_id, record.corpus,
                                  f"duplicate utterance id, first seen at {first_path[key]}")
                else:
                    first_path[key] = record.path
            unique.append(record)
        if not first_path:
            skipped = f" ({len(unique)} files skipped, e.g. {unique[0].path}: {unique[0].reason})" if unique else ""
            raise LayoutError(
                f"{self.name}: no files matching the expected layout under {self.root!r}; "
                f"expected {self.layout}{skipped}"
            )
        return iter(unique)

    def scan_names(self, files: Iterable[str], name: re.Pattern, pattern: str,
                   to_record: Callable[[str, re.Match], Record], folder: Optional[re.Pattern] = None
                   ) -> Iterator[Record]:
        """The records of `files` whose names carry their labels.

        A file whose parent folder does not match `folder` is outside the
        layout and passed over; a name that breaks `name` gives the Skip of
        `no_match`; the others give `to_record(path, match)`.
        """
        for path in files:
            if folder is not None and not folder.match(os.path.basename(os.path.dirname(path))):
                continue
            match = name.match(stem(path))
            yield to_record(path, match) if match else self.no_match(path, pattern)

    def label_file(self, name: str) -> str:
        """The path of the corpus's label file `name` (searched below the root), or a LayoutError."""
        path = find_file(self.root, name)
        if path is None:
            raise LayoutError(f"{self.name}: no {name} under {self.root!r}; expected {self.layout}")
        return path

    def no_match(self, path: str, pattern: str) -> Skip:
        """The Skip for a .wav inside the layout's audio folders whose name breaks the pattern."""
        return Skip(path, stem(path), self.name, f"name does not match {pattern}")

    def label_code(self, path, utterance_id, speaker, gender, code, codes: dict, kind: str = "code") -> Record:
        """The Utterance for a corpus emotion code (`codes`: code -> shared emotion), or a Skip naming an unknown code."""
        if code not in codes:
            return Skip(path, utterance_id, self.name, f"unknown emotion {kind} {code!r}")
        return self.label(path, utterance_id, speaker, gender, codes[code])

    def label(self, path, utterance_id, speaker, gender, emotion, corpus=None, language=None) -> Record:
        """Builds the Utterance for a mapped emotion, or a Skip naming the unknown emotion.

        The emotion map is always looked up under the adapter's name; `corpus`
        and `language` override the record's fields for adapters (the manifest)
        whose rows name their own corpus and language.
        """
        corpus = corpus or self.name
        table = self.emotion_map.get(self.name, {})
        if emotion not in table:
            return Skip(path, utterance_id, corpus, f"emotion {emotion!r} not in the {self.name} emotion map")
        arousal, valence = table[emotion]
        return Utterance(
            path=path,
            utterance_id=utterance_id,
            corpus=corpus,
            speaker=f"{corpus}/{speaker}",
            gender=gender,
            language=language or self.language,
            emotion=emotion,
            arousal=arousal,
            valence=valence,
        )


def stem(path: str) -> str:
    """File name without folder and extension: the usual utterance id."""
    return os.path.splitext(os.path.basename(path))[0]


def is_wav(name: str) -> bool:
    return name.lower().endswith(".wav")


def wav_files(folder: str) -> List[str]:
    """Every .wav (any case) below `folder`, sorted; [] when the folder is missing."""
    found = []
    for parent, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(os.path.join(parent, name) for name in sorted(files) if is_wav(name))
    return found


def find_file(root: str, name: str) -> Optional[str]:
    """First file called `name` (case-insensitive) below `root`, shallowest first."""
    matches = []
    for parent, _, files in os.walk(root):
        matches.extend(os.path.join(parent, f) for f in files if f.lower() == name.lower())
    if not matches:
        return None
    return min(matches, key=lambda p: (p.count(os.sep), p))
