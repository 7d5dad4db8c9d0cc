"""What a finished run's network does beyond its UA: per-utterance test
predictions (for the bootstrap), a bounded sample of test-segment embeddings
(for the 2-D maps), and an invariance probe.

Invariance probe: a fresh LogisticRegression (standardised inputs) trained on
frozen 64-d emotion embeddings of training-side speakers to predict corpus,
language and gender, scored on test speakers' segments; lower accuracy = a
more domain-invariant embedding. The two sides never share a speaker. Per
corpus, the test side is its test speakers (or, for a cross-corpus source,
which is not tested, its validation speakers); the training side is the
speakers the network trained on (labelled or unlabelled) minus the test side;
a corpus with none left (a cross-corpus target tested on all its speakers)
lends half of its test-side speakers, gender-balanced, to the training side.

The per-utterance test predictions are read from the run's predictions.csv
(the same decisions `keras_ser.evaluation.score` counted) rather than
predicted again; a run folder without it is predicted by its network.

Results are cached in the run folder (analysis.npz, analysis.json) and
recomputed only when the analysis settings change.
"""

import json
import os
from typing import Dict, List

import numpy as np

PROBE_LABELS = ("corpus", "language", "gender")
LABEL_FIELDS = ("corpus", "speaker", "gender", "language", "emotion")
EMBEDDING_BATCH = 512  # segments per call of the feature extractor


def analyse_run(run_dir: str, embedding_samples: int, probe_samples: int, seed: int = 0) -> dict:
    """Returns {"predictions": {task: {ids, labels, predicted}}, "sample": {...}, "probe": {...}}."""
    settings = {"embedding_samples": embedding_samples, "probe_samples": probe_samples, "seed": seed}
    cached = _load_cached(run_dir, settings)
    if cached is not None:
        return cached
    from keras_ser.predictions import PREDICTIONS, read_predictions
    from keras_ser.runs import load_run

    run = load_run(run_dir, unroll=False)  # analysis only predicts: the loop traces faster
    prepared, plan = run.prepared, run.speakers["plan"]
    rows = {f"{r['corpus']}/{r['utterance_id']}": r for r in prepared.utterances}

    tasks = run.config.tasks
    csv_path = os.path.join(run_dir, PREDICTIONS)
    predictions = (read_predictions(csv_path, tasks) if os.path.exists(csv_path)
                   else predicted_utterances(run, tasks))
    probe_train, probe_test = probe_speakers(plan, prepared, seed)
    rng = np.random.default_rng(seed)
    test_sample = sample_embeddings(run, plan["test"], embedding_samples, rng, rows)
    train_sample = sample_embeddings(run, probe_train, probe_samples, rng, rows)
    probe_sample = sample_embeddings(run, probe_test, probe_samples, rng, rows)
    probe = {label: probe_accuracy(train_sample["embedding"], train_sample[label],
                                   probe_sample["embedding"], probe_sample[label])
             for label in PROBE_LABELS}
    probe["speakers"] = {"train": len(probe_train), "test": len(probe_test)}
    result = {"predictions": predictions, "sample": test_sample, "probe": probe}
    _save(run_dir, settings, result)
    return result


def predicted_utterances(run, tasks: List[str]) -> Dict[str, dict]:
    """{task: {ids, labels, predicted}} of the labelled test utterances, from the run's network."""
    from keras_ser.evaluation import collect_predictions, utterance_posteriors

    segments = collect_predictions(run.network.inference_model, run.split_dataset("test"), tasks)
    predictions = {}
    for task in tasks:
        keep = segments[f"{task}_weight"] > 0
        ids, mean, labels = utterance_posteriors(segments["utterance"][keep], segments[f"{task}_probability"][keep],
                                                 segments[f"{task}_label"][keep])
        predictions[task] = {"ids": ids.astype(str), "labels": labels.astype(np.int64),
                             "predicted": mean.argmax(axis=1).astype(np.int64)}
    return predictions


def probe_speakers(plan: dict, prepared, seed: int):
    """Speaker-disjoint (train, test) sides for the probe (see the module docstring)."""
    from pipelines.splits import hold_out_speakers

    trained = set(plan["train"]) | set(plan["unlabelled"])
    train_side, test_side = [], []
    for corpus in sorted({s.split("/", 1)[0] for s in trained | set(plan["test"]) | set(plan["val"])}):
        def of_corpus(speakers):
            return sorted(s for s in speakers if s.startswith(corpus + "/"))

        corpus_test = of_corpus(plan["test"]) or of_corpus(plan["val"])
        corpus_train = [s for s in of_corpus(trained) if s not in corpus_test]
        if not corpus_train and len(corpus_test) >= 2:
            genders = prepared.speaker_genders(corpus)
            lent = set(hold_out_speakers([(s, genders[s]) for s in corpus_test], 0.5, seed, salt=f"{corpus}/probe"))
            corpus_train = sorted(lent)
            corpus_test = [s for s in corpus_test if s not in lent]
        train_side += corpus_train
        test_side += corpus_test
    return train_side, test_side


def sample_embeddings(run, speakers: List[str], count: int, rng, rows) -> Dict[str, np.ndarray]:
    """Embeddings of `count` segments drawn uniformly without replacement from the speakers' shards."""
    total = run.prepared.count_segments(speakers)
    chosen = np.zeros(total, bool)
    chosen[rng.choice(total, size=min(count, total), replace=False)] = True
    spectrograms, utterances, start = [], [], 0
    for x, labels, _ in run.dataset(speakers) if speakers else []:
        mask = chosen[start:start + x.shape[0]]
        if mask.shape[0] < x.shape[0]:  # more records than the manifest counted: never sampled
            mask = np.concatenate([mask, np.zeros(x.shape[0] - mask.shape[0], bool)])
        start += x.shape[0]
        if mask.any():
            spectrograms.append(x.numpy()[mask])
            utterances.append(labels["utterance"].numpy()[mask])
    ids = np.concatenate(utterances).astype(str) if utterances else np.zeros(0, str)
    embedding = np.zeros((0, run.config.model.embedding_dim), np.float32)
    if spectrograms:
        # The chosen segments in a few large calls, not one small call per batch read.
        chosen_x = np.concatenate(spectrograms)
        embedding = np.concatenate([np.asarray(run.network.extractor(chosen_x[i:i + EMBEDDING_BATCH], training=False))
                                    for i in range(0, len(chosen_x), EMBEDDING_BATCH)])
    sample = {"embedding": embedding, "utterance": ids}
    for field in LABEL_FIELDS:
        sample[field] = np.array([rows[u][field] for u in ids], dtype=str)
    return sample


def probe_accuracy(train_x, train_y, test_x, test_y) -> dict:
    """Accuracy of a fresh linear classifier; `chance` = the test side's majority-class rate."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classes = sorted(set(train_y))
    if len(classes) < 2 or len(test_y) == 0:
        return {"accuracy": None, "reason": f"{len(classes)} class(es) on the training side, {len(test_y)} test segments"}
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train_x, train_y)
    predicted = model.predict(test_x)
    _, counts = np.unique(test_y, return_counts=True)
    return {"accuracy": float(accuracy_score(test_y, predicted)),
            "balanced_accuracy": float(balanced_accuracy_score(test_y, predicted)),
            "chance": float(counts.max() / counts.sum()), "classes": classes,
            "train_segments": int(len(train_y)), "test_segments": int(len(test_y))}


def _save(run_dir: str, settings: dict, result: dict) -> None:
    arrays = {f"sample_{k}": v for k, v in result["sample"].items()}
    for task, values in result["predictions"].items():
        arrays.update({f"predictions_{task}_{k}": v for k, v in values.items()})
    np.savez_compressed(os.path.join(run_dir, "analysis.tmp.npz"), **arrays)
    os.replace(os.path.join(run_dir, "analysis.tmp.npz"), os.path.join(run_dir, "analysis.npz"))
    with open(os.path.join(run_dir, "analysis.json"), "w", encoding="utf-8") as f:
        json.dump({"settings": settings, "tasks": sorted(result["predictions"]), "probe": result["probe"]}, f, indent=1)


def _load_cached(run_dir: str, settings: dict):
    meta_path, arrays_path = os.path.join(run_dir, "analysis.json"), os.path.join(run_dir, "analysis.npz")
    if not (os.path.exists(meta_path) and os.path.exists(arrays_path)):
        return None
    if os.path.getmtime(arrays_path) < os.path.getmtime(os.path.join(run_dir, "results.json")):
        return None  # the run was retrained after the analysis
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta["settings"] != settings:
        return None
    with np.load(arrays_path) as arrays:
        sample = {k[len("sample_"):]: arrays[k] for k in arrays.files if k.startswith("sample_")}
        predictions = {task: {k: arrays[f"predictions_{task}_{k}"] for k in ("ids", "labels", "predicted")}
                       for task in meta["tasks"]}
    return {"predictions": predictions, "sample": sample, "probe": meta["probe"]}
