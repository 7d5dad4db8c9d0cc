"""IEMOCAP stand-in: 5 sessions x (F, M), dyadic dialogs, EmoEvaluation label files.

Layout (as distributed):
    Session{n}/sentences/wav/<dialog>/<dialog>_{F|M}<nnn>.wav
    Session{n}/dialog/EmoEvaluation/<dialog>.txt
The letter of the utterance's last field is the speaker's gender; the letter
after "Ses0n" in the dialog name is who wore the motion-capture markers.
"""

import math
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

CODES = {"angry": "ang", "happy": "hap", "neutral": "neu", "sad": "sad", "frustrated": "fru"}
EVALUATOR_WORDS = {
    "ang": "Anger",
    "hap": "Happiness",
    "exc": "Excited",
    "neu": "Neutral",
    "sad": "Sadness",
    "fru": "Frustration",
}
# Mean [valence, activation, dominance] on IEMOCAP's 1-5 scales per code.
DIMENSIONS = {
    "ang": (1.9, 3.7, 3.7),
    "hap": (3.9, 3.0, 3.0),
    "exc": (3.9, 3.7, 3.3),
    "neu": (2.9, 2.4, 2.7),
    "sad": (2.2, 2.3, 2.4),
    "fru": (2.1, 3.1, 3.3),
}
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
# Real IEMOCAP: ~40-70 turns per dialog.
UTTERANCES_PER_DIALOG = 40
FRUSTRATION_SHARE = 0.03
EXCITED_SHARE = 3  # every 3rd happy utterance is labelled "exc"


def dialog_name(session: int, number: int) -> str:
    """Ses01F_impro01, Ses01M_impro01, Ses01F_script01_1, Ses01M_script01_1, Ses01F_impro02, ..."""
    marker = "FM"[number % 2]
    pair = number // 2
    kind = f"impro{pair // 2 + 1:02d}" if pair % 2 == 0 else f"script{pair // 2 + 1:02d}_1"
    return f"Ses{session:02d}{marker}_{kind}"


class Iemocap(SyntheticCorpus):
    name = "iemocap"
    espeak_voice = "en-us"
    # Close-talking lavalier microphones in a mid-sized studio with two actors.
    chain = RecordingChain(
        sample_rate=16000,
        mic_band=(80.0, 7000.0),
        mic_tilt=0.1,
        rt60=0.35,
        direct_to_reverb_db=10.0,
        noise_dbfs=-56.0,
        noise_color=1.0,
        gain_jitter_db=1.5,
    )
    speakers = tuple(SpeakerSpec(f"Ses{n:02d}{g}", g.lower(), n) for n in range(1, 6) for g in "FM")
    # The 4-class IEMOCAP with "exc" merged into happy (hap 595 + exc 1041).
    paper_counts = {"angry": 1103, "happy": 1636, "neutral": 1708, "sad": 1084}
    small_total = 180

    def plan(self, scale: str, seed: int) -> List[PlannedUtterance]:
        items: Dict[str, List[tuple]] = {s.speaker_id: [] for s in self.speakers}
        for take in self.takes(scale, seed, len(ENGLISH)):
            code = CODES[take.emotion]
            speaker_number = self.speakers.index(take.spec)
            if take.emotion == "happy" and (take.number + speaker_number) % EXCITED_SHARE == EXCITED_SHARE - 1:
                code = "exc"
            items[take.spec.speaker_id].append((take.emotion, code, ENGLISH[take.text]))
        plan_rng = derive_rng(seed, self.name, "", PURPOSE_PLAN)
        total = sum(len(v) for v in items.values())
        n_frustrated = max(1, int(round(FRUSTRATION_SHARE * total)))
        first = int(plan_rng.integers(len(self.speakers)))
        for k in range(n_frustrated):
            spec = self.speakers[(first + k) % len(self.speakers)]
            items[spec.speaker_id].append(("frustrated", "fru", ENGLISH[int(plan_rng.integers(len(ENGLISH)))]))

        plan = []
        for session in sorted({s.session for s in self.speakers}):
            plan.extend(self._plan_session(session, items, plan_rng))
        return plan

    def _plan_session(self, session: int, items: Mapping[str, list], rng: np.random.Generator):
        female, male = (s for s in self.speakers if s.session == session)  # speakers list F, M per session
        # Each speaker's items keep their index (the RNG key) through the shuffle.
        queues = {
            spec.speaker_id: [(i, item) for i, item in enumerate(items[spec.speaker_id])] for spec in (female, male)
        }
        for queue in queues.values():
            rng.shuffle(queue)
        # Interleave the two speakers into one conversation, turn by turn.
        turns = []
        while queues[female.speaker_id] or queues[male.speaker_id]:
            weights = np.array([len(queues[female.speaker_id]), len(queues[male.speaker_id])], dtype=float)
            spec = (female, male)[int(rng.choice(2, p=weights / weights.sum()))]
            turns.append((spec, queues[spec.speaker_id].pop()))
        n_dialogs = max(2, math.ceil(len(turns) / UTTERANCES_PER_DIALOG))
        planned = []
        for number, chunk in enumerate(np.array_split(np.arange(len(turns)), n_dialogs)):
            dialog = dialog_name(session, number)
            next_turn = {"f": 0, "m": 0}
            for position in chunk:
                spec, (index, (emotion, code, text)) = turns[position]
                letter = spec.gender.upper()
                turn = f"{dialog}_{letter}{next_turn[spec.gender]:03d}"
                next_turn[spec.gender] += 1
                planned.append(
                    PlannedUtterance(
                        rel_path=f"Session{session}/sentences/wav/{dialog}/{turn}.wav",
                        speaker_id=spec.speaker_id,
                        index=index,
                        emotion=emotion,
                        text=text,
                        label=code,
                        meta=(("dialog", dialog), ("turn", turn), ("session", str(session))),
                    )
                )
        return planned

    def write_labels(self, root: str, plan: Sequence[PlannedUtterance], durations: Mapping[str, float], seed: int):
        rng = derive_rng(seed, self.name, "", PURPOSE_LABELS)
        dialogs: Dict[tuple, List[PlannedUtterance]] = {}
        for item in plan:  # plan order is conversation order
            dialogs.setdefault((item.meta_value("session"), item.meta_value("dialog")), []).append(item)
        for (session, dialog), turns in sorted(dialogs.items()):
            folder = os.path.join(root, f"Session{session}", "dialog", "EmoEvaluation")
            os.makedirs(folder, exist_ok=True)
            lines = [HEADER, ""]
            clock = float(rng.uniform(2.0, 8.0))
            for item in turns:
                start, end = clock, clock + durations[item.rel_path]
                clock = end + float(rng.uniform(0.1, 1.5))
                lines.append(_turn_line(item, start, end, rng))
                lines.extend(_evaluator_lines(item.label, rng))
                lines.append("")
            with open(os.path.join(folder, f"{dialog}.txt"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")


def _turn_line(item: PlannedUtterance, start: float, end: float, rng: np.random.Generator) -> str:
    # Averages of two or three raters on 1-5 scales: multiples of 1/6 would
    # also be realistic; halves keep the numbers readable.
    vad = np.clip(np.round((np.array(DIMENSIONS[item.label]) + rng.normal(0, 0.4, 3)) * 2) / 2, 1.0, 5.0)
    values = ", ".join(f"{v:.4f}" for v in vad)
    return f"[{start:.4f} - {end:.4f}]\t{item.meta_value('turn')}\t{item.label}\t[{values}]"


def _evaluator_lines(code: str, rng: np.random.Generator) -> List[str]:
    lines = []
    for evaluator in ("C-E1", "C-E2", "C-F1"):
        word = EVALUATOR_WORDS[code]
        if rng.random() < 0.25:  # raters disagree now and then
            word = EVALUATOR_WORDS[str(rng.choice(sorted(EVALUATOR_WORDS)))]
        lines.append(f"{evaluator}:\t{word};\t()")
    for evaluator in ("A-E1", "A-F1"):
        val, act, dom = (int(x) for x in np.clip(np.round(np.array(DIMENSIONS[code]) + rng.normal(0, 0.7, 3)), 1, 5))
        lines.append(f"{evaluator}:\tval {val}; act {act}; dom  {dom};\t()")
    return lines
