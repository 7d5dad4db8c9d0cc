"""Emotion as prosody: per-emotion rules, speaker baselines, utterance jitter.

The rules follow the qualitative tables of emotional-prosody research, turned
into numbers for eSpeak NG (rate in words per minute, pitch and range on its
0-100 scales) plus voice-quality post-processing:

    emotion   rate        pitch level     pitch range   loudness   voice quality
    angry     faster      much higher     much wider    higher     tense (flat tilt)
    happy     faster      much higher     much wider    higher     breathy, slightly tense
    sad       slower      lower           narrower      lower      lax, breathy, irregular
    fear      much faster very much higher wider        normal     breathy, tremor
    disgust   much slower lower           slightly wider lower     lax, irregular
    boredom   slower      lower           much narrower lower      lax, creaky
    surprise  faster      very much higher much wider   higher     slightly tense

Arousal (angry/happy/fear/surprise vs neutral/sad/boredom) moves rate, pitch
and loudness a lot; valence within an arousal level (happy vs angry) differs
only by small shifts of range, tension and breathiness that the per-utterance
jitter mostly covers, so - as in acted corpora - valence is the harder task.

Reference:
    Murray & Arnott (1993), "Toward the simulation of emotion in synthetic
    speech", JASA 93(2). Schröder (2001), "Emotional speech synthesis: a
    review", Eurospeech.
"""

import dataclasses
import functools

import numpy as np
from scipy import signal


@dataclasses.dataclass(frozen=True)
class EmotionProsody:
    """How one emotion shifts a speaker's neutral voice.

    Args:
        rate: factor on speech rate.
        pitch: offset of the base pitch, eSpeak units (0-100 scale).
        pitch_range: factor on the pitch range.
        loudness_db: gain relative to the speaker's neutral level.
        tension: spectral tilt; > 0 boosts the highs (pressed, tense voice),
            < 0 cuts them (lax voice).
        breathiness: added aspiration noise, amplitude relative to the speech.
        shimmer: depth of irregular amplitude modulation (creak, tremor).
    """

    rate: float = 1.0
    pitch: float = 0.0
    pitch_range: float = 1.0
    loudness_db: float = 0.0
    tension: float = 0.0
    breathiness: float = 0.0
    shimmer: float = 0.0


EMOTION_PROSODY = {
    "neutral": EmotionProsody(),
    "angry": EmotionProsody(1.16, 12, 1.45, 6.5, 0.55, 0.00, 0.00),
    "happy": EmotionProsody(1.12, 14, 1.60, 5.0, 0.30, 0.04, 0.00),
    "sad": EmotionProsody(0.88, -5, 0.70, -3.5, -0.30, 0.04, 0.12),
    "fear": EmotionProsody(1.28, 18, 1.35, 2.0, 0.15, 0.08, 0.18),
    "disgust": EmotionProsody(0.80, -8, 1.15, -2.0, -0.10, 0.02, 0.15),
    "boredom": EmotionProsody(0.84, -6, 0.50, -4.0, -0.35, 0.02, 0.25),
    "surprise": EmotionProsody(1.14, 20, 1.70, 4.0, 0.20, 0.03, 0.00),
    # Outside every 4-class set; only used for the items adapters must skip.
    "frustrated": EmotionProsody(1.05, 4, 1.10, 2.0, 0.30, 0.02, 0.05),
}

# Standard deviations of the per-utterance gaussian jitter on every parameter.
UTTERANCE_JITTER = EmotionProsody(
    rate=0.07, pitch=5.0, pitch_range=0.15, loudness_db=2.5, tension=0.20, breathiness=0.015, shimmer=0.04
)

# eSpeak NG's own default rate, words per minute.
BASE_RATE = 165.0
VARIANTS = {"f": ("f1", "f2", "f3", "f4", "f5"), "m": ("m1", "m2", "m3", "m4", "m5", "m6", "m7")}


@dataclasses.dataclass(frozen=True)
class SpeakerVoice:
    """One synthetic speaker's neutral voice.

    Args:
        voice: eSpeak voice with variant, e.g. "en-us+f2".
        rate: neutral speech rate, words per minute.
        pitch: neutral base pitch (0-100).
        pitch_range: neutral pitch range (0-100).
        loudness_db: neutral level relative to the corpus reference.
        tension: habitual spectral tilt.
        breathiness: habitual aspiration noise.
        expressiveness: how strongly this speaker acts the emotions (factor
            on every EmotionProsody shift).
    """

    voice: str
    rate: float
    pitch: float
    pitch_range: float
    loudness_db: float
    tension: float
    breathiness: float
    expressiveness: float


@dataclasses.dataclass(frozen=True)
class UtteranceProsody:
    """The concrete parameters of one utterance (eSpeak settings + post-processing)."""

    rate: int
    pitch: int
    pitch_range: int
    loudness_db: float
    tension: float
    breathiness: float
    shimmer: float


def sample_speaker(rng: np.random.Generator, language_voice: str, gender: str, variant: str) -> SpeakerVoice:
    """Draws a speaker baseline around eSpeak's defaults for `language_voice+variant`."""
    return SpeakerVoice(
        voice=f"{language_voice}+{variant}",
        rate=BASE_RATE * float(np.exp(rng.normal(0.0, 0.10))),
        pitch=float(np.clip(rng.normal(50.0, 8.0), 25, 75)),
        pitch_range=float(np.clip(rng.normal(50.0, 8.0), 30, 70)),
        loudness_db=float(rng.normal(0.0, 1.5)),
        tension=float(rng.normal(0.0, 0.15)),
        breathiness=float(np.clip(rng.normal(0.03, 0.02), 0.0, None)),
        expressiveness=float(np.clip(rng.normal(0.9, 0.2), 0.5, 1.3)),
    )


def sample_utterance(rng: np.random.Generator, speaker: SpeakerVoice, emotion: str) -> UtteranceProsody:
    """Speaker baseline + the speaker's rendering of `emotion` + gaussian jitter."""
    rule = EMOTION_PROSODY[emotion]
    jitter = UTTERANCE_JITTER
    scale = speaker.expressiveness
    rate = speaker.rate * (1.0 + (rule.rate - 1.0) * scale) * np.exp(rng.normal(0.0, jitter.rate))
    pitch = speaker.pitch + rule.pitch * scale + rng.normal(0.0, jitter.pitch)
    pitch_range = (
        speaker.pitch_range * (1.0 + (rule.pitch_range - 1.0) * scale) * np.exp(rng.normal(0.0, jitter.pitch_range))
    )
    return UtteranceProsody(
        rate=int(round(rate)),
        pitch=int(round(np.clip(pitch, 0, 100))),
        pitch_range=int(round(np.clip(pitch_range, 0, 100))),
        loudness_db=float(speaker.loudness_db + rule.loudness_db * scale + rng.normal(0.0, jitter.loudness_db)),
        tension=float(np.clip(speaker.tension + rule.tension * scale + rng.normal(0.0, jitter.tension), -0.8, 1.5)),
        breathiness=float(
            np.clip(speaker.breathiness + rule.breathiness + rng.normal(0.0, jitter.breathiness), 0.0, 0.4)
        ),
        shimmer=float(np.clip(rule.shimmer * scale + rng.normal(0.0, jitter.shimmer), 0.0, 0.6)),
    )


@functools.lru_cache(maxsize=None)
def _sos(kind: str, cutoff, sample_rate: int, order: int = 1) -> np.ndarray:
    return signal.butter(order, cutoff, btype=kind, fs=sample_rate, output="sos")


def apply_voice_quality(
    audio: np.ndarray, sample_rate: int, prosody: UtteranceProsody, rng: np.random.Generator
) -> np.ndarray:
    """Tension, breathiness and shimmer on float speech; keeps the RMS level.

    Args:
        audio: float speech, any level.
        sample_rate: its rate (eSpeak's 22050 Hz).
        prosody: the utterance's parameters.
        rng: the utterance's generator (noise sources).
    """
    speech = np.asarray(audio, dtype=np.float64)
    level = np.sqrt(np.mean(speech**2)) + 1e-12
    # Tension as spectral tilt: add (or remove) the part above ~1 kHz.
    highs = speech - signal.sosfilt(_sos("lowpass", 1000.0, sample_rate), speech)
    out = speech + prosody.tension * highs
    # Breathiness: aspiration noise in the 1.5-6 kHz band, following the
    # short-term RMS envelope so it only sounds where the voice does.
    envelope = np.sqrt(np.maximum(signal.sosfilt(_sos("lowpass", 30.0, sample_rate, 2), speech**2), 0.0))
    noise = signal.sosfilt(_sos("bandpass", (1500.0, 6000.0), sample_rate, 2), rng.standard_normal(speech.size))
    noise /= np.sqrt(np.mean(noise**2)) + 1e-12
    out = out + prosody.breathiness * envelope * noise
    # Shimmer/creak: slow irregular amplitude modulation below 40 Hz.
    modulation = signal.sosfilt(_sos("lowpass", 40.0, sample_rate, 2), rng.standard_normal(speech.size))
    modulation /= np.sqrt(np.mean(modulation**2)) + 1e-12
    out = out * np.clip(1.0 + prosody.shimmer * modulation, 0.0, None)
    return out * (level / (np.sqrt(np.mean(out**2)) + 1e-12))
