"""Prepare-step speed in seconds of audio per second of wall time (not a test).

    python benchmarks/prepare_throughput.py [--corpus emodb=../shared/corpora/emodb --corpus emovo=...]
        [--data DIR/data.yaml] [--workers N] [--repeats 2]

Times the whole command, `python -m pipelines.prepare ... --out <empty folder>`,
as a user runs it: process start-up, TensorFlow import and worker start-up
included. Without --corpus or --data it prepares the synthetic `small`
corpora (generated into the cache first if needed, not timed). Also reports
the CPU seconds the command used (user + system, workers included), which
does not depend on what else the machine is running. The decoding workers
are grandchildren (forked by prepare's forkserver, which prepare does not
wait for): on Linux this process becomes their subreaper and waits for them,
so their CPU time is counted; elsewhere it is reported as unknown.
"""

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphaned descendants (the forkserver, its workers) are re-parented to this process."""
    if not sys.platform.startswith("linux"):
        return False
    return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def reap_descendants() -> None:
    """Waits for every re-parented descendant, so its CPU time enters RUSAGE_CHILDREN."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def run_prepare(arguments, workers=None, reaped=True) -> dict:
    out = tempfile.mkdtemp(prefix="keras_ser_bench_")
    command = [sys.executable, "-m", "pipelines.prepare", *arguments, "--out", out]
    if workers is not None:
        command += ["--workers", str(workers)]
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        if reaped:
            reap_descendants()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            audio = json.load(f)["audio_seconds"]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) if reaped else None
    return {"audio_seconds": audio, "wall_seconds": round(wall, 2), "cpu_seconds": cpu and round(cpu, 2),
            "x_real_time": round(audio / wall, 1), "load_average": round(os.getloadavg()[0], 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=ROOT", help="as for pipelines.prepare")
    parser.add_argument("--data", help="as for pipelines.prepare (a data.yaml with `corpora:`)")
    parser.add_argument("--workers", type=int, help="decoding workers (default: prepare's, one per core)")
    parser.add_argument("--repeats", type=int, default=2, help="runs, each into an empty folder (default 2)")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()

    arguments = [f"--corpus={pair}" for pair in args.corpus]
    if args.data:
        arguments += ["--data", args.data]
    if not arguments:
        from keras_ser.data import synthetic_corpora

        root = os.path.dirname(next(iter(synthetic_corpora("small", 0, verbose=False).values())))
        arguments = ["--data", os.path.join(root, "data.yaml")]
    rows, reaped = [], become_subreaper()
    for _ in range(args.repeats):
        row = run_prepare(arguments, args.workers, reaped)
        rows.append(row)
        cpu = "CPU s unknown" if row["cpu_seconds"] is None else f"{row['cpu_seconds']:.1f} CPU s"
        print(f"{row['audio_seconds']:.0f} s of audio in {row['wall_seconds']:.1f} s wall = {row['x_real_time']:.0f}x "
              f"real time ({cpu}; load average {row['load_average']})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
