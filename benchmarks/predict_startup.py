"""Start-up cost of `predict` on a .tflite model: with and without TensorFlow in the process.

    python benchmarks/predict_startup.py --model saved_models/<run>/export/model.tflite [--repeats 5]

Times a fresh `python -m keras_ser.predict FILE --model MODEL --json` process
(start, decode a 2-s WAV, run the model, print) as shipped (LiteRT + soundfile +
numpy, no TensorFlow), and the same command in a process that imports
TensorFlow first, which is what predict paid when it decoded through
keras_ser.features. Median of --repeats runs each; also reports whether
TensorFlow ended up loaded.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PROBE = ("import sys\n"
         "{preload}"
         "from keras_ser.predict import main\n"
         "code = main([{wav!r}, '--model', {model!r}, '--json'])\n"
         "print('TENSORFLOW_LOADED', 'tensorflow' in sys.modules, file=sys.stderr)\n"
         "sys.exit(code)\n")


def timed(code: str, repeats: int):
    times, loaded = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
        loaded = "TENSORFLOW_LOADED True" in done.stderr
    return statistics.median(times), loaded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="an exported .tflite model")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import soundfile

    with tempfile.TemporaryDirectory() as folder:
        wav = os.path.join(folder, "two_seconds.wav")
        t = np.arange(32000) / 16000
        soundfile.write(wav, 0.3 * np.sin(2 * np.pi * 180 * t), 16000, subtype="PCM_16")
        rows = []
        for name, preload in (("LiteRT only (shipped)", ""), ("TensorFlow imported first", "import tensorflow\n")):
            seconds, loaded = timed(PROBE.format(preload=preload, wav=wav, model=os.path.abspath(args.model)),
                                    args.repeats)
            rows.append((name, seconds, loaded))
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeats} fresh processes")
    print("| process | wall s | TensorFlow loaded |\n|---|---|---|")
    for name, seconds, loaded in rows:
        print(f"| {name} | {seconds:.2f} | {'yes' if loaded else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
