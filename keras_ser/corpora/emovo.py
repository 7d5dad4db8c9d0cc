"""EMOVO, Italian emotional speech (6 actors, 3 female and 3 male).

Costantini et al., "EMOVO corpus: an Italian emotional speech database",
LREC 2014. `f1/dis-f1-b1.wav`: emotion, speaker, sentence.
"""

import re

from keras_ser.corpora.base import CorpusAdapter, stem, wav_files

# Italian abbreviations: disgusto, gioia, neutro, paura, rabbia, sorpresa, tristezza.
EMOTIONS = {"dis": "disgust", "gio": "happy", "neu": "neutral", "pau": "fear",
            "rab": "angry", "sor": "surprise", "tri": "sad"}
SPEAKER_FOLDER = re.compile(r"^[fm][1-3]$", re.IGNORECASE)
NAME = re.compile(r"^([a-z]+)-([fm][1-3])-(\w+)$", re.IGNORECASE)
PATTERN = "<emo>-<spk>-<sentence>.wav, e.g. dis-f1-b1.wav"


class Emovo(CorpusAdapter):
    """EMOVO adapter: speaker folders f1..f3, m1..m3; gender is the speaker's letter."""

    name = "emovo"
    language = "it"
    layout = "<f1..f3|m1..m3>/" + PATTERN

    def scan(self):
        return self.scan_names(wav_files(self.root), NAME, PATTERN, self._record, folder=SPEAKER_FOLDER)

    def _record(self, path, match):
        code, speaker = match.group(1).lower(), match.group(2).lower()
        return self.label_code(path, stem(path), speaker, speaker[0], code, EMOTIONS)
