"""The tiny corpora have the real corpora's layouts, label files, rates and speakers."""

import collections
import glob
import os
import re

import numpy as np
import pytest
from scipy.io import wavfile

from tests.synth.helpers import labelled_files, read_float

SAMPLE_RATES = {"iemocap": 16000, "msp_improv": 48000, "savee": 44100, "emodb": 16000}
EMOTIONS = {
    "iemocap": {"angry", "happy", "neutral", "sad"},
    "msp_improv": {"angry", "happy", "neutral", "sad"},
    "savee": {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"},
    "emodb": {"angry", "boredom", "disgust", "fear", "happy", "sad", "neutral"},
}


def all_wavs(root):
    return sorted(glob.glob(os.path.join(root, "**", "*.wav"), recursive=True))


@pytest.mark.parametrize("corpus", sorted(SAMPLE_RATES))
def test_every_wav_is_labelled_non_silent_16bit_at_the_corpus_rate(tiny, corpus):
    _, roots, _ = tiny
    root = roots[corpus]
    labelled = labelled_files(root, corpus)
    assert {emotion for _, emotion in labelled} == EMOTIONS[corpus]
    for path, _ in labelled:
        assert os.path.isfile(path), path
    for path in all_wavs(root):
        rate, samples = wavfile.read(path)
        assert rate == SAMPLE_RATES[corpus]
        assert samples.dtype == np.int16 and samples.ndim == 1
        assert 0.5 < samples.size / rate < 6.0
        _, audio = read_float(path)
        assert np.sqrt(np.mean(audio**2)) > 10 ** (-45 / 20), f"{path} is (nearly) silent"


def test_iemocap_sessions_speakers_and_label_file(tiny):
    _, roots, _ = tiny
    root = roots["iemocap"]
    wavs = all_wavs(root)
    name = re.compile(r"Session(\d)/sentences/wav/(Ses0(\d)[FM]_(impro|script)\d\d(_\d)?)/\2_([FM])\d{3}\.wav$")
    speakers = set()
    for path in wavs:
        match = name.search(path.replace(os.sep, "/"))
        assert match, path
        assert match.group(1) == match.group(3)
        speakers.add((match.group(1), match.group(6)))
    assert speakers == {(str(s), g) for s in range(1, 6) for g in "FM"}

    codes = collections.Counter()
    turns = 0
    for label_file in glob.glob(os.path.join(root, "Session*", "dialog", "EmoEvaluation", "*.txt")):
        with open(label_file, encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[0] == "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]" and lines[1] == ""
        dialog = os.path.basename(label_file)[:-4]
        for i, line in enumerate(lines):
            match = re.match(r"^\[(\d+\.\d{4}) - (\d+\.\d{4})\]\t(\S+)\t(\w+)\t\[\d\.\d{4}, \d\.\d{4}, \d\.\d{4}\]$", line)
            if match:
                turns += 1
                start, end, turn, code = match.groups()
                assert turn.startswith(dialog + "_") and float(end) > float(start)
                assert re.match(r"^C-\w+:\t\w+;\t\(\)$", lines[i + 1])
                codes[code] += 1
    assert turns == len(wavs)
    assert set(codes) == {"ang", "hap", "exc", "neu", "sad", "fru"}


def test_msp_improv_layout_speakers_and_evaluation_blocks(tiny):
    _, roots, _ = tiny
    root = roots["msp_improv"]
    name = re.compile(
        r"Audio/session(\d)/(S\d\d[AHSN])/([PRST])/MSP-IMPROV-\2-([FM])0(\d)-\3-FM\d\d\.wav$"
    )
    speakers = set()
    wavs = all_wavs(root)
    for path in wavs:
        match = name.search(path.replace(os.sep, "/"))
        assert match, path
        assert match.group(1) == match.group(5)
        speakers.add((match.group(4), match.group(5)))
    assert speakers == {(g, str(s)) for s in range(1, 7) for g in "FM"}

    with open(os.path.join(root, "Evalution.txt"), encoding="utf-8") as f:
        blocks = f.read().strip().split("\n\n")
    assert len(blocks) == len(wavs)
    letters = collections.Counter()
    for block in blocks:
        head, *annotators = block.split("\n")
        match = re.match(r"^UTD-IMPROV-\S+\.avi; ([AHSNO]); A:\d\.\d{6}; V:\d\.\d{6}; D:\d\.\d{6}; N:\d\.\d{6};$", head)
        assert match, head
        letters[match.group(1)] += 1
        assert len(annotators) == 2 and all(a.startswith("anno-") for a in annotators)
    assert set(letters) == set("AHSNO")


def test_savee_speakers_and_codes(tiny):
    _, roots, _ = tiny
    names = [os.path.relpath(p, roots["savee"]).replace(os.sep, "/") for p in all_wavs(roots["savee"])]
    assert all(re.match(r"^AudioData/(DC|JE|JK|KL)/(a|d|f|h|n|sa|su)\d\d\.wav$", n) for n in names)
    assert {n.split("/")[1] for n in names} == {"DC", "JE", "JK", "KL"}
    assert len(names) == 4 * 7  # tiny: one per speaker and emotion


def test_emodb_speakers_texts_and_codes(tiny):
    _, roots, _ = tiny
    names = [os.path.basename(p) for p in all_wavs(roots["emodb"])]
    assert all(re.match(r"^\d\d[ab]\d\d[WLEAFTN][a-j]\.wav$", n) for n in names)
    assert {n[:2] for n in names} == {"03", "08", "09", "10", "11", "12", "13", "14", "15", "16"}
    assert len(names) == 10 * 7
