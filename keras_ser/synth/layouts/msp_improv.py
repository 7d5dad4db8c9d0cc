"""MSP-IMPROV stand-in: 6 sessions x (F, M), scenario folders, Evalution.txt.

Layout (as distributed, including the file's misspelt name):
    Audio/session<N>/<scenario>/<type>/MSP-IMPROV-<scenario>-<spk>-<type>-FM<nn>.wav
    Evalution.txt
scenario = S + sentence number (01-20) + target emotion letter (A/H/S/N);
spk = gender + session (F01, M01); type P (natural interaction), R (read),
S (improvised), T (target sentence). Each Evalution.txt block is the
consensus line `UTD-IMPROV-<id>.avi; <letter>; A:..; V:..; D:..; N:..;`, one
line per annotator, and a blank line; consensus O (other) is outside the
4-class set.
"""

import os
from typing import Dict, List, Mapping, Sequence

import numpy as np

from keras_ser.synth.channel import RecordingChain
from keras_ser.synth.layouts.base import (
    PURPOSE_LABELS,
    PURPOSE_PLAN,
    PlannedUtterance,
    SpeakerSpec,
    SyntheticCorpus,
    derive_rng,
)
from keras_ser.synth.sentences import ENGLISH

LETTERS = {"angry": "A", "happy": "H", "sad": "S", "neutral": "N"}
WORDS = {"A": "Angry", "H": "Happy", "S": "Sad", "N": "Neutral", "O": "Other"}
# Mean (arousal, valence, dominance) on 1-5 scales per consensus letter.
DIMENSIONS = {"A": (3.8, 1.8, 3.6), "H": (3.3, 4.2, 3.2), "S": (1.9, 1.9, 2.3), "N": (2.5, 3.0, 2.8), "O": (3.0, 2.4, 3.0)}
# Natural interactions (P) dominate the real corpus.
TYPES = ("P", "R", "S", "T")
TYPE_SHARES = (0.55, 0.15, 0.15, 0.15)
OTHER_SHARE = 0.03
# "Other" items render one of these (non-4-class) emotions.
OTHER_EMOTIONS = ("frustrated", "fear", "disgust", "surprise")


class MspImprov(SyntheticCorpus):
    name = "msp_improv"
    espeak_voice = "en-us"
    # Head-worn microphones in a larger, noisier sound booth with camera gear.
    chain = RecordingChain(
        sample_rate=48000,
        mic_band=(120.0, 10000.0),
        mic_tilt=-0.15,
        rt60=0.45,
        direct_to_reverb_db=6.0,
        noise_dbfs=-49.0,
        noise_color=0.5,
        hum_hz=60.0,
        hum_dbfs=-58.0,
        gain_jitter_db=2.0,
    )
    speakers = tuple(SpeakerSpec(f"{g}{n:02d}", g.lower(), n) for n in range(1, 7) for g in "FM")
    paper_counts = {"angry": 792, "happy": 2644, "neutral": 3477, "sad": 885}
    small_total = 185

    def plan(self, scale: str, seed: int) -> List[PlannedUtterance]:
        rng = derive_rng(seed, self.name, "", PURPOSE_PLAN)
        items: Dict[str, List[tuple]] = {spec.speaker_id: [] for spec in self.speakers}
        for take in self.takes(scale, seed, len(ENGLISH)):
            items[take.spec.speaker_id].append((take.emotion, LETTERS[take.emotion], take.text))
        total = sum(len(v) for v in items.values())
        first = int(rng.integers(len(self.speakers)))
        for k in range(max(1, int(round(OTHER_SHARE * total)))):
            spec = self.speakers[(first + k) % len(self.speakers)]
            emotion = str(rng.choice(OTHER_EMOTIONS))
            items[spec.speaker_id].append((emotion, "O", int(rng.integers(len(ENGLISH)))))

        planned, taken = [], set()
        for spec in self.speakers:
            for index, (emotion, letter, sentence) in enumerate(items[spec.speaker_id]):
                kind = str(rng.choice(TYPES, p=TYPE_SHARES))
                # Acted types follow the scenario's target; in natural
                # interactions (and for "other") the perceived emotion drifts.
                target = letter if kind != "P" and letter != "O" else str(rng.choice(list("AHSN")))
                scenario = f"S{sentence + 1:02d}{target}"
                number = 1
                while (scenario, spec.speaker_id, kind, number) in taken:
                    number += 1
                taken.add((scenario, spec.speaker_id, kind, number))
                file_id = f"{scenario}-{spec.speaker_id}-{kind}-FM{number:02d}"
                planned.append(
                    PlannedUtterance(
                        rel_path=f"Audio/session{spec.session}/{scenario}/{kind}/MSP-IMPROV-{file_id}.wav",
                        speaker_id=spec.speaker_id,
                        index=index,
                        emotion=emotion,
                        text=ENGLISH[sentence],
                        label=letter,
                        meta=(("file_id", file_id),),
                    )
                )
        return planned

    def write_labels(self, root: str, plan: Sequence[PlannedUtterance], durations: Mapping[str, float], seed: int):
        rng = derive_rng(seed, self.name, "", PURPOSE_LABELS)
        lines = []
        for item in sorted(plan, key=lambda p: p.meta_value("file_id")):
            letter = item.label
            mean = np.array(DIMENSIONS[letter])
            arousal, valence, dominance = np.clip(mean + rng.normal(0, 0.35, 3), 1.0, 5.0)
            naturalness = float(np.clip(rng.normal(3.8, 0.5), 1.0, 5.0))
            lines.append(
                f"UTD-IMPROV-{item.meta_value('file_id')}.avi; {letter}; A:{arousal:.6f}; V:{valence:.6f}; "
                f"D:{dominance:.6f}; N:{naturalness:.6f};"
            )
            for annotator in (1, 2):
                word = WORDS[letter] if rng.random() > 0.2 else WORDS[str(rng.choice(sorted(WORDS)))]
                a, v, d, n = (int(x) for x in np.clip(np.round(np.append(mean, 4.0) + rng.normal(0, 0.7, 4)), 1, 5))
                lines.append(f"anno-{annotator}; {word}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f}; N:{n:.6f};")
            lines.append("")
        with open(os.path.join(root, "Evalution.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
