"""Generates the synthetic corpora into a folder and writes its data.yaml.

Resumable: a corpus is written into `.<name>.partial/`, its completion
record `SENTINEL` is written last, and only then is the folder renamed to
`<name>/`. A rerun skips every corpus whose record matches (scale, seed) and
starts over any partial one.

Parallel: one task per speaker, each in a fresh worker process
(maxtasksperchild=1, forkserver), because eSpeak NG keeps state across
utterances. Random streams are keyed by (seed, corpus, speaker, index), so
files are byte-identical for any worker count.
"""

import os
import shutil
import sys
import time
from typing import Dict, Iterable, List, Optional, Sequence, TextIO

import yaml

from keras_ser.processes import check_start, worker_context
from keras_ser.synth.layouts import SCALES, SYNTHETIC_CORPORA, SyntheticCorpus
from keras_ser.synth.render import SpeakerJob, SpeakerResult, render_speaker

SENTINEL = ".synth_complete.yaml"
DATA_YAML = "data.yaml"


class SynthError(RuntimeError):
    """The output folder holds something generation must not overwrite."""


def read_completion(root: str) -> Optional[dict]:
    """The completion record of a generated corpus folder, or None."""
    path = os.path.join(root, SENTINEL)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def is_complete(root: str, scale: str, seed: int) -> bool:
    record = read_completion(root)
    return bool(record) and record.get("scale") == scale and record.get("seed") == seed


def _select(corpora: Optional[Iterable[str]]) -> List[str]:
    names = list(SYNTHETIC_CORPORA) if corpora is None else list(corpora)
    unknown = [n for n in names if n not in SYNTHETIC_CORPORA]
    if unknown:
        raise ValueError(f"unknown corpora {unknown}; choose from {sorted(SYNTHETIC_CORPORA)}")
    if not names:
        raise ValueError("no corpora selected")
    return names


def _prepare(out_dir: str, corpus: SyntheticCorpus, scale: str, seed: int):
    """Clears the way for `corpus` and returns (plan, one SpeakerJob per speaker)."""
    root = os.path.join(out_dir, corpus.name)
    if os.path.exists(root):
        if read_completion(root) is None:
            raise SynthError(f"{root} exists and was not written by keras_ser.synth; refusing to overwrite it")
        shutil.rmtree(root)  # ours, for another scale or seed
    partial = os.path.join(out_dir, f".{corpus.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    plan = corpus.plan(scale, seed)
    return plan, [
        SpeakerJob(
            corpus.name, seed, spec.speaker_id, partial, tuple(u for u in plan if u.speaker_id == spec.speaker_id)
        )
        for spec in corpus.speakers
    ]


def _finish(out_dir: str, corpus: SyntheticCorpus, plan, scale: str, seed: int, results: Sequence[SpeakerResult]):
    """Writes labels and the completion record, then publishes the corpus folder."""
    partial = os.path.join(out_dir, f".{corpus.name}.partial")
    durations = {path: seconds for result in results for path, seconds in result.durations.items()}
    corpus.write_labels(partial, plan, durations, seed)
    record = {
        "corpus": corpus.name,
        "scale": scale,
        "seed": seed,
        "files": len(durations),
        "audio_seconds": round(sum(durations.values()), 3),
        "sample_rate": corpus.chain.sample_rate,
    }
    with open(os.path.join(partial, SENTINEL), "w", encoding="utf-8") as f:
        yaml.safe_dump(record, f, sort_keys=False)
    os.replace(partial, os.path.join(out_dir, corpus.name))
    return record


def _run(jobs: List[SpeakerJob], workers: int):
    """Yields SpeakerResults as speakers finish, each rendered in a fresh process."""
    # Forking from a server that has numpy/scipy imported makes a fresh
    # worker per speaker cost milliseconds; eSpeak itself is loaded lazily,
    # after the fork, so every worker starts from its initial state.
    context = worker_context(["keras_ser.synth.render"])
    # A Pool replaces workers that die while starting, forever: check that they can start.
    check_start(context, "synthesis")
    # Longest speakers first keeps both cores busy to the end.
    ordered = sorted(jobs, key=lambda job: -len(job.utterances))
    with context.Pool(processes=workers, maxtasksperchild=1) as pool:
        yield from pool.imap_unordered(render_speaker, ordered)


def _require_espeak() -> None:
    import importlib.util

    if importlib.util.find_spec("espeakng_loader") is None:
        raise SynthError("the synthetic corpora are spoken by eSpeak NG, which is not installed; install the "
                         "[synth] extra (pip install -e \".[synth]\"), whose pinned build keeps the audio "
                         "byte-identical for a seed")


def write_data_yaml(out_dir: str, scale: str, seed: int) -> str:
    """data.yaml listing every corpus in `out_dir` generated with (scale, seed)."""
    roots = {}
    for name in SYNTHETIC_CORPORA:
        root = os.path.join(out_dir, name)
        if is_complete(root, scale, seed):
            roots[name] = root
    path = os.path.join(out_dir, DATA_YAML)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"corpora": roots, "synthetic": {"scale": scale, "seed": seed}}, f, sort_keys=False)
    return path


def generate(
    out_dir: str,
    scale: str = "small",
    seed: int = 0,
    corpora: Optional[Iterable[str]] = None,
    workers: Optional[int] = None,
    log: Optional[TextIO] = None,
) -> Dict[str, str]:
    """Generates synthetic IEMOCAP, MSP-IMPROV, SAVEE and Emo-DB stand-ins.

    Args:
        out_dir: output folder; each corpus goes to `out_dir/<name>`, plus
            `out_dir/data.yaml` with the absolute roots.
        scale: "tiny" (tests, ~1 file per speaker and emotion), "small"
            (~180-190 files per corpus) or "paper" (the real corpora's sizes).
        seed: generation seed; same seed and scale give byte-identical files.
        corpora: registry names to generate; default all four.
        workers: processes; default the number of CPUs.
        log: where progress lines go; default stderr.

    Returns:
        {name: absolute corpus root} for the selected corpora.

    Workers are started with forkserver (spawn where unavailable), so a
    script calling this must guard its entry point with
    `if __name__ == "__main__":`, as for any multiprocessing code.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {SCALES}")
    log = log or sys.stderr
    names = _select(corpora)
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    roots = {name: os.path.join(out_dir, name) for name in names}

    pending, jobs = {}, []
    for name in names:
        if is_complete(roots[name], scale, seed):
            print(f"synth: {name}: complete ({scale}, seed {seed}), skipped", file=log, flush=True)
            continue
        _require_espeak()
        corpus = SYNTHETIC_CORPORA[name]()
        plan, corpus_jobs = _prepare(out_dir, corpus, scale, seed)
        pending[name] = (corpus, plan, len(corpus_jobs), [])
        jobs.extend(corpus_jobs)

    if jobs:
        workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
        started = time.perf_counter()
        total_audio = 0.0
        for result in _run(jobs, workers):
            corpus, plan, n_speakers, results = pending[result.corpus]
            results.append(result)
            print(
                f"synth: {result.corpus}: {len(results)}/{n_speakers} speakers "
                f"({100 * len(results) // n_speakers}%)",
                file=log,
                flush=True,
            )
            if len(results) == n_speakers:
                record = _finish(out_dir, corpus, plan, scale, seed, results)
                total_audio += record["audio_seconds"]
                print(
                    f"synth: {result.corpus}: done, {record['files']} files, "
                    f"{record['audio_seconds'] / 60:.1f} min of audio at {record['sample_rate']} Hz",
                    file=log,
                    flush=True,
                )
        wall = time.perf_counter() - started
        print(
            f"synth: {total_audio / 60:.1f} min of audio in {wall:.1f} s with {workers} workers "
            f"({total_audio / max(wall, 1e-9):.0f}x real time)",
            file=log,
            flush=True,
        )
    path = write_data_yaml(out_dir, scale, seed)
    print(f"synth: wrote {path}", file=log, flush=True)
    return roots
