"""Renders all files of one speaker: text -> eSpeak NG -> emotion -> recording chain -> WAV.

`render_speaker` is the unit of parallel work. It must run in a fresh process
(see `keras_ser.synth.espeak`): given that, its output depends only on the
job, so the corpora are identical for any number of workers.
"""

import dataclasses
import os
import time
from typing import Dict, Tuple

import numpy as np
from scipy.io import wavfile

from keras_ser.synth import prosody
from keras_ser.synth.channel import REFERENCE_LEVEL_DBFS, active_rms, db_to_gain, record, room_impulse_response
from keras_ser.synth.espeak import Synthesizer
from keras_ser.synth.layouts import SYNTHETIC_CORPORA, PlannedUtterance, SyntheticCorpus
from keras_ser.synth.layouts.base import PURPOSE_SPEAKER, PURPOSE_UTTERANCE, derive_rng


@dataclasses.dataclass(frozen=True)
class SpeakerJob:
    """Everything one worker needs (picklable).

    Args:
        corpus: registry name.
        seed: generation seed.
        speaker_id: the speaker to render.
        root: folder the corpus is being written into.
        utterances: the speaker's planned files.
    """

    corpus: str
    seed: int
    speaker_id: str
    root: str
    utterances: Tuple[PlannedUtterance, ...]


@dataclasses.dataclass(frozen=True)
class SpeakerResult:
    corpus: str
    speaker_id: str
    durations: Dict[str, float]  # rel_path -> seconds as written
    wall_seconds: float


def speaker_variants(corpus: SyntheticCorpus, seed: int) -> Dict[str, str]:
    """eSpeak voice variants, distinct within a corpus and gender while they last."""
    rng = derive_rng(seed, corpus.name, "", PURPOSE_SPEAKER)
    variants = {}
    for gender, pool in prosody.VARIANTS.items():
        members = [s.speaker_id for s in corpus.speakers if s.gender == gender]
        start = int(rng.integers(len(pool)))
        for rank, speaker_id in enumerate(members):
            variants[speaker_id] = pool[(start + rank) % len(pool)]
    return variants


def render_utterance(
    synthesizer: Synthesizer,
    corpus: SyntheticCorpus,
    voice: prosody.SpeakerVoice,
    room_response: np.ndarray,
    utterance: PlannedUtterance,
    rng: np.random.Generator,
) -> np.ndarray:
    """One utterance as int16 samples at the corpus's rate."""
    settings = prosody.sample_utterance(rng, voice, utterance.emotion)
    samples = synthesizer.synthesize(
        utterance.text,
        voice=voice.voice,
        rate=settings.rate,
        pitch=settings.pitch,
        pitch_range=settings.pitch_range,
        rand_seed=int(rng.integers(2**31 - 1)),
    )
    rate = synthesizer.sample_rate
    speech = prosody.apply_voice_quality(samples / 32768.0, rate, settings, rng)
    speech *= db_to_gain(REFERENCE_LEVEL_DBFS + settings.loudness_db) / active_rms(speech, rate)
    lead = np.zeros(int(rng.uniform(0.05, 0.35) * rate))
    trail = np.zeros(int(rng.uniform(0.10, 0.40) * rate))
    return record(np.concatenate([lead, speech, trail]), rate, corpus.chain, room_response, rng)


def render_speaker(job: SpeakerJob) -> SpeakerResult:
    """Writes every file of `job` below `job.root`; returns their durations."""
    started = time.perf_counter()
    corpus = SYNTHETIC_CORPORA[job.corpus]()
    spec = corpus.speaker(job.speaker_id)
    chain = corpus.chain
    speaker_rng = derive_rng(job.seed, corpus.name, spec.speaker_id, PURPOSE_SPEAKER)
    variant = speaker_variants(corpus, job.seed)[spec.speaker_id]
    voice = prosody.sample_speaker(speaker_rng, corpus.espeak_voice, spec.gender, variant)
    # Each speaker has a seat in the room: same room, own response.
    room_response = room_impulse_response(
        speaker_rng,
        chain.sample_rate,
        rt60=chain.rt60 * float(np.exp(speaker_rng.normal(0.0, 0.1))),
        direct_to_reverb_db=chain.direct_to_reverb_db + float(speaker_rng.normal(0.0, 1.5)),
    )
    synthesizer = Synthesizer.get()
    durations = {}
    for utterance in job.utterances:
        rng = derive_rng(job.seed, corpus.name, spec.speaker_id, PURPOSE_UTTERANCE, utterance.index)
        audio = render_utterance(synthesizer, corpus, voice, room_response, utterance, rng)
        path = os.path.join(job.root, *utterance.rel_path.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        wavfile.write(path, chain.sample_rate, audio)
        durations[utterance.rel_path] = audio.size / chain.sample_rate
    return SpeakerResult(corpus.name, spec.speaker_id, durations, time.perf_counter() - started)
