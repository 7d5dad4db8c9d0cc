"""Small shared builders for tests: tiny corpora of tones in real layouts."""

import os

import numpy as np
import scipy.io.wavfile

EMODB_GENDERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m"}


def tone(seconds: float, rate: int, pitch: float, loudness: float, seed: int) -> np.ndarray:
    """A harmonic tone with noise: loud and high for 'high arousal', soft and low otherwise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    signal = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
    signal = loudness * signal / np.max(np.abs(signal)) + 0.01 * rng.normal(size=t.shape)
    return np.clip(signal, -1, 1).astype("float32")


def write_wav(path: str, signal: np.ndarray, rate: int) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scipy.io.wavfile.write(path, rate, np.round(signal * 32767).astype("int16"))
    return path


def tiny_emodb(root: str, speakers=("03", "08", "09", "10", "11"), emotions="WNLF", seconds=0.6) -> str:
    """An Emo-DB layout whose 'W'/'F' files are loud and high, 'N'/'L' soft and low."""
    for s_index, speaker in enumerate(speakers):
        for e_index, emotion in enumerate(emotions):
            high = emotion in "WFA"
            signal = tone(seconds, 16000, 220 if high else 110, 0.8 if high else 0.1, seed=s_index * 10 + e_index)
            write_wav(os.path.join(root, "wav", f"{speaker}a0{e_index + 1}{emotion}a.wav"), signal, 16000)
    return root


def tiny_savee(root: str, speakers=("DC", "JE", "JK", "KL"), codes=("a", "h", "n", "sa"), seconds=0.6) -> str:
    """A SAVEE layout: angry/happy loud and high, neutral/sad soft and low."""
    for s_index, speaker in enumerate(speakers):
        for c_index, code in enumerate(codes):
            high = code in ("a", "h", "f", "su")
            signal = tone(seconds, 44100, 240 if high else 120, 0.7 if high else 0.12, seed=100 + s_index * 10 + c_index)
            write_wav(os.path.join(root, "AudioData", speaker, f"{code}01.wav"), signal, 44100)
    return root


def tiny_prepared(folder: str) -> str:
    """Two tone corpora (German Emo-DB layout, English SAVEE layout), prepared."""
    from pipelines.prepare import prepare

    corpora = {"emodb": tiny_emodb(os.path.join(folder, "emodb")), "savee": tiny_savee(os.path.join(folder, "savee"))}
    out = os.path.join(folder, "prepared")
    prepare(corpora, out, workers=1, verbose=False)
    return out


# A model small enough for end-to-end tests on a CPU (same architecture, fewer units).
TINY_MODEL = {"conv_filters": [8, 16, 16], "lstm_units": 16, "embedding_dim": 16, "domain_hidden": 16}


def tiny_model_config(folder: str) -> str:
    """A --config YAML with TINY_MODEL, for command-line tests."""
    import yaml

    path = os.path.join(folder, "tiny_model.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"model": TINY_MODEL}, f)
    return path


def free_ports(count: int) -> list:
    """`count` TCP ports free on 127.0.0.1 right now (for loopback clusters)."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def modules_seen_by_the_worker(path, sample_rate, min_duration):
    """A reader that reports, as its 'waveform', what its decoding worker had imported before the call."""
    import sys

    return np.array([os.getpid(), "scipy.signal" in sys.modules, "tensorflow" in sys.modules], np.float64), 1.0
