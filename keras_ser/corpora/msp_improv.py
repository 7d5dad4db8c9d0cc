"""MSP-IMPROV, acted improvisations with natural interaction (English).

Busso et al., IEEE Trans. Affective Computing 2017. Six sessions of one actress
and one actor; audio is `Audio/session<N>/<scenario>/<type>/MSP-IMPROV-S01A-F01-P-FM01.wav`
and the consensus labels are in the release's `Evalution.txt` (sic), whose
blocks start with a line like
`UTD-IMPROV-S01A-F01-P-FM01.avi; A; A:3.200000; V:1.800000; D:3.400000; N:4.200000;`.
"""

import functools
import os
import re

from keras_ser.corpora.base import CorpusAdapter, Skip, stem, wav_files

LABELS_FILE = "Evalution.txt"
# Consensus letters; O (other) and X (no agreement) have no class.
EMOTIONS = {"A": "angry", "H": "happy", "S": "sad", "N": "neutral"}
# The labels name the video (UTD- prefix, .avi), the audio has MSP-; both
# share the part after "IMPROV-".
NAME = re.compile(r"^(?:MSP|UTD)-IMPROV-(S\d+[A-Z]?-([FM])(\d+)-[A-Z]+-[A-Z]+\d+)$", re.IGNORECASE)
PATTERN = "MSP-IMPROV-S<NN><scenario>-<F|M><NN>-<type>-<turn>.wav, e.g. MSP-IMPROV-S01A-F01-P-FM01.wav"
BLOCK_HEAD = re.compile(r"^\s*(?:MSP|UTD)-IMPROV-([^;\s]+?)\.\w+\s*;\s*([A-Za-z])\s*;", re.IGNORECASE)


def read_labels(path: str) -> dict:
    """Recording key (`S01A-F01-P-FM01`) -> consensus letter; annotator lines are ignored."""
    labels = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = BLOCK_HEAD.match(line)
            if match:
                labels[match.group(1).upper()] = match.group(2).upper()
    return labels


class MspImprov(CorpusAdapter):
    """MSP-IMPROV adapter: speaker = the third name field (F01, M01), gender its letter."""

    name = "msp_improv"
    language = "en"
    layout = f"Audio/session<N>/<scenario>/<type>/{PATTERN} + {LABELS_FILE}"

    def scan(self):
        audio = wav_files(os.path.join(self.root, "Audio"))
        if not audio:
            return
        labels = read_labels(self.label_file(LABELS_FILE))
        yield from self.scan_names(audio, NAME, PATTERN, functools.partial(self._record, labels))

    def _record(self, labels, path, match):
        key, gender, number = match.group(1).upper(), match.group(2).upper(), match.group(3)
        letter = labels.get(key)
        if letter is None:
            return Skip(path, stem(path), self.name, f"no label in {LABELS_FILE}")
        if letter not in EMOTIONS:
            return Skip(path, stem(path), self.name, f"consensus {letter!r} is not one of the 4 classes")
        return self.label(path, stem(path), gender + number, gender.lower(), EMOTIONS[letter])
