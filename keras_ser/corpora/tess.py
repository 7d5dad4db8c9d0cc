"""TESS, the Toronto Emotional Speech Set (English, 2 female speakers).

Pichora-Fuller & Dupuis, 2020. Two actresses, aged 26 (YAF) and 64 (OAF),
say "Say the word <word>" in seven emotions:
`OAF_angry/OAF_back_angry.wav`, `YAF_pleasant_surprised/YAF_back_ps.wav`.
"""

import re

from keras_ser.corpora.base import CorpusAdapter, stem, wav_files

EMOTIONS = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
            "neutral": "neutral", "ps": "surprise", "sad": "sad"}
SPEAKER_FOLDER = re.compile(r"^(OAF|YAF)_", re.IGNORECASE)
NAME = re.compile(r"^(OAF|YAF)_(\w+)_([A-Za-z]+)$", re.IGNORECASE)
PATTERN = "<OAF|YAF>_<word>_<emotion>.wav"


class Tess(CorpusAdapter):
    """TESS adapter: emotion is the last underscore field of the name."""

    name = "tess"
    language = "en"
    layout = "<OAF|YAF>_<emotion>/" + PATTERN

    def scan(self):
        return self.scan_names(wav_files(self.root), NAME, PATTERN, self._record, folder=SPEAKER_FOLDER)

    def _record(self, path, match):
        speaker, code = match.group(1).upper(), match.group(3).lower()
        return self.label_code(path, stem(path), speaker, "f", code, EMOTIONS)
