"""Emotion of audio files or a live stream with an exported model: `python -m keras_ser.predict`.

    python -m keras_ser.predict a.wav b.flac --model saved_models/<run>/export/model.tflite
    python -m keras_ser.predict a.wav --model saved_models/<run>/export/saved_model --json
    arecord -f S16_LE -r 16000 | python -m keras_ser.predict --stream - --model saved_models/<run>/export/model.tflite

Any WAV/FLAC/AIFF, any sample rate and channel count: files are read and
resampled to mono 16 kHz exactly like the training data
(`keras_ser.audio.load_waveform`, soundfile: no TensorFlow is imported for a
.tflite model); the model's `waveform` signature does
segmentation, spectrogram and normalisation in its graph and returns the mean
of the segment posteriors.

With --adapt FILE (repeatable), the statistics of the user's or the
microphone's audio in those files (`keras_ser.adaptation`, through the
model's `statistics` signature) normalise every file instead of the
training statistics (`waveform_adapted`): the intended use of a model
trained with `corpus` or `speaker` normalisation.

Output: a table (file, arousal low/high, valence negative/positive, each with
its probability), or with --json one JSON object per line (one per file).
A file that cannot be read is reported with the reason and the other files
still run. Exit code: 0 if at least one file was predicted, 1 if every file
failed, 2 for a bad model path or bad options.

--stream SOURCE ("-": standard input): one JSON line per --step seconds
over the last --window seconds of audio (keras_ser.stream). The feature
settings (model rate, segment length, hop) come from the export's
export.json, i.e. from the run folder.
"""

import argparse
import json
import os
import sys
from typing import Dict, List, Optional

import numpy as np

from keras_ser.config import FeatureConfig
from keras_ser.export import CLASS_NAMES, make_interpreter
from keras_ser.stream import SAMPLE_FORMATS


class ModelError(Exception):
    """The --model path is not an exported keras_ser model."""


ADAPTATION_SIGNATURES = ("waveform_adapted", "statistics")


def read_normalisation(model_path: str) -> dict:
    """The export's normalisation.json (mode, training statistics), beside the model; {} when absent."""
    folder = os.path.dirname(os.path.abspath(model_path).rstrip(os.sep))
    path = os.path.join(folder, "normalisation.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class _Normalised:
    """What both model kinds know of their normalisation."""

    def _init_normalisation(self, signatures) -> None:
        info = read_normalisation(self.path)
        self.normalisation = info.get("mode", "global")
        self.training_statistics = ((np.asarray(info["mean"], np.float32), np.asarray(info["std"], np.float32))
                                    if "mean" in info else None)
        self.adaptable = all(name in signatures for name in ADAPTATION_SIGNATURES)
        self.num_bins = FeatureConfig().num_bins

    def _check_adaptable(self) -> None:
        if not self.adaptable:
            raise ModelError(f"--model: {self.path} has no waveform_adapted/statistics signatures "
                             "(exported before adaptation existed); export the run again")


class TFLiteEmotionModel(_Normalised):
    """A .tflite export run by the standalone LiteRT interpreter, one signature runner per signature."""

    def __init__(self, path: str, num_threads: Optional[int] = None):
        self.path = path
        try:
            self.interpreter = make_interpreter(path, num_threads=num_threads)
        except ValueError as err:
            raise ModelError(f"--model: {path} is not a TFLite model ({err})") from err
        signatures = self.interpreter.get_signature_list()
        if "waveform" not in signatures or "segments" not in signatures:
            raise ModelError(f"--model: {path} has no keras_ser signatures (found {', '.join(signatures) or 'none'})")
        self.tasks = [task for task in CLASS_NAMES if task in signatures["waveform"]["outputs"]]
        # The signature runner resizes the input (dynamic waveform length,
        # segment batch size) and reallocates tensors before each call.
        self._init_normalisation(signatures)
        names = ("segments", "waveform") + (ADAPTATION_SIGNATURES if self.adaptable else ())
        self._runners = {name: self.interpreter.get_signature_runner(name) for name in names}

    def segments(self, spectrogram: np.ndarray) -> Dict[str, np.ndarray]:
        """(batch, 32, 129, 1) normalised spectrograms -> {task: (batch, 2)}."""
        return self._runners["segments"](spectrogram=np.asarray(spectrogram, np.float32))

    def waveform(self, waveform: np.ndarray) -> Dict[str, np.ndarray]:
        """(samples,) mono 16 kHz -> {task: (2,)}."""
        return self._runners["waveform"](waveform=np.asarray(waveform, np.float32))

    def waveform_adapted(self, waveform: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Dict[str, np.ndarray]:
        """(samples,) mono 16 kHz, normalised with the given (129,) mean and std -> {task: (2,)}."""
        self._check_adaptable()
        return self._runners["waveform_adapted"](waveform=np.asarray(waveform, np.float32),
                                                 mean=np.asarray(mean, np.float32), std=np.asarray(std, np.float32))

    def statistics(self, waveform: np.ndarray) -> Dict[str, np.ndarray]:
        """(samples,) -> {"sum", "sum_squares": (129,), "frames": ()} of its log spectrograms."""
        self._check_adaptable()
        return self._runners["statistics"](waveform=np.asarray(waveform, np.float32))


class SavedModelEmotionModel(_Normalised):
    """A SavedModel export, called through its serving signatures."""

    def __init__(self, path: str):
        import tensorflow as tf

        self.path = path
        try:
            loaded = tf.saved_model.load(path)
        except (OSError, ValueError) as err:
            raise ModelError(f"--model: cannot load the SavedModel {path}: {str(err).splitlines()[0]}") from err
        if "waveform" not in loaded.signatures or "segments" not in loaded.signatures:
            raise ModelError(f"--model: {path} has no keras_ser signatures (found {', '.join(loaded.signatures)})")
        self._loaded = loaded  # keeps the variables alive
        self._init_normalisation(loaded.signatures)
        names = ("segments", "waveform") + (ADAPTATION_SIGNATURES if self.adaptable else ())
        self._signatures = {name: loaded.signatures[name] for name in names}
        self.tasks = [task for task in CLASS_NAMES if task in self._signatures["waveform"].structured_outputs]

    def segments(self, spectrogram: np.ndarray) -> Dict[str, np.ndarray]:
        out = self._signatures["segments"](spectrogram=np.asarray(spectrogram, np.float32))
        return {task: value.numpy() for task, value in out.items()}

    def waveform(self, waveform: np.ndarray) -> Dict[str, np.ndarray]:
        out = self._signatures["waveform"](waveform=np.asarray(waveform, np.float32))
        return {task: value.numpy() for task, value in out.items()}

    def waveform_adapted(self, waveform: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Dict[str, np.ndarray]:
        self._check_adaptable()
        out = self._signatures["waveform_adapted"](waveform=np.asarray(waveform, np.float32),
                                                   mean=np.asarray(mean, np.float32), std=np.asarray(std, np.float32))
        return {task: value.numpy() for task, value in out.items()}

    def statistics(self, waveform: np.ndarray) -> Dict[str, np.ndarray]:
        self._check_adaptable()
        out = self._signatures["statistics"](waveform=np.asarray(waveform, np.float32))
        return {name: value.numpy() for name, value in out.items()}


def load_model(path: str, num_threads: Optional[int] = None):
    """A .tflite file -> TFLiteEmotionModel; a SavedModel folder -> SavedModelEmotionModel."""
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            raise ModelError(f"--model: {path} is a folder without saved_model.pb (not a SavedModel)")
        return SavedModelEmotionModel(path)
    if not os.path.isfile(path):
        raise ModelError(f"--model: {path} does not exist")
    return TFLiteEmotionModel(path, num_threads=num_threads)


def predict_file(model, path: str, features: FeatureConfig = FeatureConfig(), statistics=None) -> dict:
    """One file -> {"file", "ok": True, task: {"label", "probability", "probabilities"}, "seconds"}.

    `statistics`: (mean, std) to normalise with (`waveform_adapted`); None:
    the training statistics (`waveform`). An unreadable file gives
    {"file", "ok": False, "error": reason} instead of raising.
    """
    from keras_ser.audio import AudioError, load_waveform

    try:
        waveform, seconds = load_waveform(path, features)
    except AudioError as err:
        return {"file": path, "ok": False, "error": str(err)}
    probabilities = model.waveform(waveform) if statistics is None else model.waveform_adapted(waveform, *statistics)
    result = {"file": path, "ok": True, "seconds": round(float(seconds), 3)}
    for task in model.tasks:
        p = np.asarray(probabilities[task], np.float64).reshape(-1)
        index = int(np.argmax(p))
        result[task] = {"label": CLASS_NAMES[task][index], "probability": round(float(p[index]), 4),
                        "probabilities": {name: round(float(v), 4) for name, v in zip(CLASS_NAMES[task], p)}}
    return result


def predict_files(model, paths: List[str], features: FeatureConfig = FeatureConfig(), statistics=None) -> List[dict]:
    return [predict_file(model, path, features, statistics) for path in paths]


def adapt(model, paths: List[str], features: FeatureConfig = FeatureConfig()):
    """(mean, std) of the audio in `paths` (`keras_ser.adaptation`); an unreadable file is a ModelError."""
    from keras_ser.adaptation import adaptation_statistics
    from keras_ser.audio import AudioError, load_waveform

    model._check_adaptable()
    waveforms = []
    for path in paths:
        try:
            waveforms.append(load_waveform(path, features)[0])
        except AudioError as err:
            raise ModelError(f"--adapt: {path}: {err}") from err
    return adaptation_statistics(model, waveforms)


def format_table(results: List[dict], tasks: List[str]) -> str:
    header = ["file", *tasks]
    rows = []
    for r in results:
        if r["ok"]:
            rows.append([r["file"], *(f"{r[t]['label']} ({r[t]['probability']:.2f})" for t in tasks)])
        else:
            rows.append([r["file"], f"error: {r['error']}", *([""] * (len(tasks) - 1))])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command line


def build_parser(prog: str = "python -m keras_ser.predict") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0],
                                     epilog="Exit code: 0 if at least one file was predicted, 1 if every file "
                                            "failed, 2 for a bad --model or bad options.")
    parser.add_argument("files", nargs="*", help="audio files (WAV, FLAC or AIFF; any sample rate and channel count)")
    parser.add_argument("--model", required=True,
                        help="an exported model: a .tflite file or a SavedModel folder (keras_ser.export output)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per file (JSON lines) instead of a table")
    parser.add_argument("--threads", type=int, default=None, help="TFLite interpreter threads (default: LiteRT's)")
    stream = parser.add_argument_group("streaming (one JSON line per step)")
    stream.add_argument("--stream", metavar="SOURCE",
                        help="read audio as it arrives from SOURCE ('-' = standard input, or a file or FIFO): WAV, "
                             "or headerless PCM when --rate is given")
    stream.add_argument("--window", type=float, default=2.0, help="seconds of audio each result covers (default 2)")
    stream.add_argument("--step", type=float, default=0.5, help="seconds of audio between results (default 0.5)")
    stream.add_argument("--rate", type=int, help="headerless PCM: its sample rate (the stream then has no header)")
    stream.add_argument("--channels", type=int, default=1, help="headerless PCM: channel count (default 1)")
    stream.add_argument("--adapt-stream", type=float, metavar="HALF_LIFE",
                        help="normalise the stream with its own running statistics, a frame's weight halving every "
                             "HALF_LIFE seconds (for models trained with corpus or speaker normalisation; e.g. 10)")
    stream.add_argument("--sample-format", choices=sorted(SAMPLE_FORMATS), default="s16le",
                        help="headerless PCM: sample format (default s16le, as arecord -f S16_LE)")
    parser.add_argument("--adapt", action="append", default=[], metavar="FILE",
                        help="audio of the same speaker or microphone (a few seconds; repeatable): its statistics "
                             "normalise every file instead of the training statistics (for models trained with "
                             "corpus or speaker normalisation)")
    return parser


def main(argv: Optional[list] = None, prog: str = "python -m keras_ser.predict") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if bool(args.files) == bool(args.stream):
        parser.error("give audio files or --stream SOURCE (one of the two)")
    if args.rate is not None and (args.rate < 1000 or args.channels < 1):
        parser.error(f"--rate {args.rate} / --channels {args.channels}: need a rate >= 1000 Hz and >= 1 channel")
    from keras_ser.recognizer import Recognizer

    try:
        recognizer = Recognizer.load(args.model, num_threads=args.threads)
        statistics = adapt(recognizer.model, args.adapt, recognizer.features) if args.adapt else None
    except ModelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.stream:
        if statistics is not None:
            parser.error("--adapt applies to files; a stream adapts to itself with --adapt-stream HALF_LIFE")
        if args.adapt_stream is not None and not recognizer.model.adaptable:
            print(f"error: --model: {args.model} has no waveform_adapted/statistics signatures; export the run "
                  "again", file=sys.stderr)
            return 2
        return run_stream(recognizer, args)
    if args.adapt_stream is not None:
        parser.error("--adapt-stream applies to --stream")
    results = predict_files(recognizer.model, args.files, recognizer.features, statistics=statistics)
    if args.json:
        for result in results:
            print(json.dumps(result))
    else:
        print(format_table(results, recognizer.tasks))
    for result in results:
        if not result["ok"]:
            print(f"error: {result['file']}: {result['error']}", file=sys.stderr)
    return 0 if any(r["ok"] for r in results) else 1


def run_stream(recognizer, args) -> int:
    """Prints one JSON line per step; exit 0 after at least one line, 1 for an unreadable or too short stream."""
    from keras_ser.audio import AudioError
    from keras_ser.stream import open_stream, stream_predictions

    printed = 0
    try:
        with open_stream(args.stream, args.rate, args.channels, args.sample_format) as sound:
            for result in stream_predictions(recognizer, sound, args.window, args.step, args.adapt_stream):
                print(json.dumps(result), flush=True)
                printed += 1
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except AudioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a live stream
    if not printed:
        print("error: the stream held no audio", file=sys.stderr)
    return 0 if printed else 1


if __name__ == "__main__":
    sys.exit(main())
