"""The recording chain that makes each synthetic corpus its own domain.

Speech leaves the synthesizer at 22050 Hz and goes through, in order:
resampling to the corpus rate, the microphone (band-pass + tilt), the room
(convolution with a synthetic exponentially decaying impulse response), the
noise floor of the studio (coloured noise + optional mains hum) and 16-bit
quantisation. Levels are in dBFS of float audio in [-1, 1].
"""

import dataclasses
import functools
from fractions import Fraction
from typing import Optional, Tuple

import numpy as np

# Active-speech RMS a neutral utterance is normalised to before emotion gain:
# -28 dBFS leaves ~12 dB for loud (angry) speech and its peaks.
REFERENCE_LEVEL_DBFS = -28.0


@dataclasses.dataclass(frozen=True)
class RecordingChain:
    """Microphone, room and noise of one corpus.

    Args:
        sample_rate: rate of the written WAV files.
        mic_band: (low, high) -3 dB corners of the microphone band-pass, Hz.
        mic_tilt: spectral tilt of the microphone; > 0 = bright (presence
            boost), < 0 = dull.
        rt60: reverberation time of the room, seconds.
        direct_to_reverb_db: energy ratio of the direct sound to the tail.
        noise_dbfs: RMS level of the background noise.
        noise_color: spectral slope exponent of the noise: 0 white, 1 pink, 2 brown.
        hum_hz: mains hum frequency, or None.
        hum_dbfs: RMS level of the hum.
        gain_jitter_db: per-utterance level spread (distance to the microphone).
    """

    sample_rate: int
    mic_band: Tuple[float, float]
    mic_tilt: float
    rt60: float
    direct_to_reverb_db: float
    noise_dbfs: float
    noise_color: float = 1.0
    hum_hz: Optional[float] = None
    hum_dbfs: float = -90.0
    gain_jitter_db: float = 1.0


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def active_rms(audio: np.ndarray, sample_rate: int, floor_db: float = -35.0) -> float:
    """RMS over 20 ms frames within `floor_db` of the loudest frame (ignores pauses)."""
    frame = max(1, int(0.02 * sample_rate))
    usable = audio[: audio.size // frame * frame].reshape(-1, frame)
    if usable.size == 0:
        return float(np.sqrt(np.mean(audio**2)) + 1e-12)
    energies = np.mean(usable**2, axis=1)
    active = energies[energies >= energies.max() * 10.0 ** (floor_db / 10.0)]
    return float(np.sqrt(np.mean(active)) + 1e-12)


def room_impulse_response(rng: np.random.Generator, sample_rate: int, rt60: float, direct_to_reverb_db: float):
    """Direct path + exponentially decaying noise tail (-60 dB after `rt60` s)."""
    length = max(1, int(rt60 * sample_rate))
    t = np.arange(length) / sample_rate
    tail = rng.standard_normal(length) * np.exp(-6.908 * t / rt60)  # ln(1000) = 6.908: -60 dB at rt60
    # The first ~2 ms belong to the direct sound, not the diffuse tail.
    tail[: int(0.002 * sample_rate)] = 0.0
    tail *= np.sqrt(10.0 ** (-direct_to_reverb_db / 10.0) / (np.sum(tail**2) + 1e-12))
    response = tail
    response[0] = 1.0
    return response


@functools.lru_cache(maxsize=None)
def _microphone(sample_rate: int, band: Tuple[float, float]) -> np.ndarray:
    from scipy import signal  # here, not at the top: the corpus registry stays light for --help

    high = min(band[1], 0.45 * sample_rate)
    return signal.butter(2, (band[0], high), btype="bandpass", fs=sample_rate, output="sos")


@functools.lru_cache(maxsize=None)
def _tilt_lowpass(sample_rate: int) -> np.ndarray:
    from scipy import signal

    return signal.butter(1, 2000.0, btype="lowpass", fs=sample_rate, output="sos")


def colored_noise(rng: np.random.Generator, size: int, exponent: float) -> np.ndarray:
    """Unit-RMS noise with power spectrum ~ 1/f**exponent (shaped in the FFT domain)."""
    spectrum = np.fft.rfft(rng.standard_normal(size))
    freqs = np.arange(spectrum.size, dtype=np.float64)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / freqs ** (exponent / 2.0), n=size)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return audio
    from scipy import signal

    ratio = Fraction(to_rate, from_rate)
    return signal.resample_poly(audio, ratio.numerator, ratio.denominator)


def record(
    speech: np.ndarray,
    speech_rate: int,
    chain: RecordingChain,
    room_response: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Passes float speech (already at its final level) through `chain`; returns int16 samples.

    Args:
        speech: float speech at `speech_rate`, level relative to full scale.
        speech_rate: its sample rate (22050).
        chain: the corpus's recording chain.
        room_response: impulse response at `chain.sample_rate`
            (one per speaker: each speaker has a place in the room).
        rng: the utterance's generator (noise, level jitter).
    """
    from scipy import signal

    rate = chain.sample_rate
    audio = resample(speech, speech_rate, rate)
    audio = signal.sosfilt(_microphone(rate, chain.mic_band), audio)
    audio = audio + chain.mic_tilt * (audio - signal.sosfilt(_tilt_lowpass(rate), audio))
    audio = signal.fftconvolve(audio, room_response)[: audio.size]
    audio = audio * db_to_gain(rng.normal(0.0, chain.gain_jitter_db))
    noise = colored_noise(rng, audio.size, chain.noise_color) * db_to_gain(chain.noise_dbfs)
    if chain.hum_hz:
        t = np.arange(audio.size) / rate
        phase = rng.uniform(0.0, 2.0 * np.pi)
        # Mains hum with its 3rd harmonic, as picked up by unbalanced cables.
        hum = np.sin(2 * np.pi * chain.hum_hz * t + phase) + 0.5 * np.sin(2 * np.pi * 3 * chain.hum_hz * t + phase)
        noise = noise + hum * db_to_gain(chain.hum_dbfs) * np.sqrt(2.0 / 1.25)
    audio = audio + noise
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
