"""From an audio file to mono 16 kHz float32 samples, without TensorFlow.

Every file is decoded by soundfile (libsndfile, shipped in its wheel), which
recognises the container from the file's bytes, never from its name: WAV in
its real variants (extra chunks anywhere, odd frame counts,
WAVE_FORMAT_EXTENSIBLE, 8/16/24/32-bit integer and 32/64-bit float), RF64,
W64, FLAC (16 and 24 bit), AIFF/AIFF-C, OGG/Vorbis, Opus, MP3 and the other
formats libsndfile reads. tensorflow-io is not used: it failed on valid WAVs
(extra RIFF chunks, odd frame counts) and pinned TensorFlow to 2.16.

Output contract: float32 (integer PCM scaled to [-1, 1]; float files as
stored), channels averaged, resampled (scipy
polyphase) to the model's rate. Anything unusable raises `AudioError` whose
text is the one-line reason recorded in the manifest.

This module imports neither TensorFlow nor Keras, so prepare's decoding
workers and `predict` on a .tflite file start in well under a second.
"""

import math

import numpy as np


class AudioError(Exception):
    """A file that cannot be used; `str(err)` is the reason recorded in the manifest."""


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__


def read_audio(path: str):
    """Returns (samples float32 [frames, channels] in [-1, 1], sample_rate).

    Raises AudioError with a one-line reason for anything unusable.
    """
    import soundfile

    try:
        with open(path, "rb") as f:
            if not f.read(1):
                raise AudioError("empty file")
    except IsADirectoryError as err:
        raise AudioError("unreadable file: is a directory") from err
    except OSError as err:
        raise AudioError(f"unreadable file: {err.strerror or _one_line(err)}") from err
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError, EOFError) as err:
        raise AudioError(f"undecodable audio: {_one_line(err)}") from err
    if rate < 1000:
        raise AudioError(f"invalid sample rate ({rate} Hz)")
    if samples.shape[0] == 0:
        raise AudioError("no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioError("non-finite samples (NaN or Inf)")
    if not np.any(samples):
        raise AudioError("digital silence (all samples are zero)")
    return samples, int(rate)


def to_model_rate(samples: np.ndarray, rate: int, sample_rate: int = 16000, min_duration: float = 0.1) -> np.ndarray:
    """Averages channels and resamples (polyphase, scipy) to `sample_rate`."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if rate != sample_rate:
        # Imported only when needed: scipy.signal takes about a second to load,
        # which a 16 kHz stream or file need not wait for.
        from scipy.signal import resample_poly

        common = math.gcd(int(rate), int(sample_rate))
        mono = resample_poly(mono, sample_rate // common, rate // common)
    if mono.shape[0] < min_duration * sample_rate:
        raise AudioError(f"too short ({mono.shape[0] / sample_rate:.3f} s < {min_duration} s)")
    return np.asarray(mono, np.float32)


def load_waveform(path: str, config=None):
    """read_audio + to_model_rate; returns (mono float32 at the model's rate, seconds of audio).

    `config` is a FeatureConfig (or anything with `sample_rate` and
    `min_duration`); None means the defaults (16 kHz, 0.1 s).
    """
    return load_at_rate(path, getattr(config, "sample_rate", 16000), getattr(config, "min_duration", 0.1))


def load_at_rate(path: str, sample_rate: int = 16000, min_duration: float = 0.1):
    """read_audio + to_model_rate at an explicit rate; returns (mono float32, seconds of audio)."""
    samples, rate = read_audio(path)
    return to_model_rate(samples, rate, sample_rate, min_duration), samples.shape[0] / rate
