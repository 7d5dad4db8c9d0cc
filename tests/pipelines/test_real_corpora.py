"""The real Emo-DB and EMOVO copies prepare completely, with the counts their READMEs give."""

import collections
import csv
import os

import pytest

from pipelines.prepare import prepare

pytestmark = pytest.mark.slow


def test_real_emodb_and_emovo_prepare_with_their_exact_counts(emodb_root, emovo_root, tmp_path):
    out = str(tmp_path / "prepared")
    summary = prepare({"emodb": emodb_root, "emovo": emovo_root}, out, workers=2, verbose=False)
    with open(os.path.join(out, "manifest.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    by_corpus = collections.defaultdict(list)
    for row in rows:
        by_corpus[row["corpus"]].append(row)
    assert {c: collections.Counter(r["status"] for r in rs) for c, rs in by_corpus.items()} == {
        "emodb": {"ok": 535}, "emovo": {"ok": 588}}

    def counts(corpus, key):
        return dict(collections.Counter(r[key] for r in by_corpus[corpus]))

    # Emo-DB README: W 127, L 81, E 46, A 69, F 71, T 62, N 79; arousal low/high 268/267, valence 385/150.
    assert counts("emodb", "arousal") == {"0": 268, "1": 267}
    assert counts("emodb", "valence") == {"0": 385, "1": 150}
    assert len({r["speaker"] for r in by_corpus["emodb"]}) == 10
    # Every file of this copy is exactly 2.000 s at 22.05 kHz.
    assert {float(r["seconds"]) for r in by_corpus["emodb"]} == {2.0}
    # EMOVO README: 6 actors x 14 sentences x 7 emotions, 84 per emotion; arousal 252/336, valence 336/252.
    assert set(counts("emovo", "emotion").values()) == {84} and len(counts("emovo", "emotion")) == 7
    assert counts("emovo", "arousal") == {"0": 252, "1": 336}
    assert counts("emovo", "valence") == {"0": 336, "1": 252}
    assert len({r["speaker"] for r in by_corpus["emovo"]}) == 6
    assert sum(float(r["seconds"]) for r in by_corpus["emovo"]) / 60 == pytest.approx(30.6, abs=0.05)
    assert summary["audio_seconds"] == pytest.approx(1070 + sum(float(r["seconds"]) for r in by_corpus["emovo"]),
                                                     abs=0.1)
