"""Speaker-independent splits: no speaker is ever on both sides.

Within each corpus, speakers are shuffled with the seed separately per
gender and taken alternately (f, m, f, ...) into the held-out side, so a
small corpus's held-out speakers are gender-balanced where possible.
"""

from typing import Dict, Iterable, List, Tuple

import numpy as np


def hold_out_speakers(speakers: Iterable[Tuple[str, str]], fraction: float, seed: int, salt: str = "") -> List[str]:
    """Picks round(fraction * n) speakers (at least 1 when fraction > 0 and n >= 2).

    `speakers` are (speaker, gender) pairs of one corpus; the result is
    deterministic for (seed, salt, the speaker set).
    """
    speakers = sorted(set(speakers))
    if fraction <= 0 or len(speakers) < 2:
        return []
    count = min(len(speakers) - 1, max(1, int(round(fraction * len(speakers)))))
    # Seed from the salt's bytes, not hash(): Python salts str hashes per process.
    rng = np.random.default_rng([seed, *salt.encode("utf-8")])
    by_gender: Dict[str, List[str]] = {}
    for speaker, gender in speakers:
        by_gender.setdefault(gender, []).append(speaker)
    queues = [list(rng.permutation(names)) for _, names in sorted(by_gender.items())]
    order = [int(i) for i in rng.permutation(len(queues))]
    picked: List[str] = []
    while len(picked) < count:
        for index in order:
            if queues[index] and len(picked) < count:
                picked.append(str(queues[index].pop(0)))
    return sorted(picked)


def corpus_splits(speakers_by_corpus: Dict[str, Iterable[Tuple[str, str]]], test_fraction: float, seed: int) -> Dict[str, str]:
    """speaker -> "train" | "test" for every speaker of every corpus (80/20 by default)."""
    split = {}
    for corpus, speakers in sorted(speakers_by_corpus.items()):
        speakers = sorted(set(speakers))
        test = set(hold_out_speakers(speakers, test_fraction, seed, salt=corpus))
        split.update({speaker: ("test" if speaker in test else "train") for speaker, _ in speakers})
    return split
