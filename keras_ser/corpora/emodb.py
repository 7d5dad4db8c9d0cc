"""Emo-DB, the Berlin Database of Emotional Speech (German, 10 actors).

Burkhardt et al., "A database of German emotional speech", Interspeech 2005.
File names encode everything: `wav/03a01Fa.wav` is speaker 03, text a01,
emotion F (Freude), version a.
"""

import os
import re

from keras_ser.corpora.base import CorpusAdapter, Skip, stem, wav_files

# The 6th character of the name, German initials.
EMOTIONS = {"W": "angry", "L": "boredom", "E": "disgust", "A": "fear", "F": "happy", "T": "sad", "N": "neutral"}
# Speaker table of the corpus documentation.
GENDERS = {"03": "m", "10": "m", "11": "m", "12": "m", "15": "m",
           "08": "f", "09": "f", "13": "f", "14": "f", "16": "f"}
NAME = re.compile(r"^(\d\d)([a-z]\d\d)([A-Z])([a-z])$")
PATTERN = "<speaker 2 digits><text a01><emotion letter><version>.wav, e.g. 03a01Fa.wav"


class EmoDB(CorpusAdapter):
    """Emo-DB adapter: `wav/<spk><text><emo><ver>.wav`, speaker = first two characters."""

    name = "emodb"
    language = "de"
    layout = "wav/" + PATTERN

    def scan(self):
        return self.scan_names(wav_files(os.path.join(self.root, "wav")), NAME, PATTERN, self._record)

    def _record(self, path, match):
        speaker, _, code, _ = match.groups()
        if speaker not in GENDERS:
            return Skip(path, stem(path), self.name, f"speaker {speaker!r} is not one of the 10 Emo-DB actors")
        return self.label_code(path, stem(path), speaker, GENDERS[speaker], code, EMOTIONS, kind="letter")
