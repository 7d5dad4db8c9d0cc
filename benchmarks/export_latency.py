"""TFLite latency on one thread, float vs int8 (not a test).

    python benchmarks/export_latency.py saved_models/<run> [--repeats 200] [--json latency.json]

Uses the run's exported models (<run>/export/model.tflite and
model_int8.tflite; exports them first if missing) in the standalone LiteRT
interpreter with num_threads=1, through the signature runners a device app
would call. Measures one normalised segment (`segments`, batch 1) and one
3-second utterance of audio (`waveform`: framing, STFT, normalisation, 22
segments, posterior mean), and prints a table with sizes and the real-time
factor (audio seconds per second of compute). Targets: float under 2 ms per
segment; utterances at least 200x real time.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

UTTERANCE_SECONDS = 3.0


def _timings(call, repeats: int, warmup: int = 10):
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def measure(model_path: str, repeats: int) -> dict:
    from keras_ser.config import FeatureConfig
    from keras_ser.features import num_segments
    from keras_ser.predict import TFLiteEmotionModel

    features = FeatureConfig()
    model = TFLiteEmotionModel(model_path, num_threads=1)
    rng = np.random.default_rng(0)
    segment = rng.normal(size=(1, *features.shape)).astype(np.float32)
    samples = int(UTTERANCE_SECONDS * features.sample_rate)
    t = np.arange(samples) / features.sample_rate
    utterance = (0.3 * np.sin(2 * np.pi * 180 * t) + 0.01 * rng.normal(size=samples)).astype(np.float32)

    per_segment = _timings(lambda: model.segments(segment), repeats)
    per_utterance = _timings(lambda: model.waveform(utterance), max(repeats // 4, 10))
    utterance_ms = 1000 * statistics.median(per_utterance)
    return {
        "model": model_path,
        "bytes": os.path.getsize(model_path),
        "segment_ms_median": round(1000 * statistics.median(per_segment), 4),
        "segment_ms_p90": round(1000 * float(np.percentile(per_segment, 90)), 4),
        "utterance_seconds": UTTERANCE_SECONDS,
        "utterance_segments": int(num_segments(samples, features)),
        "utterance_ms_median": round(utterance_ms, 4),
        "utterance_ms_p90": round(1000 * float(np.percentile(per_utterance, 90)), 4),
        "real_time_factor": round(1000 * UTTERANCE_SECONDS / utterance_ms, 1),
    }


def format_table(rows: dict) -> str:
    lines = ["| model | size | segment (median / p90) | 3-s utterance (median / p90) | x real time |",
             "|---|---:|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['bytes'] / 1024:.0f} KiB | {r['segment_ms_median']:.3f} / {r['segment_ms_p90']:.3f} ms"
                     f" | {r['utterance_ms_median']:.2f} / {r['utterance_ms_p90']:.2f} ms | {r['real_time_factor']:.0f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a finished run folder (its export/ is used, or written when missing)")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per segment measurement (default 200)")
    parser.add_argument("--json", help="where to write the numbers (default <run>/export/latency.json)")
    args = parser.parse_args(argv)

    from keras_ser.export import ExportError, export_run, tflite_name

    export = os.path.join(args.run, "export")
    variants = {"float32": "none", "int8": "int8"}
    missing = [q for q in variants.values() if not os.path.exists(os.path.join(export, tflite_name(q)))]
    try:
        if missing:
            print(f"exporting {', '.join(missing)} first", file=sys.stderr)
            export_run(args.run, ["tflite"], missing, out=export)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = {name: measure(os.path.join(export, tflite_name(q)), args.repeats) for name, q in variants.items()}
    print(format_table(rows))
    path = args.json or os.path.join(export, "latency.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"threads": 1, "runtime": _runtime(), "results": rows}, f, indent=1)
    print(f"wrote {path}")
    return 0


def _runtime() -> str:
    try:
        import ai_edge_litert

        return f"ai_edge_litert {getattr(ai_edge_litert, '__version__', '?')}"
    except ImportError:
        import tensorflow as tf

        return f"tf.lite {tf.__version__}"


if __name__ == "__main__":
    sys.exit(main())
