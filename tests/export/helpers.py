"""A run's real segments, utterances and per-corpus UA."""

import numpy as np


def real_segments(run, split: str = "test") -> np.ndarray:
    return np.concatenate([x.numpy() for x, _, _ in run.split_dataset(split, batch_size=64)])


def utterance_ua(results: dict) -> dict:
    """{(task, corpus): utterance-level UA}."""
    return {(task, corpus): entry["utterance"]["ua"] for task, by_corpus in results.items()
            for corpus, entry in by_corpus.items() if corpus != "average"}


def split_audio(run, split: str = "test"):
    """[(audio path, {task: label})] of the run's `split` utterances, from the prepared manifest."""
    speakers = set(run.speakers["plan"][split])
    return [(row["path"], {task: int(row[task]) for task in run.config.tasks})
            for row in run.prepared.utterances if row["speaker"] in speakers]
