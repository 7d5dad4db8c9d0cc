"""RAVDESS, the Ryerson Audio-Visual Database of Emotional Speech and Song.

Livingstone & Russo, PLoS ONE 2018. 24 actors (odd ids male, even female),
`Actor_NN/MM-VV-EE-II-SS-RR-AA.wav`: modality, vocal channel (01 speech,
02 song), emotion, intensity, statement, repetition, actor. Only the
audio-only modality (03) is audio; both speech and song are kept, their ids
differ in the vocal-channel field.
"""

import re

from keras_ser.corpora.base import CorpusAdapter, Skip, stem, wav_files

EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad",
            "05": "angry", "06": "fear", "07": "disgust", "08": "surprise"}
AUDIO_ONLY = "03"
ACTOR_FOLDER = re.compile(r"^Actor_\d+$", re.IGNORECASE)
NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
PATTERN = "03-VV-EE-II-SS-RR-AA.wav (modality-channel-emotion-intensity-statement-repetition-actor)"


class Ravdess(CorpusAdapter):
    """RAVDESS adapter: every `Actor_NN` folder under the root."""

    name = "ravdess"
    language = "en"
    layout = "Actor_NN/" + PATTERN

    def scan(self):
        return self.scan_names(wav_files(self.root), NAME, PATTERN, self._record, folder=ACTOR_FOLDER)

    def _record(self, path, match):
        modality, _, code, _, _, _, actor = match.groups()
        if modality != AUDIO_ONLY:
            return Skip(path, stem(path), self.name, f"modality {modality} is not audio-only ({AUDIO_ONLY})")
        gender = "m" if int(actor) % 2 else "f"
        return self.label_code(path, stem(path), actor, gender, code, EMOTIONS)
