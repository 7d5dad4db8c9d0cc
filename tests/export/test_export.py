"""keras_ser.export: signatures, builtin-only TFLite, parity with Keras, int8 accuracy, command line."""

import json
import os

import numpy as np
import pytest

from keras_ser.config import DataConfig
from keras_ser.export import QUANTIZATIONS, evaluate_exports, export_run, main, tflite_operators, tflite_ops
from keras_ser.predict import load_model
from tests.export.helpers import real_segments, split_audio, utterance_ua
from tests.helpers import tone

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]

# Float32 TFLite and SavedModel against Keras: same float graph, only the
# kernels differ (XNNPACK, fused LSTM gates), so round-off level.
FLOAT_TOLERANCE = 1e-4
# Largest posterior difference from Keras on real segments: float16 weights keep
# about 3 significant digits; dynamic range stores int8 weights (activations float).
# Measured on the tiny run (proxy center form, the default): float16 3.6e-4,
# dynamic 1.2e-2 (bounded form: 8e-5 and 1.3e-3); a broken quantization is
# off by tenths.
QUANTIZED_TOLERANCE = {"float16": 1e-3, "dynamic": 2e-2}
# Softmax outputs sum to 1 up to float round-off, except int8's dequantized
# outputs (steps of 1/256 per class).
SUM_TOLERANCE = {"savedmodel": 1e-5, "tflite_none": 1e-5, "tflite_float16": 1e-5, "tflite_dynamic": 1e-5,
                 "tflite_int8": 1 / 128}
# One point of unweighted accuracy.
INT8_UA_LOSS = 0.01



def _is_builtin(op: str) -> bool:
    """tflite_ops names Flex and custom ops "CUSTOM:<name>"; builtins by their BuiltinOperator name."""
    return not op.startswith("CUSTOM:")


def test_writes_savedmodel_tflite_per_quantization_and_summary(exported, run_dir):
    out = os.path.join(run_dir, "export")
    assert os.path.exists(os.path.join(out, "saved_model", "saved_model.pb"))
    for quantize in QUANTIZATIONS:
        entry = exported[f"tflite_{quantize}"]
        assert os.path.dirname(entry["path"]) == out and os.path.getsize(entry["path"]) == entry["bytes"] > 0
    summary = json.load(open(os.path.join(out, "export.json")))
    assert summary["signatures"] == ["segments", "waveform", "waveform_adapted", "statistics"]
    assert summary["tasks"] == ["arousal", "valence"] and summary["normalisation"] == DataConfig.normalisation
    assert summary["files"]["tflite_int8"]["bytes"] == exported["tflite_int8"]["bytes"]
    assert summary["int8_recipe"] == "first-conv-float"
    # Quantized weights are smaller than float32 ones.
    sizes = {q: exported[f"tflite_{q}"]["bytes"] for q in QUANTIZATIONS}
    assert sizes["dynamic"] < sizes["float16"] < sizes["none"] and sizes["int8"] < sizes["none"]


@pytest.mark.parametrize("name", ["savedmodel", *(f"tflite_{q}" for q in QUANTIZATIONS)])
def test_both_signatures_with_the_trained_tasks(exported, name):
    model = load_model(exported[name]["path"])
    assert model.tasks == ["arousal", "valence"]
    if name.startswith("tflite"):
        # The standalone runtime a device ships, not TensorFlow's copy of it.
        assert type(model.interpreter).__module__.startswith("ai_edge_litert")
    segments = model.segments(np.zeros((3, 32, 129, 1), np.float32))
    utterance = model.waveform(np.zeros(16000, np.float32) + 0.01)
    for task in model.tasks:
        assert segments[task].shape == (3, 2) and utterance[task].shape == (2,)
        np.testing.assert_allclose(segments[task].sum(axis=1), 1.0, atol=SUM_TOLERANCE[name])


@pytest.mark.parametrize("quantize", QUANTIZATIONS)
def test_tflite_uses_builtin_ops_only(exported, quantize):
    ops = tflite_ops(exported[f"tflite_{quantize}"]["path"])
    assert sorted(ops) == ["segments", "statistics", "waveform", "waveform_adapted"]
    assert all(_is_builtin(op) for names in ops.values() for op in names), ops
    # The features are in the graph: STFT as builtin RFFT2D + COMPLEX_ABS.
    for signature in ("waveform", "waveform_adapted", "statistics"):
        assert {"RFFT2D", "COMPLEX_ABS", "LOG"} <= set(ops[signature])
    assert "RFFT2D" not in ops["segments"]


def test_savedmodel_and_float_tflite_match_keras_on_real_segments(exported, run):
    x = real_segments(run)[:48]
    keras_out = {k: np.asarray(v) for k, v in run.network.inference_model(x, training=False).items()}
    for name in ("savedmodel", "tflite_none"):
        out = load_model(exported[name]["path"]).segments(x)
        for task in run.config.tasks:
            diff = np.max(np.abs(out[task] - keras_out[task]))
            assert diff <= FLOAT_TOLERANCE, (name, task, diff)


@pytest.mark.parametrize("quantize", sorted(QUANTIZED_TOLERANCE))
def test_float16_and_dynamic_match_keras_on_real_segments(exported, run, quantize):
    x = real_segments(run)[:48]
    keras_out = {k: np.asarray(v) for k, v in run.network.inference_model(x, training=False).items()}
    out = load_model(exported[f"tflite_{quantize}"]["path"]).segments(x)
    tolerance = QUANTIZED_TOLERANCE[quantize]
    for task in run.config.tasks:
        diff = np.abs(out[task] - keras_out[task])
        assert np.max(diff) <= tolerance, (quantize, task, np.max(diff))
        assert np.max(diff) > 0, "a quantized file that computes exactly the float graph was not quantized"
        # The same decision wherever Keras is further from 0.5 than the tolerance.
        clear = np.abs(keras_out[task][:, 1] - 0.5) > tolerance
        np.testing.assert_array_equal(out[task][clear].argmax(axis=1), keras_out[task][clear].argmax(axis=1))


@pytest.mark.parametrize("seconds", [0.2, 0.6, 1.37])
def test_waveform_signature_is_the_mean_of_segment_posteriors(exported, run, seconds):
    """Any length, including shorter than one segment (zero-padded to one)."""
    from keras_ser.export import normalised_segments

    waveform = tone(seconds, 16000, 220, 0.6, seed=3)
    x = normalised_segments(waveform, run.config.features, run.mean, run.std).numpy()
    expected = {k: np.asarray(v).mean(axis=0) for k, v in run.network.inference_model(x, training=False).items()}
    for name in ("savedmodel", "tflite_none"):
        out = load_model(exported[name]["path"]).waveform(waveform)
        for task in run.config.tasks:
            assert np.max(np.abs(out[task] - expected[task])) <= FLOAT_TOLERANCE, (name, seconds)


def test_int8_loses_at_most_one_point_of_utterance_ua(exported, run):
    scores = evaluate_exports(run, {name: exported[name] for name in ("tflite_none", "tflite_int8")})
    float_ua, int8_ua = utterance_ua(scores["tflite_none"]), utterance_ua(scores["tflite_int8"])
    assert float_ua and set(float_ua) == set(int8_ua)
    # The tiny run has learned something, so the comparison is not between two coin flips.
    assert np.mean(list(float_ua.values())) > 0.5
    for key in float_ua:
        assert int8_ua[key] >= float_ua[key] - INT8_UA_LOSS, (key, float_ua[key], int8_ua[key])


def _conv_input_types(model_path: str, signature: str):
    """Input tensor types of the CONV_2D ops of one signature, in graph order."""
    return [inputs[0] for name, op, inputs in tflite_operators(model_path) if name == signature and op == "CONV_2D"]


def test_int8_keeps_only_the_first_convolution_float(exported):
    for signature in ("segments", "waveform", "waveform_adapted"):
        assert _conv_input_types(exported["tflite_int8"]["path"], signature) == ["FLOAT32", "INT8", "INT8"]
        assert _conv_input_types(exported["tflite_none"]["path"], signature) == ["FLOAT32"] * 3


def test_all_int8_recipe_quantizes_the_first_convolution_too(run_dir, tmp_path):
    written = export_run(run_dir, ["tflite"], ["int8"], out=str(tmp_path), int8_recipe="all-int8")
    for signature in ("segments", "waveform"):
        assert _conv_input_types(written["tflite_int8"]["path"], signature) == ["INT8"] * 3
    assert json.load(open(tmp_path / "export.json"))["int8_recipe"] == "all-int8"


def test_int8_waveform_signature_agrees_with_float_on_test_audio(exported, run):
    """The in-graph features stay float in the int8 file; a log of int8 magnitudes would flip decisions."""
    from keras_ser.features import load_waveform

    float_model = load_model(exported["tflite_none"]["path"])
    int8_model = load_model(exported["tflite_int8"]["path"])
    utterances = split_audio(run)
    assert len(utterances) >= 8
    for path, _ in utterances:
        waveform = load_waveform(path, run.config.features)[0]
        expected, quantized = float_model.waveform(waveform), int8_model.waveform(waveform)
        for task in run.config.tasks:
            # Dequantized outputs (steps of 1/256) plus int8 network error.
            assert np.max(np.abs(quantized[task] - expected[task])) <= 0.05, (path, task)
            if abs(expected[task][1] - 0.5) > 0.05:
                assert quantized[task].argmax() == expected[task].argmax(), (path, task)


def test_cli_exports_the_chosen_variants_to_a_chosen_folder_and_scores_them_against_keras(run_dir, tmp_path, capsys):
    out = tmp_path / "scored"
    assert main([run_dir, "--format", "tflite", "--quantize", "none,dynamic", "--out", str(out), "--evaluate"]) == 0
    # The chosen variants only, in the chosen folder.
    assert sorted(os.listdir(out)) == ["export.json", "model.tflite", "model_dynamic.tflite", "normalisation.json"]
    printed = capsys.readouterr().out
    assert "model_dynamic.tflite" in printed
    assert "| model | arousal UA | vs Keras | valence UA | vs Keras |" in printed
    assert "| keras | " in printed and "| tflite_dynamic | " in printed
    evaluation = json.load(open(out / "export.json"))["evaluation"]
    assert evaluation["split"] == "test" and list(evaluation["scores"]) == ["keras", "tflite_none", "tflite_dynamic"]
    # The Keras reference is the fit's own test evaluation of the run.
    fitted = json.load(open(os.path.join(run_dir, "results.json")))["test"]
    assert utterance_ua(evaluation["scores"]["keras"]) == utterance_ua(fitted)
    # The float file scores what Keras scores.
    assert utterance_ua(evaluation["scores"]["tflite_none"]) == utterance_ua(fitted)


@pytest.mark.parametrize("args, message", [
    (["--quantize", "int4"], "--quantize: int4 not accepted; choose from none, float16, dynamic, int8"),
    (["--format", "onnx"], "--format: onnx not accepted"),
])
def test_cli_rejects_bad_options_with_exit_code_2(run_dir, tmp_path, capsys, args, message):
    assert main([run_dir, "--out", str(tmp_path / "x"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_names_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "is not a finished keras_ser run (missing config.yaml)" in capsys.readouterr().err
