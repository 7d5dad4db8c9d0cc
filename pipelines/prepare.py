"""Corpora -> sharded TFRecords of spectrogram segments, manifest and summary.

    python -m pipelines.prepare --corpus emodb=/data/emodb --corpus savee=/data/savee --out prepared/

Layout of the output folder:
    shards/<corpus>/<speaker>.tfrecord   one shard per speaker: any split or
                                          protocol is a choice of shards
    shards/<corpus>/<speaker>.json       the shard's receipt: per-utterance status
                                          and the per-frequency sums for normalisation
    manifest.csv                          one row per utterance, ok or skipped (with reason)
    summary.json                          counts per corpus and split
    prepared.json                         feature settings, speaker split, train statistics

A shard and its receipt are written under temporary names and renamed, the
receipt last; a rerun redoes only shards without a matching receipt.
"""

import argparse
import collections
import csv
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from keras_ser.config import ConfigError, DataConfig, FeatureConfig, from_dict, load_yaml
from keras_ser.io import atomic_write_text

MANIFEST_COLUMNS = (
    "utterance_id", "path", "corpus", "speaker", "gender", "language", "emotion",
    "arousal", "valence", "split", "n_segments", "seconds", "status", "reason",
)


def shard_stem(out_dir: str, speaker: str) -> str:
    """"emodb/03" -> <out>/shards/emodb/03 (unsafe characters replaced)."""
    corpus, _, name = speaker.partition("/")
    return os.path.join(out_dir, "shards", corpus, re.sub(r"[^A-Za-z0-9_.-]", "_", name))


# ---------------------------------------------------------------------------
# One shard (runs in a worker process)

_WORKER_FEATURES = None


def _init_worker(feature_values: dict) -> None:
    """Each worker runs TF on one thread: the pool, not TF, spreads the cores."""
    global _WORKER_FEATURES
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    _WORKER_FEATURES = _spectrogram_fn(FeatureConfig(**feature_values))


def _spectrogram_fn(config: FeatureConfig):
    import tensorflow as tf

    from keras_ser.features import log_spectrogram_segments

    compute = tf.function(
        lambda waveform: log_spectrogram_segments(waveform, config),
        input_signature=[tf.TensorSpec([None], tf.float32)],
    )
    return config, compute


def write_shard(stem: str, utterances: List[dict], fingerprint: str, features=None) -> dict:
    """Decodes, segments and writes one speaker's utterances; returns the receipt."""
    import tensorflow as tf

    from keras_ser.features import AudioError, load_waveform
    from pipelines.records import serialize_segment

    config, compute = features or _WORKER_FEATURES
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    results, total = [], np.zeros((2, config.num_bins), np.float64)
    frames = 0
    tmp = f"{stem}.tfrecord.tmp{os.getpid()}"
    with tf.io.TFRecordWriter(tmp) as writer:
        for utt in utterances:
            try:
                waveform, seconds = load_waveform(utt["path"], config)
            except AudioError as err:
                results.append({"utterance_id": utt["utterance_id"], "status": "skipped", "reason": str(err),
                                "n_segments": 0, "seconds": 0.0})
                continue
            spectrograms = compute(waveform).numpy()
            for index, spectrogram in enumerate(spectrograms):
                writer.write(serialize_segment(spectrogram, utt, index))
            total += [spectrograms.sum(axis=(0, 1)), np.square(spectrograms.astype(np.float64)).sum(axis=(0, 1))]
            frames += spectrograms.shape[0] * spectrograms.shape[1]
            results.append({"utterance_id": utt["utterance_id"], "status": "ok", "reason": "",
                            "n_segments": int(spectrograms.shape[0]), "seconds": round(float(seconds), 4)})
    os.replace(tmp, f"{stem}.tfrecord")
    receipt = {"fingerprint": fingerprint, "sha256": file_sha256(f"{stem}.tfrecord"), "utterances": results, "frames": frames,
               "sum": total[0].tolist(), "sum_squares": total[1].tolist()}
    atomic_write_text(f"{stem}.json", json.dumps(receipt))
    return receipt


def _write_shard_job(job):
    return job[0], write_shard(*job)


def _fingerprint(utterances: List[dict], config: FeatureConfig) -> str:
    digest = hashlib.sha256(json.dumps(dataclasses.asdict(config), sort_keys=True).encode())
    for utt in utterances:
        size = os.path.getsize(utt["path"]) if os.path.exists(utt["path"]) else -1
        digest.update(json.dumps([utt, size], sort_keys=True).encode())
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_receipt(stem: str, fingerprint: str) -> Optional[dict]:
    """The shard's receipt if the shard is complete and unchanged, else None (redo it)."""
    try:
        with open(f"{stem}.json", encoding="utf-8") as f:
            receipt = json.load(f)
    except (OSError, ValueError):
        return None
    if receipt.get("fingerprint") != fingerprint or not os.path.exists(f"{stem}.tfrecord"):
        return None
    if receipt.get("sha256") != file_sha256(f"{stem}.tfrecord"):
        return None
    return receipt


# ---------------------------------------------------------------------------
# The whole prepare step


def prepare(
    corpora: Dict[str, str],
    out_dir: str,
    features: FeatureConfig = FeatureConfig(),
    data: DataConfig = DataConfig(),
    workers: Optional[int] = None,
    verbose: bool = True,
) -> dict:
    """Runs adapters, writes missing shards, then manifest, splits and summary."""
    from keras_ser.corpora import Skip, get_adapter
    from keras_ser.corpora.emotion_map import load_emotion_map
    from pipelines.splits import corpus_splits

    if not corpora:
        raise ConfigError("prepare: no corpora given (--corpus NAME=ROOT or --data CONFIG.yaml)")
    start = time.time()
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    emotion_map = load_emotion_map(data.emotion_map) if data.emotion_map else None

    utterances, skipped = collections.defaultdict(list), []
    for name, root in sorted(corpora.items()):
        for record in get_adapter(name, root, emotion_map).records():
            if isinstance(record, Skip):
                skipped.append(dataclasses.asdict(record))
            else:
                utterances[record.speaker].append(dataclasses.asdict(record))

    _remove_stale_temporaries(out_dir)
    jobs, receipts = [], {}
    for speaker, utts in sorted(utterances.items()):
        stem, fingerprint = shard_stem(out_dir, speaker), _fingerprint(utts, features)
        receipt = _read_receipt(stem, fingerprint)
        if receipt is None:
            jobs.append((stem, utts, fingerprint))
        else:
            receipts[stem] = receipt
    _run_jobs(jobs, features, workers, receipts, verbose)

    split = corpus_splits(
        {corpus: [(u[0]["speaker"], u[0]["gender"]) for s, u in utterances.items() if u[0]["corpus"] == corpus]
         for corpus in corpora},
        data.test_fraction, data.split_seed,
    )
    rows = []
    for speaker, utts in sorted(utterances.items()):
        status = {r["utterance_id"]: r for r in receipts[shard_stem(out_dir, speaker)]["utterances"]}
        for utt in utts:
            rows.append({**utt, "split": split[speaker], **status[utt["utterance_id"]]})
    for skip in skipped:
        rows.append({**skip, "status": "skipped", "split": "", "n_segments": 0, "seconds": 0.0})
    rows.sort(key=lambda r: (r["corpus"], r["utterance_id"], r["path"]))
    _write_manifest(os.path.join(out_dir, "manifest.csv"), rows)

    train_stems = [shard_stem(out_dir, s) for s in utterances if split[s] == "train"]
    mean, std = normalisation_stats([receipts[s] for s in train_stems])
    prepared = {
        "features": dataclasses.asdict(features),
        "test_fraction": data.test_fraction,
        "split_seed": data.split_seed,
        "corpora": {name: os.path.abspath(root) for name, root in corpora.items()},
        "normalisation": {"speakers": "train split", "mean": mean.tolist(), "std": std.tolist()},
    }
    atomic_write_text(os.path.join(out_dir, "prepared.json"), json.dumps(prepared, indent=1))
    summary = summarise(rows, features)
    summary["wall_seconds"] = round(time.time() - start, 2)
    summary["shards_written"] = len(jobs)
    atomic_write_text(os.path.join(out_dir, "summary.json"), json.dumps(summary, indent=1))
    if verbose:
        print(format_summary(summary), file=sys.stderr)
    return summary


def _remove_stale_temporaries(out_dir: str) -> None:
    """Half-written files of a killed run (never taken for finished ones: they are never renamed)."""
    import glob

    for path in glob.glob(os.path.join(out_dir, "*.tmp*")) + glob.glob(os.path.join(out_dir, "shards", "*", "*.tmp*")):
        os.remove(path)


def _run_jobs(jobs, features: FeatureConfig, workers, receipts: dict, verbose: bool) -> None:
    if not jobs:
        return
    import keras

    workers = min(len(jobs), workers or os.cpu_count() or 1)
    bar = keras.utils.Progbar(sum(len(j[1]) for j in jobs), unit_name="utterance") if verbose else None
    # Longest speakers first so the pool's tail stays short.
    jobs = sorted(jobs, key=lambda j: -len(j[1]))
    if workers == 1:
        local = _spectrogram_fn(features)
        results = (_write_shard_job((*job, local)) for job in jobs)
        _collect(results, receipts, bar)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(dataclasses.asdict(features),)) as pool:
        _collect(pool.imap_unordered(_write_shard_job, jobs), receipts, bar)


def _collect(results, receipts: dict, bar) -> None:
    for stem, receipt in results:
        receipts[stem] = receipt
        if bar is not None:
            bar.add(len(receipt["utterances"]))


def normalisation_stats(receipts: List[dict]):
    """Per-frequency mean and std over every frame of the given shards."""
    frames = sum(r["frames"] for r in receipts)
    if frames == 0:
        raise ConfigError("normalisation: the training speakers have no usable audio")
    total = np.sum([r["sum"] for r in receipts], axis=0)
    squares = np.sum([r["sum_squares"] for r in receipts], axis=0)
    mean = total / frames
    std = np.sqrt(np.maximum(squares / frames - mean**2, 1e-12))
    return mean, std


def _write_manifest(path: str, rows: List[dict]) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in MANIFEST_COLUMNS})
    os.replace(tmp, path)


def summarise(rows: List[dict], features: FeatureConfig) -> dict:
    corpora: dict = {}
    for row in rows:
        entry = corpora.setdefault(row["corpus"], {}).setdefault(row["split"] or "unassigned", {
            "utterances_ok": 0, "utterances_skipped": 0, "segments": 0, "seconds": 0.0,
            "speakers": {}, "emotion": {}, "arousal": {}, "valence": {}, "skip_reasons": {},
        })
        if row["status"] != "ok":
            entry["utterances_skipped"] += 1
            reason = re.sub(r"\d+", "N", row["reason"])
            entry["skip_reasons"][reason] = entry["skip_reasons"].get(reason, 0) + 1
            continue
        entry["utterances_ok"] += 1
        entry["segments"] += int(row["n_segments"])
        entry["seconds"] = round(entry["seconds"] + float(row["seconds"]), 3)
        entry["speakers"].setdefault(row["gender"], set()).add(row["speaker"])
        for key, names in (("emotion", None), ("arousal", ("low", "high")), ("valence", ("negative", "positive"))):
            value = row[key] if names is None else (names[int(row[key])] if int(row[key]) >= 0 else "unmapped")
            entry[key][value] = entry[key].get(value, 0) + 1
    for splits in corpora.values():
        for entry in splits.values():
            entry["speakers"] = {g: len(s) for g, s in sorted(entry["speakers"].items())}
    total_seconds = sum(e["seconds"] for s in corpora.values() for e in s.values())
    return {"feature_shape": list(features.shape), "corpora": corpora, "audio_seconds": round(total_seconds, 2)}


def format_summary(summary: dict) -> str:
    lines = [f"{'corpus':<12}{'split':<7}{'ok':>6}{'skip':>6}{'segments':>10}{'hours':>7}  speakers  arousal lo/hi  valence neg/pos"]
    for corpus, splits in sorted(summary["corpora"].items()):
        for split, e in sorted(splits.items()):
            speakers = " ".join(f"{n}{g}" for g, n in e["speakers"].items())
            arousal = f"{e['arousal'].get('low', 0)}/{e['arousal'].get('high', 0)}"
            valence = f"{e['valence'].get('negative', 0)}/{e['valence'].get('positive', 0)}"
            lines.append(f"{corpus:<12}{split:<7}{e['utterances_ok']:>6}{e['utterances_skipped']:>6}"
                         f"{e['segments']:>10}{e['seconds'] / 3600:>7.2f}  {speakers:<8}  {arousal:<13}  {valence}")
    lines.append(f"feature shape {tuple(summary['feature_shape'])}; {summary['audio_seconds']:.0f} s of audio"
                 + (f" in {summary['wall_seconds']:.1f} s" if "wall_seconds" in summary else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command line


def parse_corpus_args(pairs: List[str]) -> Dict[str, str]:
    corpora = {}
    for pair in pairs:
        name, sep, root = pair.partition("=")
        if not sep or not name or not root:
            raise ConfigError(f"--corpus: expected NAME=ROOT, got {pair!r}")
        corpora[name] = root
    return corpora


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.prepare", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=ROOT",
                        help="a corpus and its root folder (repeatable); names: see keras_ser.corpora")
    parser.add_argument("--data", help="YAML with a `corpora:` mapping of NAME: ROOT (e.g. the synthetic data.yaml)")
    parser.add_argument("--out", required=True, help="output folder for shards, manifest and summary")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--test-fraction", type=float, default=DataConfig.test_fraction,
                        help="share of each corpus's speakers held out for testing (default 0.2)")
    parser.add_argument("--split-seed", type=int, default=DataConfig.split_seed, help="seed of the speaker split")
    parser.add_argument("--emotion-map", help="YAML table of categorical -> arousal/valence (default: shipped)")
    parser.add_argument("--segment-hop", type=int, default=FeatureConfig.segment_hop,
                        help="samples between segment starts (default 2120: 50%% overlap)")
    return parser


def main(argv=None) -> int:
    from keras_ser.corpora.base import LayoutError

    args = build_parser().parse_args(argv)
    try:
        corpora = dict(from_dict(DataConfig, {"corpora": load_yaml(args.data).get("corpora", {})}).corpora) if args.data else {}
        corpora.update(parse_corpus_args(args.corpus))
        data = DataConfig(corpora=corpora, test_fraction=args.test_fraction, split_seed=args.split_seed,
                          emotion_map=args.emotion_map)
        prepare(corpora, args.out, FeatureConfig(segment_hop=args.segment_hop), data, args.workers)
    except (ConfigError, LayoutError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
