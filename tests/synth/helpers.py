"""Helpers of the synth tests: hashing, and reading labels back the way an adapter would."""

import glob
import hashlib
import os
import re

import numpy as np
from scipy.io import wavfile


IEMOCAP_CODES = {"ang": "angry", "hap": "happy", "exc": "happy", "neu": "neutral", "sad": "sad"}
MSP_LETTERS = {"A": "angry", "H": "happy", "N": "neutral", "S": "sad"}
SAVEE_CODES = {
    "a": "angry",
    "d": "disgust",
    "f": "fear",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprise",
}
EMODB_LETTERS = {"W": "angry", "L": "boredom", "E": "disgust", "A": "fear", "F": "happy", "T": "sad", "N": "neutral"}


def wav_hashes(root):
    """{path relative to root: sha256} of every WAV below root."""
    hashes = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "*.wav"), recursive=True)):
        with open(path, "rb") as f:
            hashes[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return hashes


def labelled_files(root, corpus):
    """[(wav path, emotion)] read back from the corpus's own label files and names
    (parsed here independently of keras_ser.synth, the way an adapter would)."""
    items = []
    if corpus == "iemocap":
        pattern = re.compile(r"^\[\d+\.\d{4} - \d+\.\d{4}\]\t(Ses\d\d[FM]_\S+)\t(\w+)\t\[")
        for label_file in glob.glob(os.path.join(root, "Session*", "dialog", "EmoEvaluation", "*.txt")):
            session = label_file.split(os.sep)[-4]
            dialog = os.path.basename(label_file)[:-4]
            with open(label_file, encoding="utf-8") as f:
                for line in f:
                    match = pattern.match(line)
                    if match and match.group(2) in IEMOCAP_CODES:
                        wav = os.path.join(root, session, "sentences", "wav", dialog, match.group(1) + ".wav")
                        items.append((wav, IEMOCAP_CODES[match.group(2)]))
    elif corpus == "msp_improv":
        pattern = re.compile(r"^UTD-IMPROV-(S\d\d[AHSN])-([FM]\d\d)-([PRST])-(FM\d\d)\.avi; (\w);")
        with open(os.path.join(root, "Evalution.txt"), encoding="utf-8") as f:
            for line in f:
                match = pattern.match(line)
                if match and match.group(5) in MSP_LETTERS:
                    scenario, speaker, kind, _, letter = match.groups()
                    session = int(speaker[1:])
                    name = "MSP-IMPROV-" + "-".join(match.groups()[:4]) + ".wav"
                    wav = os.path.join(root, "Audio", f"session{session}", scenario, kind, name)
                    items.append((wav, MSP_LETTERS[letter]))
    elif corpus == "savee":
        for wav in glob.glob(os.path.join(root, "AudioData", "*", "*.wav")):
            code = re.match(r"^([a-z]+)\d\d\.wav$", os.path.basename(wav)).group(1)
            items.append((wav, SAVEE_CODES[code]))
    elif corpus == "emodb":
        for wav in glob.glob(os.path.join(root, "wav", "*.wav")):
            items.append((wav, EMODB_LETTERS[os.path.basename(wav)[5]]))
    return sorted(items)


def read_float(path):
    rate, samples = wavfile.read(path)
    return rate, samples.astype(np.float64) / 32768.0
