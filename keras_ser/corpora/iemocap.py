"""IEMOCAP, the Interactive Emotional Dyadic Motion Capture database (English).

Busso et al., Language Resources and Evaluation 2008. Five sessions, each one
actress and one actor. Utterances are `Session<N>/sentences/wav/<dialog>/<utt>.wav`;
their consensus labels are in `Session<N>/dialog/EmoEvaluation/<dialog>.txt`.
The usual 4-class set merges excited into happy (5531 utterances on the full
release); other labels are skipped.
"""

import functools
import glob
import os
import re

from keras_ser.corpora.base import CorpusAdapter, Skip, stem, wav_files

EMOTIONS = {"ang": "angry", "hap": "happy", "exc": "happy", "neu": "neutral", "sad": "sad"}
# `Ses01F_impro01_M012`: session 01, dialog recorded with the female actor
# leading, spoken by the male actor (the gender letter of the last field).
NAME = re.compile(r"^(Ses\d\d)[FM]_\w+_([FM])\d+$")
PATTERN = "Ses<NN><F|M>_<dialog>_<F|M><NNN>.wav"
# `[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]`
LABEL_LINE = re.compile(r"^\[[\d.]+\s*-\s*[\d.]+\]\s+(\S+)\s+(\S+)\s+\[")


def read_labels(session: str) -> dict:
    """Utterance id -> emotion code from one session's EmoEvaluation files.

    Only the summary line of each utterance is read; the header, the
    per-annotator lines (`C-E2:`, `A-E1:`) and blank lines are ignored.
    """
    labels = {}
    for path in sorted(glob.glob(os.path.join(session, "dialog", "EmoEvaluation", "*.txt"))):
        # errors="replace": macOS resource forks (`._*.txt`) in some copies are binary.
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                match = LABEL_LINE.match(line)
                if match:
                    labels[match.group(1)] = match.group(2)
    return labels


class Iemocap(CorpusAdapter):
    """IEMOCAP adapter: speaker = session + gender of the speaking actor, e.g. "Ses01M"."""

    name = "iemocap"
    language = "en"
    layout = "Session{1..5}/sentences/wav/<dialog>/" + PATTERN + " + Session*/dialog/EmoEvaluation/<dialog>.txt"

    def scan(self):
        for session in sorted(glob.glob(os.path.join(self.root, "Session*"))):
            audio = wav_files(os.path.join(session, "sentences", "wav"))
            yield from self.scan_names(audio, NAME, PATTERN, functools.partial(self._record, read_labels(session)))

    def _record(self, labels, path, match):
        utterance_id = stem(path)
        code = labels.get(utterance_id)
        if code is None:
            return Skip(path, utterance_id, self.name, "no label in EmoEvaluation")
        if code not in EMOTIONS:
            return Skip(path, utterance_id, self.name, f"emotion {code!r} outside the 4-class set")
        session_id, gender = match.groups()
        return self.label(path, utterance_id, session_id + gender, gender.lower(), EMOTIONS[code])
