"""A user's own corpus, described by a CSV manifest instead of a known layout.

Columns: path, speaker, gender, language, emotion (required), corpus and
utterance_id (optional). Relative paths are resolved against the CSV's folder
and may not leave it (a manifest shared with its audio must stay
self-contained); absolute paths are taken as they are. Emotions are looked up
in the `manifest` table of the emotion map, which covers the whole shared
vocabulary.
"""

import csv
import os
from typing import Optional

from keras_ser.corpora.base import CorpusAdapter, LayoutError, Skip, stem

REQUIRED_COLUMNS = ("path", "speaker", "gender", "language", "emotion")
OPTIONAL_COLUMNS = ("corpus", "utterance_id")
GENDERS = {"f": "f", "female": "f", "m": "m", "male": "m"}


class Manifest(CorpusAdapter):
    """CSV manifest adapter; `root` is the CSV file, not a folder.

    The corpus column defaults to "manifest", the registry name, so the
    prepared data and the splits find the rows under the name they were
    requested with.
    """

    name = "manifest"
    language = ""
    layout = (f"a CSV file with columns {', '.join(REQUIRED_COLUMNS)} "
              f"(optional: {', '.join(OPTIONAL_COLUMNS)})")

    def __init__(self, root: str, arousal_valence: Optional[dict] = None):
        if not os.path.isfile(root):
            raise LayoutError(f"{self.name}: {root!r} is not a file; expected {self.layout}")
        super().__init__(os.path.dirname(os.path.abspath(root)), arousal_valence)
        self.folder = self.root
        self.root = os.path.abspath(root)

    def scan(self):
        # utf-8-sig: spreadsheet programs often write a byte-order mark.
        with open(self.root, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = [name.strip() for name in reader.fieldnames or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise LayoutError(f"{self.name}: {self.root!r} lacks the columns {', '.join(missing)}; "
                                  f"expected {self.layout}")
            rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
        for row in rows:
            yield self._record(row)

    def _record(self, row: dict):
        corpus = row.get("corpus") or self.name
        path = row["path"]
        utterance_id = row.get("utterance_id") or stem(path)
        if not path:
            return Skip(path, utterance_id, corpus, "empty path")
        if not os.path.isabs(path):
            path = os.path.normpath(os.path.join(self.folder, path))
            if os.path.commonpath([self.folder, path]) != self.folder:
                return Skip(row["path"], utterance_id, corpus, f"relative path leaves the manifest folder {self.folder!r}")
        if not os.path.isfile(path):
            return Skip(path, utterance_id, corpus, "audio file not found")
        gender = GENDERS.get(row["gender"].lower())
        if gender is None:
            return Skip(path, utterance_id, corpus, f"gender {row['gender']!r} is not one of {', '.join(GENDERS)}")
        if not row["speaker"]:
            return Skip(path, utterance_id, corpus, "empty speaker")
        if not row["language"]:
            return Skip(path, utterance_id, corpus, "empty language")
        return self.label(path, utterance_id, row["speaker"], gender, row["emotion"].lower(),
                          corpus=corpus, language=row["language"].lower())
