"""How fast the command line answers: --help of every subcommand, and the first line of a stream.

    python benchmarks/cli_latency.py                                   # keras-ser SUBCOMMAND --help
    python benchmarks/cli_latency.py --modules                         # python -m <module> --help
    python benchmarks/cli_latency.py --stream saved_models/<run>/export/model.tflite

--help: wall time of a fresh process, median of --repeats runs per subcommand
(`--modules` times the `python -m` entry points instead, e.g. on an older
checkout without keras_ser.cli). --stream: a 5-s WAV (16 kHz, then 44.1 kHz,
which needs the resampler) is piped, all at once,
into `keras-ser predict --stream -`; the time from starting the process to
its first JSON line (start-up, model load, first 0.5 s window), median of
--repeats runs.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

MODULES = {"synth": "keras_ser.synth", "prepare": "pipelines.prepare", "fit": "keras_ser.fit",
           "search": "tuning.search", "experiments": "keras_ser.experiments", "export": "keras_ser.export",
           "predict": "keras_ser.predict"}


def time_help(command, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_first_line(model, repeats, rate=16000):
    import soundfile

    t = np.arange(5 * rate) / rate
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.3 * np.sin(2 * np.pi * 180 * t)).astype("float32"), rate, format="WAV",
                    subtype="PCM_16")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "keras_ser.cli", "predict", "--stream", "-", "--model", model],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        process.stdin.write(buffer.getvalue())
        process.stdin.close()
        json.loads(process.stdout.readline())
        times.append(time.perf_counter() - started)
        process.stdout.read()
        process.wait()
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", action="store_true", help="time `python -m <module> --help` instead")
    parser.add_argument("--stream", metavar="MODEL", help="time the first line of predict --stream with this model")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.stream:
        for rate in (16000, 44100):
            seconds = time_first_line(args.stream, args.repeats, rate)
            print(f"predict --stream, {rate} Hz WAV: first line after {seconds:.2f} s (median of {args.repeats})")
        return
    for name, module in MODULES.items():
        command = [sys.executable, "-m", module, "--help"] if args.modules else \
            [sys.executable, "-m", "keras_ser.cli", name, "--help"]
        print(f"{' '.join(command[1:]):<45} {time_help(command, args.repeats):.2f} s (median of {args.repeats})",
              flush=True)


if __name__ == "__main__":
    main()
