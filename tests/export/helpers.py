"""Real segments of a run and scores of an exported model on them."""

import numpy as np

from keras_ser.evaluation import score


def split_dataset(run, split: str = "test", batch_size: int = 64):
    """The run's prepared segments of `split` speakers, normalised as in training: (x, labels, weights)."""
    from pipelines.dataset import PreparedCorpora, Vocabulary, make_dataset

    prepared = PreparedCorpora(run.speakers["prepared"])
    shards = [prepared.shard(s) for s in run.speakers["plan"][split]]
    return make_dataset(shards, prepared.features, Vocabulary(**run.vocabulary), run.mean, run.std, batch_size)


def real_segments(run, split: str = "test") -> np.ndarray:
    return np.concatenate([x.numpy() for x, _, _ in split_dataset(run, split)])


def scores(predict_segments, run, split: str = "test") -> dict:
    """keras_ser.evaluation.score of `predict_segments` ((batch, 32, 129, 1) -> {task: (batch, 2)})."""
    columns = {"utterance": []}
    for x, labels, weights in split_dataset(run, split):
        probabilities = predict_segments(x.numpy())
        columns["utterance"].append(labels["utterance"].numpy())
        for task in run.config.tasks:
            for key, value in ((f"{task}_probability", np.asarray(probabilities[task])),
                               (f"{task}_label", labels[task].numpy()), (f"{task}_weight", weights[task].numpy())):
                columns.setdefault(key, []).append(value)
    return score({key: np.concatenate(values) for key, values in columns.items()}, run.config.tasks)


def utterance_ua(results: dict) -> dict:
    """{(task, corpus): utterance-level UA}."""
    return {(task, corpus): entry["utterance"]["ua"] for task, by_corpus in results.items()
            for corpus, entry in by_corpus.items() if corpus != "average"}


def split_audio(run, split: str = "test"):
    """[(audio path, {task: label})] of the run's `split` utterances, from the prepared manifest."""
    from pipelines.dataset import PreparedCorpora

    speakers = set(run.speakers["plan"][split])
    return [(row["path"], {task: int(row[task]) for task in run.config.tasks})
            for row in PreparedCorpora(run.speakers["prepared"]).utterances if row["speaker"] in speakers]
