"""What a synthetic corpus declares: speakers, recording chain, file plan, label files.

A `SyntheticCorpus` plans every file (path relative to the corpus root,
speaker, emotion, text) from (scale, seed) alone, before any audio exists;
the audio is rendered per speaker elsewhere; afterwards the corpus writes its
label files from the plan and the measured durations. Subclasses mirror the
real corpus's on-disk layout so the regular adapters read the result unchanged.
"""

import dataclasses
import zlib
from typing import Dict, Iterator, List, Mapping, NamedTuple, Sequence, Tuple

import numpy as np

from keras_ser.synth.channel import RecordingChain

SCALES = ("tiny", "small", "paper")

# SeedSequence "purposes": independent streams for the same (corpus, speaker).
PURPOSE_UTTERANCE = 0
PURPOSE_SPEAKER = 1
PURPOSE_PLAN = 2
PURPOSE_LABELS = 3


def stable_key(text: str) -> int:
    """A process-independent integer for a name (Python's hash() is salted)."""
    return zlib.crc32(text.encode("utf-8"))


def derive_rng(seed: int, corpus: str, speaker: str, purpose: int, index: int = 0) -> np.random.Generator:
    """The generator for one (seed, corpus, speaker, purpose, index) - independent of worker count."""
    entropy = [int(seed), stable_key(corpus), stable_key(speaker), purpose, int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


@dataclasses.dataclass(frozen=True)
class SpeakerSpec:
    """One speaker of a corpus.

    Args:
        speaker_id: as the corpus names it ("Ses01F", "F01", "DC", "03").
        gender: "f" or "m".
        session: recording session (1-based), 0 if the corpus has none.
    """

    speaker_id: str
    gender: str
    session: int = 0


@dataclasses.dataclass(frozen=True)
class PlannedUtterance:
    """One file to render.

    Args:
        rel_path: path below the corpus root, "/"-separated.
        speaker_id: the SpeakerSpec it belongs to.
        index: position in the speaker's list; with the seed it keys the
            utterance's random generator.
        emotion: a key of `prosody.EMOTION_PROSODY` (what is rendered).
        text: what is said.
        label: the corpus's own label code ("exc", "A", "sa", "W", ...).
        meta: corpus-specific extras for the label files (dialog, turn, ...).
    """

    rel_path: str
    speaker_id: str
    index: int
    emotion: str
    text: str
    label: str
    meta: Tuple[Tuple[str, str], ...] = ()

    def meta_value(self, key: str) -> str:
        return dict(self.meta)[key]


class Take(NamedTuple):
    """One planned recording before the layout names it."""

    spec: SpeakerSpec
    emotion: str
    number: int  # the take's number within its speaker and emotion, from 0
    text: int  # index into the corpus's text bank
    index: int  # the take's number within its speaker, from 0


class SyntheticCorpus:
    """Base class; subclasses set the class attributes and implement `plan`.

    Attributes:
        name: registry name, the same as the corpus adapter's.
        espeak_voice: eSpeak language voice ("en-us", "en-gb", "de").
        chain: the corpus's recording chain.
        speakers: its speakers.
        paper_counts: utterances per rendered emotion in the real corpus
            (its 4-class or full emotion set), used for the `paper` scale.
        small_total: utterances of the `small` scale (before extra items).
    """

    name: str = ""
    espeak_voice: str = ""
    chain: RecordingChain
    speakers: Sequence[SpeakerSpec] = ()
    paper_counts: Mapping[str, int] = {}
    small_total: int = 0

    def speaker(self, speaker_id: str) -> SpeakerSpec:
        return next(s for s in self.speakers if s.speaker_id == speaker_id)

    def counts(self, scale: str) -> Dict[Tuple[str, str], int]:
        """Utterances per (speaker_id, emotion) at `scale`.

        `tiny` is one per speaker and emotion; `small` and `paper` keep the
        real corpus's emotion proportions, spread evenly over speakers.
        """
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {SCALES}")
        speakers = [s.speaker_id for s in self.speakers]
        if scale == "tiny":
            return {(s, e): 1 for s in speakers for e in self.paper_counts}
        factor = 1.0 if scale == "paper" else self.small_total / sum(self.paper_counts.values())
        counts = {}
        for emotion_index, (emotion, paper_count) in enumerate(self.paper_counts.items()):
            total = max(len(speakers), int(round(paper_count * factor)))
            base, remainder = divmod(total, len(speakers))
            for position, speaker in enumerate(speakers):
                # Rotate who gets the remainder so no speaker is always the biggest.
                extra = 1 if (position - emotion_index) % len(speakers) < remainder else 0
                counts[(speaker, emotion)] = base + extra
        return counts

    def text_order(self, seed: int, speaker_id: str, n_texts: int) -> np.ndarray:
        """A per-speaker permutation of the text bank; the j-th utterance of
        every emotion uses entry j, so texts are balanced across emotions."""
        return derive_rng(seed, self.name, speaker_id, PURPOSE_PLAN).permutation(n_texts)

    def takes(self, scale: str, seed: int, n_texts: int) -> Iterator[Take]:
        """Every take of `counts(scale)`: speaker by speaker, emotion by
        emotion in `paper_counts` order, the texts in the speaker's `text_order`."""
        counts = self.counts(scale)
        for spec in self.speakers:
            order = self.text_order(seed, spec.speaker_id, n_texts)
            index = 0
            for emotion in self.paper_counts:
                for j in range(counts[(spec.speaker_id, emotion)]):
                    yield Take(spec, emotion, j, int(order[j % n_texts]), index)
                    index += 1

    def plan(self, scale: str, seed: int) -> List[PlannedUtterance]:
        raise NotImplementedError

    def write_labels(self, root: str, plan: Sequence[PlannedUtterance], durations: Mapping[str, float], seed: int):
        """Writes the corpus's label files (default: labels live in file names)."""
