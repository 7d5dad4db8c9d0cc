"""SAVEE stand-in: four male British speakers, labels in the file names.

Layout (as distributed): AudioData/<SPK>/<code><nn>.wav, e.g. AudioData/DC/sa03.wav,
codes a (anger), d (disgust), f (fear), h (happiness), n (neutral), sa
(sadness), su (surprise); 30 neutral and 15 of every other emotion per speaker.
"""

from typing import List

from keras_ser.synth.channel import RecordingChain
from keras_ser.synth.layouts.base import PlannedUtterance, SpeakerSpec, SyntheticCorpus
from keras_ser.synth.sentences import ENGLISH

CODES = {
    "angry": "a",
    "disgust": "d",
    "fear": "f",
    "happy": "h",
    "neutral": "n",
    "sad": "sa",
    "surprise": "su",
}


class Savee(SyntheticCorpus):
    name = "savee"
    espeak_voice = "en"  # eSpeak's British English
    # Studio-quality recording in a small treated room, very low noise.
    chain = RecordingChain(
        sample_rate=44100,
        mic_band=(40.0, 16000.0),
        mic_tilt=0.25,
        rt60=0.2,
        direct_to_reverb_db=14.0,
        noise_dbfs=-62.0,
        noise_color=0.0,
        gain_jitter_db=0.7,
    )
    speakers = tuple(SpeakerSpec(s, "m") for s in ("DC", "JE", "JK", "KL"))
    # 4 speakers x (30 neutral + 15 per other emotion) = 480 files.
    paper_counts = {e: 120 if e == "neutral" else 60 for e in CODES}
    small_total = 192

    def plan(self, scale: str, seed: int) -> List[PlannedUtterance]:
        return [
            PlannedUtterance(rel_path=f"AudioData/{take.spec.speaker_id}/{CODES[take.emotion]}{take.number + 1:02d}.wav",
                             speaker_id=take.spec.speaker_id, index=take.index, emotion=take.emotion,
                             text=ENGLISH[take.text], label=CODES[take.emotion])
            for take in self.takes(scale, seed, len(ENGLISH))
        ]
