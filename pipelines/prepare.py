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
import os
import re
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from keras_ser.config import ConfigError, DataConfig, FeatureConfig, check_corpus_names, from_dict, load_yaml
from keras_ser.io import atomic_write_text
from keras_ser.processes import WorkersCannotStart, check_start, worker_context

MANIFEST_COLUMNS = (
    "utterance_id", "path", "corpus", "speaker", "gender", "language", "emotion",
    "arousal", "valence", "split", "n_segments", "seconds", "status", "reason",
)


def shard_stem(out_dir: str, speaker: str) -> str:
    """"emodb/03" -> <out>/shards/emodb/03 (unsafe characters replaced)."""
    corpus, _, name = speaker.partition("/")
    return os.path.join(out_dir, "shards", corpus, re.sub(r"[^A-Za-z0-9_.-]", "_", name))


# ---------------------------------------------------------------------------
# Decoding (worker processes: soundfile + scipy, no TensorFlow)


def decode_file(path: str, sample_rate: int, min_duration: float, reader=None):
    """One file -> (waveform or None, seconds, reason). Never raises.

    `reader(path, sample_rate, min_duration)` returns (waveform, seconds) or
    raises AudioError; None means keras_ser.audio. Any other exception (a
    decoder bug, a library error) is recorded as the file's skip reason too:
    one file never ends a run.
    """
    from keras_ser.audio import AudioError, load_at_rate

    try:
        waveform, seconds = (reader or load_at_rate)(path, sample_rate, min_duration)
    except AudioError as err:
        return None, 0.0, str(err)
    except Exception as err:  # noqa: BLE001 - recorded as the skip reason, never swallowed
        text = " ".join(str(err).split())
        return None, 0.0, f"decoder error ({type(err).__name__}): {text}"
    return np.asarray(waveform, np.float32), float(seconds), ""


def _decode_job(job):
    return decode_file(*job)


DIED = "decoding process died (the decoder crashed on this file)"

# Imported once by the forkserver the decoding workers are forked from.
DECODER_MODULES = ["keras_ser.audio", "soundfile", "scipy.signal"]


class DecodePool:
    """Decodes files in worker processes and yields results in submission order.

    Workers import no TensorFlow. They are forked from a forkserver that has
    imported the decoder (soundfile, scipy's resampler) once, so each worker
    starts in milliseconds instead of paying that import (about 1 s of CPU)
    again; spawn where forkserver is unavailable. The forkserver is started
    by the process's first forkserver pool: when another one started it first
    (synthesis preloads its renderer), workers import the decoder themselves,
    with the same results. A worker that dies (a crash inside a native
    decoder) breaks the pool: the files in flight are then retried one at a
    time in a fresh single-worker pool, the one that kills its worker again is
    skipped with `DIED`, and decoding goes on with a new pool. Workers that
    cannot start at all (typically a script without the `__main__` guard,
    which each worker re-runs) raise `WorkersCannotStart` instead of
    skipping every file.
    """

    def __init__(self, workers: int, window: int = 32):
        self.workers, self.window = max(1, workers), window

    def _executor(self, workers):
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(workers, mp_context=worker_context(DECODER_MODULES))

    def _start(self, jobs):
        """The pool and its first window, once a worker process has been seen to start: a pool whose
        workers cannot start would otherwise skip every file as `DIED`."""
        check_start(worker_context(DECODER_MODULES), "prepare",
                    hint="or decode in the calling process with workers=0 (--workers 0)")
        executor, pending = self._executor(self.workers), collections.deque()
        return executor, pending, self._fill(executor, jobs, pending, 0)

    def map(self, jobs):
        """Starts decoding at once and returns an iterator of (index, result).

        The workers are started and the first window submitted in a thread
        (starting a worker waits for the forkserver's imports), so the caller
        goes on with other work, such as importing TensorFlow, meanwhile."""
        from concurrent.futures import ThreadPoolExecutor

        jobs = list(jobs)
        starter = ThreadPoolExecutor(1, thread_name_prefix="decode-pool-start")
        started = starter.submit(self._start, jobs)
        starter.shutdown(wait=False)
        return self._results(jobs, started)

    def _fill(self, executor, jobs, pending, position):
        while position < len(jobs) and len(pending) < self.window * self.workers:
            pending.append((position, executor.submit(_decode_job, jobs[position])))
            position += 1
        return position

    def _results(self, jobs, started):
        from concurrent.futures.process import BrokenProcessPool

        executor, pending, position = started.result()
        try:
            while position < len(jobs) or pending:
                position = self._fill(executor, jobs, pending, position)
                index, future = pending[0]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    executor.shutdown(cancel_futures=True)
                    for retry_index, _ in list(pending):
                        yield retry_index, self._isolated(jobs[retry_index])
                    pending.clear()
                    executor = self._executor(self.workers)
                    continue
                pending.popleft()
                yield index, result
        finally:
            executor.shutdown(cancel_futures=True)

    def _isolated(self, job):
        from concurrent.futures.process import BrokenProcessPool

        with self._executor(1) as executor:
            try:
                return executor.submit(_decode_job, job).result()
            except BrokenProcessPool:
                return None, 0.0, DIED


# ---------------------------------------------------------------------------
# Shards (the parent process: one TensorFlow, features computed in the graph
# the exported model also runs)


# Segments per call of the spectrogram function (about 70 MB of float32 in, 2 x out).
SPECTROGRAM_BATCH = 4096


def _tensorflow():
    """TensorFlow; when this process imports it first, without importing Keras.

    TensorFlow's import loads Keras's optimizers eagerly (to register them for
    SavedModel loading), and Keras imports scikit-learn: 2-3 s of the few
    seconds `python -m pipelines.prepare` takes, in a process that never uses
    Keras. With TF_USE_LEGACY_KERAS set during the import, TensorFlow looks
    for tf_keras's optimizers instead and skips the import when tf_keras is
    not installed (when it is, that is what it imports). The variable is
    restored at once: `tf.keras` and a later `import keras` are unaffected.
    """
    if "tensorflow" in sys.modules:  # also whenever Keras is loaded: Keras imports TensorFlow
        import tensorflow as tf

        return tf
    previous = os.environ.get("TF_USE_LEGACY_KERAS")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    try:
        import tensorflow as tf
    finally:
        if previous is None:
            del os.environ["TF_USE_LEGACY_KERAS"]
        else:
            os.environ["TF_USE_LEGACY_KERAS"] = previous
    return tf


def spectrogram_fn(config: FeatureConfig):
    """waveforms -> their (segments, 32, 129) log spectrograms, one array per waveform.

    Every waveform is cut into segments in NumPy (`segment_waveform_np`, plain
    copies) and the segments of many utterances go through one batched STFT:
    one TensorFlow call per batch instead of one per file. Each segment's
    spectrogram is computed on its own row, so the values equal
    `log_spectrogram_segments` of the single utterance bit for bit (tested).
    """
    tf = _tensorflow()
    from keras_ser.features import log_spectrogram, segment_waveform_np

    batched = tf.function(lambda segments: log_spectrogram(segments, config),
                          input_signature=[tf.TensorSpec([None, config.segment_samples], tf.float32)])

    def compute(waveforms: List[np.ndarray]) -> List[np.ndarray]:
        if not waveforms:
            return []
        segments = [segment_waveform_np(waveform, config) for waveform in waveforms]
        flat = np.concatenate(segments)
        spectrograms = np.concatenate([batched(flat[start:start + SPECTROGRAM_BATCH]).numpy()
                                       for start in range(0, len(flat), SPECTROGRAM_BATCH)])
        return np.split(spectrograms, np.cumsum([len(s) for s in segments])[:-1])

    return compute


def write_shard(stem: str, utterances: List[dict], decoded: List[tuple], fingerprint: str,
                config: FeatureConfig, compute) -> dict:
    """Writes one speaker's decoded utterances as a shard; returns the receipt."""
    import tensorflow as tf

    from pipelines.records import segment_serializer

    os.makedirs(os.path.dirname(stem), exist_ok=True)
    results, total = [], np.zeros((2, config.num_bins), np.float64)
    frames = 0
    computed = iter(compute([waveform for waveform, _, _ in decoded if waveform is not None]))
    tmp = f"{stem}.tfrecord.tmp{os.getpid()}"
    with tf.io.TFRecordWriter(tmp) as writer:
        for utt, (waveform, seconds, reason) in zip(utterances, decoded):
            if waveform is None:
                results.append({"utterance_id": utt["utterance_id"], "status": "skipped", "reason": reason,
                                "n_segments": 0, "seconds": 0.0})
                continue
            spectrograms = next(computed)
            serialize = segment_serializer(utt)
            for index, spectrogram in enumerate(spectrograms):
                writer.write(serialize(spectrogram, index))
            total += [spectrograms.sum(axis=(0, 1)), np.square(spectrograms.astype(np.float64)).sum(axis=(0, 1))]
            frames += spectrograms.shape[0] * spectrograms.shape[1]
            results.append({"utterance_id": utt["utterance_id"], "status": "ok", "reason": "",
                            "n_segments": int(spectrograms.shape[0]), "seconds": round(float(seconds), 4)})
    os.replace(tmp, f"{stem}.tfrecord")
    receipt = {"fingerprint": fingerprint, "sha256": file_sha256(f"{stem}.tfrecord"), "utterances": results, "frames": frames,
               "sum": total[0].tolist(), "sum_squares": total[1].tolist()}
    atomic_write_text(f"{stem}.json", json.dumps(receipt))
    return receipt


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
    reader=None,
) -> dict:
    """Runs adapters, writes missing shards, then manifest, splits and summary.

    `workers`: decoding processes (default: one per core; 0 decodes in this
    process). `reader`: a picklable replacement for the decoder (see
    `decode_file`), for tests and custom front ends.
    """
    from keras_ser.corpora import Skip, get_adapter
    from keras_ser.corpora.emotion_map import load_emotion_map
    from pipelines.splits import corpus_splits

    if not corpora:
        raise ConfigError("prepare: no corpora given (--corpus NAME=ROOT or --data CONFIG.yaml)")
    check_corpus_names(corpora)
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
    _run_jobs(jobs, features, workers, receipts, verbose, reader)

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


def _run_jobs(jobs, features: FeatureConfig, workers, receipts: dict, verbose: bool, reader=None) -> None:
    """Decodes every file of the missing shards in worker processes, writes the shards here."""
    if not jobs:
        return
    total = sum(len(j[1]) for j in jobs)
    files = [(utt["path"], features.sample_rate, features.min_duration, reader) for _, utts, _ in jobs for utt in utts]
    if workers == 0:  # in this process (debugging; a crashing decoder ends the run)
        decoded = enumerate(decode_file(*job) for job in files)
    else:
        # The workers start decoding now, while this process imports TensorFlow.
        decoded = DecodePool(min(total, workers or os.cpu_count() or 1)).map(files)
    compute = spectrogram_fn(features)
    done = 0
    for stem, utts, fingerprint in jobs:
        results = [next(decoded)[1] for _ in utts]
        receipts[stem] = write_shard(stem, utts, results, fingerprint, features, compute)
        done += len(utts)
        if verbose:
            print(f"\rprepare: {done}/{total} utterances", end="\n" if done == total else "", file=sys.stderr, flush=True)


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


def build_parser(prog: str = "python -m pipelines.prepare") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=ROOT",
                        help="a corpus and its root folder (repeatable); names: see keras_ser.corpora")
    parser.add_argument("--data", help="YAML of data settings: `corpora: {NAME: ROOT}` (e.g. the synthetic "
                                       "data.yaml) and optionally emotion_map, test_fraction, split_seed")
    parser.add_argument("--out", required=True, help="output folder for shards, manifest and summary")
    parser.add_argument("--workers", type=int, default=None,
                        help="decoding worker processes (default: one per core; 0: decode in the main process)")
    parser.add_argument("--test-fraction", type=float,
                        help=f"share of each corpus's speakers held out for testing (default {DataConfig.test_fraction})")
    parser.add_argument("--split-seed", type=int, help=f"seed of the speaker split (default {DataConfig.split_seed})")
    parser.add_argument("--emotion-map", help="YAML table of categorical -> arousal/valence (default: shipped)")
    parser.add_argument("--segment-hop", type=int,
                        help=f"samples between segment starts (default {FeatureConfig.segment_hop}: 50%% overlap)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any data.* or features.* setting of the config tree (keras_ser/config.py), e.g. "
                             "features.segment_hop=1060; VALUE is YAML; repeatable; validated like a config file")
    return parser


# Keys of DataConfig the prepare step reads; the others only matter to fit.
PREPARE_DATA_KEYS = ("corpora", "emotion_map", "test_fraction", "split_seed")


def resolve_settings(args):
    """(DataConfig, FeatureConfig) from --data, then the flags, then --set; strict like a config file."""
    from keras_ser.config import FitConfig, merge, parse_assignments

    tree: dict = {"data": {}}
    if args.data:
        tree["data"] = dict(load_yaml(args.data))
        tree["data"].pop("synthetic", None)  # provenance note written by keras_ser.synth
    flags = {"test_fraction": args.test_fraction, "split_seed": args.split_seed, "emotion_map": args.emotion_map}
    tree["data"].update({key: value for key, value in flags.items() if value is not None})
    if args.corpus:
        tree["data"]["corpora"] = {**(tree["data"].get("corpora") or {}), **parse_corpus_args(args.corpus)}
    if args.segment_hop is not None:
        tree["features"] = {"segment_hop": args.segment_hop}
    settings = parse_assignments(args.set)
    for key in settings:
        if key not in ("data", "features"):
            raise ConfigError(f"--set {key}...: prepare takes data.* and features.* settings only")
    config = from_dict(FitConfig, merge(tree, settings)).validate()
    unused = sorted(key for key in tree["data"] if key not in PREPARE_DATA_KEYS)
    if unused:
        print(f"note: --data sets {', '.join(unused)}, which fit reads and prepare does not", file=sys.stderr)
    return config.data, config.features


def main(argv=None, prog: str = "python -m pipelines.prepare") -> int:
    from keras_ser.corpora.base import LayoutError

    args = build_parser(prog).parse_args(argv)
    try:
        data, features = resolve_settings(args)
        prepare(data.corpora, args.out, features, data, args.workers)
    except (ConfigError, LayoutError, WorkersCannotStart) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
