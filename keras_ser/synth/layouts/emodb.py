"""Emo-DB stand-in: ten German speakers, labels in the file names.

Layout (as distributed): wav/<spk><text><emotion><version>.wav, e.g.
wav/03a01Fa.wav: speaker 03, text a01, F (Freude, happy), version a.
Emotion letters: W Wut (angry), L Langeweile (boredom), E Ekel (disgust),
A Angst (fear), F Freude (happy), T Trauer (sad), N neutral.
"""

from typing import List

from keras_ser.synth.channel import RecordingChain
from keras_ser.synth.layouts.base import PURPOSE_PLAN, PlannedUtterance, SpeakerSpec, SyntheticCorpus, derive_rng
from keras_ser.synth.sentences import GERMAN

LETTERS = {
    "angry": "W",
    "boredom": "L",
    "disgust": "E",
    "fear": "A",
    "happy": "F",
    "sad": "T",
    "neutral": "N",
}
VERSIONS = "abcdefghij"
MALE = ("03", "10", "11", "12", "15")
FEMALE = ("08", "09", "13", "14", "16")


class Emodb(SyntheticCorpus):
    name = "emodb"
    espeak_voice = "de"
    # Anechoic chamber, condenser microphone, recorded at 48 kHz and
    # distributed at 16 kHz: almost no room, almost no noise.
    chain = RecordingChain(
        sample_rate=16000,
        mic_band=(50.0, 7800.0),
        mic_tilt=0.0,
        rt60=0.06,
        direct_to_reverb_db=22.0,
        noise_dbfs=-66.0,
        noise_color=1.5,
        gain_jitter_db=1.0,
    )
    speakers = tuple(SpeakerSpec(s, "m" if s in MALE else "f") for s in sorted(MALE + FEMALE))
    paper_counts = {"angry": 127, "boredom": 81, "disgust": 46, "fear": 69, "happy": 71, "sad": 62, "neutral": 79}
    small_total = 185

    def plan(self, scale: str, seed: int) -> List[PlannedUtterance]:
        codes = sorted(GERMAN)
        # Takes are not always lettered from "a": the kept take of a sentence
        # may be the second one.
        first_version = {}
        for spec in self.speakers:
            rng = derive_rng(seed, self.name, spec.speaker_id, PURPOSE_PLAN, 1)
            first_version.update({(spec.speaker_id, emotion): int(rng.integers(2)) for emotion in LETTERS})
        planned = []
        for take in self.takes(scale, seed, len(codes)):
            speaker, letter, text_code = take.spec.speaker_id, LETTERS[take.emotion], codes[take.text]
            version = VERSIONS[first_version[(speaker, take.emotion)] + take.number // len(codes)]
            planned.append(PlannedUtterance(rel_path=f"wav/{speaker}{text_code}{letter}{version}.wav",
                                            speaker_id=speaker, index=take.index, emotion=take.emotion,
                                            text=GERMAN[text_code], label=letter))
        return planned
