"""Prepare-step speed in seconds of audio per second (not a test).

    python benchmarks/prepare_throughput.py [--corpus emodb=../shared/corpora/emodb] [--workers N]

Without --corpus it uses the synthetic `small` corpora. Reports the whole
command's wall time (worker start-up included) and the steady-state rate
(wall time of a second, one-worker-per-core run minus start-up is not
separable here, so both the 1-worker and N-worker rates are shown).
"""

import argparse
import json
import os
import shutil
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=ROOT")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()

    from pipelines.prepare import parse_corpus_args, prepare

    if args.corpus:
        corpora = parse_corpus_args(args.corpus)
    else:
        from keras_ser.data import synthetic_corpora

        corpora = synthetic_corpora("small", 0)
    rows = []
    for workers in sorted({1, args.workers}):
        out = tempfile.mkdtemp(prefix="keras_ser_bench_")
        try:
            start = time.perf_counter()
            summary = prepare(corpora, out, workers=workers, verbose=False)
            wall = time.perf_counter() - start
        finally:
            shutil.rmtree(out, ignore_errors=True)
        rows.append({"workers": workers, "audio_seconds": summary["audio_seconds"], "wall_seconds": round(wall, 2),
                     "x_real_time": round(summary["audio_seconds"] / wall, 1)})
        print(f"{workers} worker(s): {summary['audio_seconds']:.0f} s of audio in {wall:.1f} s "
              f"= {summary['audio_seconds'] / wall:.0f}x real time")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
