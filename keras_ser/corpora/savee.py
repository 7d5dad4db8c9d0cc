"""SAVEE, Surrey Audio-Visual Expressed Emotion (British English, 4 male speakers).

Haq & Jackson, "Speaker-dependent audio-visual emotion recognition", AVSP 2009.
Distributed as `AudioData/<DC|JE|JK|KL>/<code><nn>.wav`; a common repackaging
flattens it to `<SPK>_<code><nn>.wav`. Both are accepted, anywhere under the root.
"""

import os
import re

from keras_ser.corpora.base import CorpusAdapter, stem, wav_files

EMOTIONS = {"a": "angry", "d": "disgust", "f": "fear", "h": "happy", "n": "neutral", "sa": "sad", "su": "surprise"}
SPEAKERS = ("DC", "JE", "JK", "KL")  # all male, per the corpus documentation
_CODE = r"(sa|su|[a-z])(\d\d)"
NESTED = re.compile(rf"^{_CODE}$")
FLAT = re.compile(rf"^({'|'.join(SPEAKERS)})_{_CODE}$")
PATTERN = "AudioData/<DC|JE|JK|KL>/<code><nn>.wav or <SPK>_<code><nn>.wav (code a, d, f, h, n, sa, su)"


class Savee(CorpusAdapter):
    """SAVEE adapter; utterance ids are `<SPK>_<code><nn>` in both layouts."""

    name = "savee"
    language = "en"
    layout = PATTERN

    def scan(self):
        for path in wav_files(self.root):
            name = stem(path)
            folder = os.path.basename(os.path.dirname(path))
            nested = NESTED.match(name) if folder in SPEAKERS else None
            flat = FLAT.match(name)
            if nested:
                speaker, (code, number) = folder, nested.groups()
            elif flat:
                speaker, code, number = flat.groups()
            else:
                yield self.no_match(path, PATTERN)
                continue
            utterance_id = f"{speaker}_{code}{number}"
            yield self.label_code(path, utterance_id, speaker, "m", code, EMOTIONS)
