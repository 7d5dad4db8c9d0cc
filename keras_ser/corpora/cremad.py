"""CREMA-D, the Crowd-sourced Emotional Multimodal Actors Dataset (English).

Cao et al., IEEE Trans. Affective Computing 2014. 91 actors;
`AudioWAV/1001_DFA_ANG_XX.wav` is actor, sentence, emotion, intensity. Genders
are in `VideoDemographics.csv` (ActorID, Age, Sex, Race, Ethnicity).
"""

import csv
import functools
import os
import re

from keras_ser.corpora.base import CorpusAdapter, LayoutError, Skip, stem, wav_files

DEMOGRAPHICS_FILE = "VideoDemographics.csv"
EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
SEXES = {"female": "f", "male": "m"}
NAME = re.compile(r"^(\d+)_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
PATTERN = "<actor>_<sentence>_<emotion>_<intensity>.wav, e.g. 1001_DFA_ANG_XX.wav"


def read_demographics(path: str) -> dict:
    """ActorID -> "f"/"m" (or the raw Sex value when it is neither)."""
    # utf-8-sig: the release's CSV may start with a byte-order mark.
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = {name.strip() for name in reader.fieldnames or []}
        if not {"ActorID", "Sex"} <= columns:
            raise LayoutError(f"cremad: {path!r} lacks the columns ActorID and Sex (has {sorted(columns)})")
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    return {row["ActorID"]: SEXES.get(row["Sex"].lower(), row["Sex"]) for row in rows}


class CremaD(CorpusAdapter):
    """CREMA-D adapter; actors missing from the demographics file are skipped."""

    name = "cremad"
    language = "en"
    layout = f"AudioWAV/{PATTERN} + {DEMOGRAPHICS_FILE}"

    def scan(self):
        audio = wav_files(os.path.join(self.root, "AudioWAV"))
        if not audio:
            return
        genders = read_demographics(self.label_file(DEMOGRAPHICS_FILE))
        yield from self.scan_names(audio, NAME, PATTERN, functools.partial(self._record, genders))

    def _record(self, genders, path, match):
        actor, _, code, _ = match.groups()
        gender = genders.get(actor)
        if gender is None:
            return Skip(path, stem(path), self.name, f"actor {actor} not in {DEMOGRAPHICS_FILE}")
        if gender not in ("f", "m"):
            return Skip(path, stem(path), self.name, f"actor {actor} has Sex {gender!r} in {DEMOGRAPHICS_FILE}")
        return self.label_code(path, stem(path), actor, gender, code, EMOTIONS)
