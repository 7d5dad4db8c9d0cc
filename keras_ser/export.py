"""A trained run -> SavedModel and TFLite for on-device use: `python -m keras_ser.export`.

    python -m keras_ser.export saved_models/<run> --format savedmodel,tflite --quantize none,int8

Writes into `<run>/export/` (or `--out`):
    saved_model/                 the SavedModel (both signatures below)
    model.tflite                 float32 TFLite       (--quantize none)
    model_float16.tflite         float16 weights      (--quantize float16)
    model_dynamic.tflite         int8 weights, float activations (--quantize dynamic)
    model_int8.tflite            int8 network, float features and first convolution (--quantize int8)
    export.json                  what was written, sizes, tasks, labels

Four signatures, identical in the SavedModel and every .tflite file:
    segments          spectrogram (batch, 32, 129, 1) float32, already normalised
                      -> {task: (batch, 2) probabilities}
    waveform          waveform (samples,) float32, mono 16 kHz, any length
                      -> {task: (2,) probabilities}: the mean of the segment posteriors
                      (the paper's utterance-level decision), normalised with
                      the run's training statistics
    waveform_adapted  waveform, mean (129,), std (129,) -> as `waveform`, normalised
                      with the given statistics: those of the speaker or microphone,
                      for a run trained with `corpus` or `speaker` normalisation
    statistics        waveform -> {"sum", "sum_squares": (129,), "frames": ()}: the
                      per-frequency sums of the log spectrograms, from which
                      `keras_ser.adaptation` computes a speaker's mean/std
                      (batch or streaming)
Only the tasks the run trained are outputs. Class 0/1 = low/high arousal,
negative/positive valence (keras_ser.corpora.emotion_map).

The waveform signature computes the training features in its graph with the
very functions the prepare step uses (`keras_ser.features.log_spectrogram_segments`)
and normalises with the run's training statistics, so a device feeds raw audio.
export.json and a copy of the run's normalisation.json (beside the models)
record the normalisation mode and the training statistics.

TFLite uses builtin ops only (no Flex/SELECT_TF_OPS); `tflite_ops` lists them.
int8: integer quantization of the network, calibrated on real training
segments of the run (its prepared TFRecords) and, for the waveform signature,
on the training utterances' audio, with the int8 builtin op set. The
in-graph features (STFT, log, normalisation) and the first convolution block
stay float32: a log of int8 magnitudes loses the quiet bins, and the first
convolution sees the normalised spectrogram's whole range (see
`_quantize_keeping_float_nodes`).
Inputs and outputs stay float32 (quantize/dequantize inside the graph) so the
signatures and the callers do not change.
"""

import argparse
import dataclasses
import json
import os
import re
import sys
import warnings
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from keras_ser.io import atomic_write_bytes

FORMATS = ("savedmodel", "tflite")
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
SIGNATURES = ("segments", "waveform", "waveform_adapted", "statistics")
# Name scope of the in-graph features; the int8 conversion keeps it in float.
FEATURE_SCOPE = "features"
# The int8 conversion also keeps the first convolution (with its fused
# BatchNorm and ReLU) in float; TFLite names its tensors ".../conv0_1/convolution".
FLOAT_LAYER = re.compile(r"/conv0(_\d+)?/")
# int8 recipes: which part of the network stays float besides the features.
# "first-conv-float" (default): the first convolution block too; "all-int8":
# nothing after the features (costs more UA, see `_quantize_keeping_float_nodes`).
INT8_RECIPES = ("first-conv-float", "all-int8")
CLASS_NAMES = {"arousal": ("low", "high"), "valence": ("negative", "positive")}

# Calibration: enough segments to see every corpus and both classes; more
# changes the int8 ranges by little and costs conversion time.
CALIBRATION_SEGMENTS = 200
CALIBRATION_UTTERANCES = 20


class ExportError(Exception):
    """A run that cannot be exported, or a conversion that failed; `str(err)` says why."""


def tflite_name(quantize: str) -> str:
    return "model.tflite" if quantize == "none" else f"model_{quantize}.tflite"


# ---------------------------------------------------------------------------
# The exported graph


def normalised_segments(waveform, features, mean, std):
    """(samples,) 16 kHz -> (segments, 32, 129, 1): the prepare step's features, normalised as in training.

    `keras_ser.features.log_spectrogram_segments` is the function the prepare
    step runs, so the device computes exactly the training features.
    """
    import tensorflow as tf

    from keras_ser.features import log_spectrogram_segments

    with tf.name_scope(FEATURE_SCOPE):
        spectrograms = log_spectrogram_segments(waveform, features)
        # expand_dims, not [..., tf.newaxis]: a strided slice with new_axis_mask
    # has no TFLite builtin kernel (it would need Flex).
        return tf.expand_dims((spectrograms - mean) / std, -1)


def build_archive(run):
    """A keras ExportArchive of `run` (keras_ser.runs.Run) with the `segments` and `waveform` endpoints.

    ExportArchive rather than a bare tf.Module: it tracks the Keras 3
    variables so the SavedModel's variable reads resolve, which the TFLite
    converter needs to freeze them.
    """
    import keras
    import tensorflow as tf

    from keras_ser.features import log_spectrogram_segments

    features = run.config.features
    model = run.network.inference_model
    tasks = list(run.config.tasks)
    mean = tf.constant(run.mean, tf.float32)
    std = tf.constant(run.std, tf.float32)

    def segments(spectrogram):
        probabilities = model(spectrogram, training=False)
        return {task: probabilities[task] for task in tasks}

    def waveform_adapted(waveform, mean, std):
        probabilities = model(normalised_segments(waveform, features, mean, std), training=False)
        # The paper's utterance-level decision: the mean of the segment posteriors.
        return {task: tf.reduce_mean(probabilities[task], axis=0) for task in tasks}

    def waveform(waveform):
        return waveform_adapted(waveform, mean, std)

    def statistics(waveform):
        # The sums the prepare step writes into a shard's receipt, over the same frames.
        with tf.name_scope(FEATURE_SCOPE):
            frames = tf.reshape(log_spectrogram_segments(waveform, features), [-1, features.num_bins])
            return {"sum": tf.reduce_sum(frames, axis=0), "sum_squares": tf.reduce_sum(tf.square(frames), axis=0),
                    "frames": tf.cast(tf.shape(frames)[0], tf.float32)}

    audio = tf.TensorSpec([None], tf.float32, name="waveform")
    bins = features.num_bins
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("segments", segments, [tf.TensorSpec([None, *features.shape], tf.float32, name="spectrogram")])
    archive.add_endpoint("waveform", waveform, [audio])
    archive.add_endpoint("waveform_adapted", waveform_adapted, [
        audio, tf.TensorSpec([bins], tf.float32, name="mean"), tf.TensorSpec([bins], tf.float32, name="std")])
    archive.add_endpoint("statistics", statistics, [audio])
    return archive


def save_savedmodel(run, path: str) -> None:
    build_archive(run).write_out(path, verbose=False)


# ---------------------------------------------------------------------------
# TFLite


def _convert(saved_model: str, quantize: str, calibration=None, int8_recipe: str = INT8_RECIPES[0]) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, signature_keys=list(SIGNATURES))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # Float in and out (QUANTIZE/DEQUANTIZE at the edges): the signatures
        # stay those of the float model, and a caller feeds the same arrays.
        converter.inference_input_type = tf.float32
        converter.inference_output_type = tf.float32
    try:
        if quantize != "int8":
            return converter.convert()
        return _quantize_keeping_float_nodes(converter, keep_first_conv=int8_recipe == "first-conv-float")
    except Exception as err:  # the converter raises bare Exception/ConverterError with its MLIR log
        lines = str(err).strip().splitlines()
        details = [line.strip() for line in lines if "ops:" in line]  # e.g. "TF Select ops: StridedSlice"
        raise ExportError(f"TFLite conversion ({quantize}) failed: {'; '.join(details or lines[:1])}") from err


def _quantize_keeping_float_nodes(converter, keep_first_conv: bool = True) -> bytes:
    """int8 network, float features (and first convolution): calibrate, then quantize with those denylisted.

    Left to itself the quantizer gives LOG an int8 input: |STFT| + 1e-6
    spans orders of magnitude, a linear int8 grid zeroes all the quiet bins
    and the waveform signature's predictions collapse (measured on the tiny
    tone run: 0 of 8 test utterances agreeing with float). The nodes under
    FEATURE_SCOPE therefore stay float32 (builtins RFFT2D, COMPLEX_ABS, LOG,
    ...). So does the first convolution block (FLOAT_LAYER: 144 weights,
    about 5 % of the network's multiply-adds): over the 24 runs of the paper
    suite, an int8 first convolution cost up to 1.7 points of test UA
    (22 of 24 runs within 1 point on both tasks), a float one at most 0.6
    (24 of 24; `benchmarks/int8_accuracy.py`).
    The rest of the network, from the first pooling on, is int8. This is the
    mechanism behind tf.lite.experimental.QuantizationDebugger's
    `denylisted_nodes` (calibrate only, then mlir_quantize), called directly.
    """
    from tensorflow.lite.python import convert
    from tensorflow.lite.python import schema_py_generated as schema

    converter._experimental_calibrate_only = True
    calibrated = converter.convert()
    model = schema.ModelT.InitFromPackedBuf(calibrated, 0)
    names = {tensor.name.decode() for subgraph in model.subgraphs for tensor in subgraph.tensors}
    float_nodes = sorted(name for name in names
                         if name.startswith(FEATURE_SCOPE + "/") or (keep_first_conv and FLOAT_LAYER.search(name)))
    if keep_first_conv and not any(FLOAT_LAYER.search(name) for name in float_nodes):
        raise ExportError("int8: the first convolution's tensors (.../conv0/...) are missing from the converted graph")
    return convert.mlir_quantize(calibrated, fully_quantize=False, denylisted_nodes=float_nodes)


def calibration_data(run, segments: int = CALIBRATION_SEGMENTS, utterances: int = CALIBRATION_UTTERANCES):
    """() -> iterator of (signature, inputs): real training segments and utterances of `run`.

    Segments come from the run's prepared TFRecords (training speakers),
    normalised with the run's statistics (each speaker's own under `corpus`
    or `speaker` normalisation), exactly what the network saw in
    training. Waveforms are the same speakers' audio, read from the paths
    of the prepared manifest; `waveform_adapted` is calibrated with each
    speaker's statistics.
    """
    import tensorflow as tf

    from keras_ser.features import AudioError, load_waveform
    from pipelines.dataset import PreparedCorpora
    from pipelines.records import parse_segments

    try:
        prepared = PreparedCorpora(run.speakers["prepared"])
    except FileNotFoundError as err:
        raise ExportError(f"int8 calibration reads the run's prepared data: {err}") from err
    train = sorted(run.speakers["plan"]["train"])
    if not train:
        raise ExportError("int8 calibration: the run has no training speakers")
    features = run.config.features
    # Round-robin over speakers so every corpus and speaker is represented.
    records = tf.data.Dataset.from_tensor_slices([prepared.shard(s) for s in train]).interleave(
        tf.data.TFRecordDataset, cycle_length=len(train), block_length=1)
    normalisation = run.normalisation
    spectrograms = []
    for batch in records.take(segments).batch(64):
        parsed = parse_segments(batch, features.shape)
        mean, std = normalisation.arrays([s.decode() for s in parsed["speaker"].numpy()], prepared.receipt)
        spectrograms.append((parsed["spectrogram"].numpy() - mean[:, np.newaxis]) / std[:, np.newaxis])
    if not spectrograms:
        raise ExportError(f"int8 calibration: no segments in the training shards under {prepared.root}")
    spectrograms = np.concatenate(spectrograms)

    rows = [r for r in prepared.utterances if r["speaker"] in set(train)]
    step = max(1, len(rows) // utterances)
    waveforms, unreadable = [], []
    for row in rows[::step][:utterances]:
        try:
            waveforms.append((load_waveform(row["path"], features)[0], normalisation.stats(row["speaker"])))
        except AudioError as err:
            unreadable.append(f"{row['path']}: {err}")
    if unreadable and waveforms:
        # Files moved or changed since prepare: the readable ones still calibrate.
        warnings.warn(f"int8 calibration skipped {len(unreadable)} unreadable file(s), e.g. {unreadable[0]}")
    if not waveforms:
        raise ExportError("int8 calibration: none of the training utterances' audio files is readable "
                          f"(e.g. {rows[0]['path'] if rows else '?'}); the waveform signature needs real audio")

    def generate():
        for spectrogram in spectrograms:
            yield "segments", {"spectrogram": spectrogram[np.newaxis, ..., np.newaxis].astype(np.float32)}
        for waveform, stats in waveforms:
            waveform = waveform.astype(np.float32)
            yield "waveform", {"waveform": waveform}
            yield "waveform_adapted", {"waveform": waveform, "mean": stats.mean, "std": stats.std}
            yield "statistics", {"waveform": waveform}

    return generate


def tflite_operators(model_path: str) -> Iterator[Tuple[str, str, List[str]]]:
    """(subgraph (= signature) name, op name, input tensor types) of every operator of a .tflite file, in graph order.

    Read from the flatbuffer itself, since the interpreter lists only its
    first subgraph. A Flex or custom op shows up as "CUSTOM:<name>"; an
    omitted optional input as None.
    """
    from tensorflow.lite.python import schema_py_generated as schema

    with open(model_path, "rb") as f:
        model = schema.ModelT.InitFromPackedBuf(f.read(), 0)
    names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    types = {code: name for name, code in vars(schema.TensorType).items() if not name.startswith("_")}
    for index, subgraph in enumerate(model.subgraphs):
        signature = subgraph.name.decode() if subgraph.name else f"subgraph{index}"
        for operator in subgraph.operators:
            opcode = model.operatorCodes[operator.opcodeIndex]
            # Codes above 127 live in builtinCode only; deprecatedBuiltinCode caps at 127.
            code = max(opcode.builtinCode, opcode.deprecatedBuiltinCode)
            name = f"CUSTOM:{opcode.customCode.decode()}" if code == schema.BuiltinOperator.CUSTOM else names[code]
            inputs = [types[subgraph.tensors[i].type] if i >= 0 else None for i in operator.inputs]
            yield signature, name, inputs


def tflite_ops(model_path: str) -> Dict[str, List[str]]:
    """{subgraph (= signature) name: sorted op names} of a .tflite file (see `tflite_operators`)."""
    ops: Dict[str, set] = {}
    for signature, name, _ in tflite_operators(model_path):
        ops.setdefault(signature, set()).add(name)
    return {signature: sorted(names) for signature, names in ops.items()}


def make_interpreter(model_path: str, num_threads: Optional[int] = None):
    """A standalone LiteRT interpreter (ai_edge_litert); tf.lite only when LiteRT is not installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from tensorflow.lite.python.interpreter import Interpreter
    return Interpreter(model_path=model_path, num_threads=num_threads)


# ---------------------------------------------------------------------------
# The whole export


def _parse_list(value, accepted: Sequence[str], option: str) -> List[str]:
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    items = [v for v in items if v]
    if not items:
        raise ExportError(f"{option}: give at least one of {', '.join(accepted)}")
    unknown = [v for v in items if v not in accepted]
    if unknown:
        raise ExportError(f"{option}: {', '.join(unknown)} not accepted; choose from {', '.join(accepted)}")
    return list(dict.fromkeys(items))


def export_run(run_dir: str, formats: Iterable[str] = FORMATS, quantize: Iterable[str] = ("none",),
               out: Optional[str] = None, verbose: bool = False, evaluate: Optional[str] = None,
               int8_recipe: str = INT8_RECIPES[0]) -> Dict[str, dict]:
    """Exports the run in `run_dir`; returns {name: {"path", "bytes"}} of what was written.

    `formats` and `quantize` are lists or comma-separated strings. A SavedModel
    is always built (TFLite is converted from it); it is kept in the output
    when "savedmodel" is among `formats`. `evaluate` ("test", "val"): every
    written model and the Keras model are scored on that split of the run
    (`evaluate_exports`); each entry then has "scores" as well, and a first
    entry "keras" (no file) holds the reference scores. `int8_recipe`
    (INT8_RECIPES): what the int8 file keeps float besides the features.
    """
    import shutil
    import tempfile

    from keras_ser.runs import load_run

    formats = _parse_list(formats, FORMATS, "--format")
    quantize = _parse_list(quantize, QUANTIZATIONS, "--quantize")
    if int8_recipe not in INT8_RECIPES:
        raise ExportError(f"--int8-recipe: {int8_recipe} not accepted; choose from {', '.join(INT8_RECIPES)}")
    try:
        run = load_run(run_dir)
    except FileNotFoundError as err:
        raise ExportError(str(err)) from err
    out = os.path.abspath(out or os.path.join(run.root, "export"))
    os.makedirs(out, exist_ok=True)

    written: Dict[str, dict] = {}
    keep_savedmodel = "savedmodel" in formats
    saved_model = os.path.join(out, "saved_model") if keep_savedmodel else tempfile.mkdtemp(prefix="keras_ser_sm_")
    try:
        if os.path.exists(saved_model) and keep_savedmodel:
            shutil.rmtree(saved_model)
        if verbose:
            print(f"saving {saved_model}", file=sys.stderr, flush=True)
        save_savedmodel(run, saved_model)
        if keep_savedmodel:
            written["savedmodel"] = {"path": saved_model, "bytes": _folder_size(saved_model)}
        if "tflite" in formats:
            for mode in quantize:
                if verbose:
                    print(f"converting to TFLite ({mode})", file=sys.stderr, flush=True)
                calibration = calibration_data(run) if mode == "int8" else None
                flatbuffer = _convert(saved_model, mode, calibration, int8_recipe)
                path = os.path.join(out, tflite_name(mode))
                _write_bytes(path, flatbuffer)
                written[f"tflite_{mode}"] = {"path": path, "bytes": len(flatbuffer)}
    finally:
        if not keep_savedmodel:
            shutil.rmtree(saved_model, ignore_errors=True)
    if evaluate:
        if verbose:
            print(f"scoring the models on the {evaluate} split", file=sys.stderr, flush=True)
        scores = evaluate_exports(run, written, evaluate)
        written = {"keras": {"scores": scores["keras"]}, **{k: {**v, "scores": scores[k]} for k, v in written.items()}}

    summary = {
        "run": run.root,
        "tasks": list(run.config.tasks),
        "classes": {task: list(CLASS_NAMES[task]) for task in run.config.tasks},
        "signatures": list(SIGNATURES),
        "features": dataclasses.asdict(run.config.features),
        "normalisation": run.normalisation.mode,
        **({"int8_recipe": int8_recipe} if "int8" in quantize and "tflite" in formats else {}),
        "files": {name: {"path": os.path.relpath(v["path"], out), "bytes": v["bytes"]}
                  for name, v in written.items() if "path" in v},
    }
    if evaluate:
        summary["evaluation"] = {"split": evaluate, "scores": {name: v["scores"] for name, v in written.items()}}
    _write_bytes(os.path.join(out, "export.json"), json.dumps(summary, indent=1).encode("utf-8"))
    # The mode and the training statistics travel with the models (keras_ser.predict reads them).
    shutil.copyfile(os.path.join(run.root, "normalisation.json"), os.path.join(out, "normalisation.json"))
    return written


def evaluate_exports(run, written: Dict[str, dict], split: str = "test") -> Dict[str, dict]:
    """`keras_ser.evaluation.score` on the run's `split` speakers: {"keras": ..., name: ...}.

    The Keras model is the reference; every written model is scored through
    its `segments` signature on the same normalised segments, so the
    difference is the export's (quantization's) alone.
    """
    from keras_ser.evaluation import collect_predictions, predictions_of, score
    from keras_ser.predict import load_model

    if not run.speakers["plan"].get(split):
        raise ExportError(f"--evaluate: the run has no {split} speakers")
    dataset = run.split_dataset(split, batch_size=64)
    tasks = run.config.tasks
    scores = {"keras": score(collect_predictions(run.network.inference_model, dataset, tasks), tasks)}
    for name, entry in written.items():
        scores[name] = score(predictions_of(load_model(entry["path"]).segments, dataset, tasks), tasks)
    return scores


def format_evaluation(written: Dict[str, dict]) -> str:
    """Average utterance UA per task of each scored model, and its difference to the Keras model."""
    tasks = [task for task in CLASS_NAMES if task in written["keras"]["scores"]]
    lines = ["| model | " + " | ".join(f"{task} UA | vs Keras" for task in tasks) + " |",
             "|---|" + "---:|---:|" * len(tasks)]
    reference = {task: written["keras"]["scores"][task]["average"]["utterance"]["ua"] for task in tasks}
    for name, entry in written.items():
        cells = []
        for task in tasks:
            ua = entry["scores"][task]["average"]["utterance"]["ua"]
            cells += [f"{100 * ua:.2f}", f"{100 * (ua - reference[task]):+.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _folder_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files)


def _write_bytes(path: str, data: bytes) -> None:
    atomic_write_bytes(path, data)


def format_sizes(written: Dict[str, dict]) -> str:
    lines = ["| file | size |", "|---|---:|"]
    for name, entry in written.items():
        if "path" in entry:
            lines.append(f"| {os.path.basename(entry['path'])} ({name}) | {entry['bytes'] / 1024:.1f} KiB |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command line


def build_parser(prog: str = "python -m keras_ser.export") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a finished run folder (keras_ser.fit --out), e.g. saved_models/<run>")
    parser.add_argument("--format", default="savedmodel,tflite",
                        help="comma-separated: savedmodel, tflite (default both)")
    parser.add_argument("--quantize", default="none",
                        help="comma-separated TFLite variants, one file each: none (float32), float16 (float16 "
                             "weights), dynamic (int8 weights), int8 (int8 network, calibrated on the run's training data, "
                             "float inputs/outputs; what stays float: --int8-recipe). Default none")
    parser.add_argument("--int8-recipe", default=INT8_RECIPES[0], choices=INT8_RECIPES,
                        help="what the int8 file keeps float besides the features: first-conv-float (default; "
                             "the first convolution block) or all-int8 (nothing)")
    parser.add_argument("--out", help="output folder (default <run>/export)")
    parser.add_argument("--evaluate", nargs="?", const="test", choices=("test", "val"),
                        help="score the Keras model and every exported model on the run's test (default) or "
                             "validation speakers: utterance UA per task and the export's difference to Keras "
                             "(also in export.json)")
    return parser


def main(argv: Optional[list] = None, prog: str = "python -m keras_ser.export") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        written = export_run(args.run, args.format, args.quantize, args.out, verbose=True, evaluate=args.evaluate,
                             int8_recipe=args.int8_recipe)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_sizes(written))
    if args.evaluate:
        print(f"\nUtterance UA (%) on the {args.evaluate} split, average over corpora:\n")
        print(format_evaluation(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
