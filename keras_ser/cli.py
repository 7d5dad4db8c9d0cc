"""The `keras-ser` command: one entry point, one subcommand per step of the data flow.

    keras-ser synth --out data/synthetic
    keras-ser prepare --data data/synthetic/data.yaml --out prepared/
    keras-ser fit --protocol multi --set train.epochs=5
    keras-ser export saved_models/<run> --format tflite
    keras-ser predict speech.wav --model saved_models/<run>/export/model.tflite

Each subcommand is exactly its `python -m` module (same options, same exit
codes); `keras-ser SUBCOMMAND --help` lists them. Only the chosen module is
imported, and each parses its arguments before importing TensorFlow, so
`--help` and argument errors answer at once.
"""

import importlib
import sys
from typing import List, Optional

# name -> (module with `main(argv, prog)`, one-line summary)
COMMANDS = {
    "synth": ("keras_ser.synth.__main__", "generate the synthetic stand-in corpora (eSpeak NG, needs the [synth] extra)"),
    "prepare": ("pipelines.prepare", "corpora -> TFRecords of spectrogram segments, manifest and summary"),
    "fit": ("keras_ser.fit", "train and evaluate one system; writes a run folder with results, predictions and plots"),
    "search": ("tuning.search", "search gamma, lambda, center-loss alpha and the learning rate (KerasTuner)"),
    "experiments": ("keras_ser.experiments.__main__", "run a suite of runs and write the paper-style report"),
    "export": ("keras_ser.export", "a run folder -> SavedModel and TFLite files"),
    "predict": ("keras_ser.predict", "emotion of audio files, or of a live stream, with an exported model"),
}
PROG = "keras-ser"


def usage() -> str:
    from keras_ser import __version__

    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} COMMAND [options]   ({PROG} COMMAND --help for its options)", "",
             f"keras_ser {__version__}: cross-corpus speech emotion recognition.", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from keras_ser import __version__

        print(f"keras_ser {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"{PROG}: error: unknown command {name!r}; choose one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return module.main(argv[1:], prog=f"{PROG} {name}")


if __name__ == "__main__":
    sys.exit(main())
