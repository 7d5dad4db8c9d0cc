"""A corpus of deliberately broken files next to good ones (IEMOCAP layout).

Each good or convertible file is decoded correctly, each bad one is skipped
with its reason in the manifest, the run completes, and the good files'
TFRecords are identical to a run without the bad ones.
"""

import csv
import glob
import os
import struct

import numpy as np
import pytest
import scipy.io.wavfile

from pipelines.prepare import prepare
from tests.helpers import tone


def _pcm24(path, signal, rate):
    values = np.round(signal * (2**23 - 1)).astype("<i4")
    data = values.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, rate,
                         rate * 3, 3, 24, b"data", len(data))
    open(path, "wb").write(header + data)


def _aiff(path, signal, rate):
    values = np.round(signal * 32767).astype(">i2")
    exponent = int(np.floor(np.log2(rate)))
    rate80 = struct.pack(">H", 16383 + exponent) + struct.pack(">Q", rate << (63 - exponent))
    comm = struct.pack(">hIh", 1, len(values), 16) + rate80
    ssnd = struct.pack(">II", 0, 0) + values.tobytes()
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    open(path, "wb").write(b"FORM" + struct.pack(">I", len(body)) + body)


def _flac(path, signal, rate):
    import soundfile

    soundfile.write(path, signal, rate, format="FLAC", subtype="PCM_16")


def _ogg(path, signal, rate):
    import soundfile

    soundfile.write(path, signal, rate, format="OGG", subtype="VORBIS")


def _wav(dtype, channels=1, rate=16000, seconds=1.0, transform=None):
    def write(path, signal, _):
        signal = tone(seconds, rate, 180, 0.5, seed=7)
        if transform is not None:
            signal = transform(signal)
        if channels > 1:
            signal = np.stack([signal * (0.5 + 0.1 * c) for c in range(channels)], axis=1)
        scale = {"int16": 32767, "int32": 2**31 - 1, "uint8": 127}.get(dtype)
        values = signal if scale is None else np.round(signal * scale + (128 if dtype == "uint8" else 0)).astype(dtype)
        scipy.io.wavfile.write(path, rate, values.astype(dtype) if scale is None else values)
    return write


def _bytes(content):
    return lambda path, signal, rate: open(path, "wb").write(content)


def _nan(signal):
    signal = signal.copy()
    signal[10] = np.nan
    return signal


GOOD = {  # name -> writer; every one must decode
    "int16": _wav("int16"),
    "uint8": _wav("uint8"),
    "int24": lambda path, signal, rate: _pcm24(path, signal, 16000),
    "int32": _wav("int32"),
    "float32": _wav("float32"),
    "stereo": _wav("int16", channels=2),
    "six_channel": _wav("int16", channels=6),
    "rate8k": _wav("int16", rate=8000),
    "rate96k": _wav("int16", rate=96000),
    "ten_minutes": _wav("int16", seconds=600.0),
    "aiff_named_wav": lambda path, signal, rate: _aiff(path, signal, 16000),
    "flac_named_wav": lambda path, signal, rate: _flac(path, signal, 16000),
    "ogg_named_wav": lambda path, signal, rate: _ogg(path, signal, 16000),
}
BAD = {  # name -> (writer, expected reason)
    "empty": (_bytes(b""), "empty file"),
    "truncated_header": (_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00"), "undecodable audio"),
    "random_bytes": (_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))),
                     "undecodable audio: Error opening"),
    "fifty_ms": (_wav("int16", seconds=0.05), "too short"),
    "silence": (_wav("int16", transform=np.zeros_like), "digital silence"),
    "nan": (_wav("float32", transform=_nan), "non-finite"),
    "inf": (_wav("float32", transform=lambda s: np.where(np.arange(s.size) == 5, np.inf, s)), "non-finite"),
    # good audio on disk; the injected reader fails on it inside the worker process
    "raises_in_decoder": (_wav("int16"), "decoder error (RuntimeError): injected decoder failure"),
    "kills_its_worker": (_wav("int16"), "decoding process died"),
}


class FaultyReader:
    """The shipped decoder, except that it raises or kills its process on marked files.

    Picklable: it travels with each job to the decoding worker, whatever the
    worker's start method and environment.
    """

    def __init__(self, raises=(), kills=()):
        self.raises, self.kills = set(raises), set(kills)

    def __call__(self, path, sample_rate, min_duration):
        from keras_ser.audio import load_waveform

        name = os.path.basename(path)
        if name in self.raises:
            raise RuntimeError("injected decoder failure")
        if name in self.kills:
            os.kill(os.getpid(), 9)
        return load_waveform(path)


def _build(root, names_good, names_bad, unlabelled=()):
    dialog = "Ses01F_impro01"
    wav_dir = os.path.join(root, "Session1", "sentences", "wav", dialog)
    os.makedirs(wav_dir)
    os.makedirs(os.path.join(root, "Session1", "dialog", "EmoEvaluation"))
    lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    ids = {}
    for index, name in enumerate(list(names_good) + list(names_bad) + list(unlabelled)):
        utt = f"{dialog}_{'F' if index % 2 else 'M'}{index:03d}"
        ids[name] = utt
        writer = GOOD[name] if name in GOOD else BAD[name][0] if name in BAD else _wav("int16")
        writer(os.path.join(wav_dir, utt + ".wav"), tone(1.0, 16000, 180, 0.5, seed=7), 16000)
        if name not in unlabelled:
            lines += [f"[{index}.0 - {index + 1}.0]\t{utt}\t{'ang' if index % 3 else 'neu'}\t[2.5, 2.5, 2.5]", ""]
    with open(os.path.join(root, "Session1", "dialog", "EmoEvaluation", dialog + ".txt"), "w") as f:
        f.write("\n".join(lines))
    return ids


def _manifest(out):
    with open(os.path.join(out, "manifest.csv"), newline="") as f:
        return {row["utterance_id"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_broken_files_are_skipped_with_reasons_and_good_ones_unchanged(tmp_path):
    ids = _build(str(tmp_path / "mixed"), GOOD, BAD, unlabelled=["no_label_entry"])
    reader = FaultyReader(raises=[ids["raises_in_decoder"] + ".wav"], kills=[ids["kills_its_worker"] + ".wav"])
    rows = _manifest_after(prepare({"iemocap": str(tmp_path / "mixed")}, str(tmp_path / "out_mixed"),
                                   workers=2, verbose=False, reader=reader), tmp_path / "out_mixed")
    for name in GOOD:
        assert rows[ids[name]]["status"] == "ok", (name, rows[ids[name]]["reason"])
    assert float(rows[ids["ten_minutes"]]["seconds"]) == pytest.approx(600.0)
    # 1 + (9600000 - 4240) // 2120 = 4527; the 640-sample tail is under half a hop
    assert int(rows[ids["ten_minutes"]]["n_segments"]) == 4527
    for name, (_, reason) in BAD.items():
        assert rows[ids[name]]["status"] == "skipped" and reason in rows[ids[name]]["reason"], (name, rows[ids[name]])
    assert rows[ids["no_label_entry"]]["status"] == "skipped"
    assert "label" in rows[ids["no_label_entry"]]["reason"].lower()

    _build(str(tmp_path / "clean"), GOOD, ())
    prepare({"iemocap": str(tmp_path / "clean")}, str(tmp_path / "out_clean"), workers=0, verbose=False)
    clean = sorted(glob.glob(str(tmp_path / "out_clean" / "shards" / "*" / "*.tfrecord")))
    mixed = sorted(glob.glob(str(tmp_path / "out_mixed" / "shards" / "*" / "*.tfrecord")))
    assert [os.path.basename(p) for p in clean] == [os.path.basename(p) for p in mixed]
    for a, b in zip(clean, mixed):
        assert open(a, "rb").read() == open(b, "rb").read()


def _manifest_after(summary, out):
    skipped = sum(s["utterances_skipped"] for s in summary["corpora"]["iemocap"].values())
    assert skipped == len(BAD) + 1
    return _manifest(str(out))


def test_unreadable_paths_are_skipped_even_as_root(tmp_path):
    """A dangling symlink is unreadable whoever runs the test (a folder named like a WAV: tests/test_audio.py)."""
    ids = _build(str(tmp_path / "c"), ["int16", "float32", "uint8"], ())
    folder = os.path.join(str(tmp_path), "c", "Session1", "sentences", "wav", "Ses01F_impro01")
    dangling = os.path.join(folder, f"{ids['int16']}.wav")
    os.remove(dangling)
    os.symlink(os.path.join(str(tmp_path), "nowhere.wav"), dangling)
    prepare({"iemocap": str(tmp_path / "c")}, str(tmp_path / "out"), workers=1, verbose=False)
    rows = _manifest(str(tmp_path / "out"))
    assert rows[ids["int16"]]["status"] == "skipped" and "unreadable file: No such file" in rows[ids["int16"]]["reason"]
    assert rows[ids["float32"]]["status"] == "ok" and rows[ids["uint8"]]["status"] == "ok"
