"""What a fit run leaves to look at (predictions.csv, plots) and the feature settings that travel with it."""

import contextlib
import csv
import io
import json
import os

import pytest
import yaml

from keras_ser.fit import main
from pipelines.prepare import prepare
from tests.helpers import tiny_emodb, tiny_savee, tone, write_wav

pytestmark = pytest.mark.slow

HOP = 1060  # not the default 2120


@pytest.fixture(scope="module")
def prepared_hop(tmp_path_factory):
    from keras_ser.config import FeatureConfig

    folder = tmp_path_factory.mktemp("tones_hop")
    corpora = {"emodb": tiny_emodb(str(folder / "emodb")), "savee": tiny_savee(str(folder / "savee"))}
    prepare(corpora, str(folder / "prepared"), FeatureConfig(segment_hop=HOP), workers=0, verbose=False)
    return str(folder / "prepared")


@pytest.fixture(scope="module")
def api_run(prepared_hop, tmp_path_factory):
    """One run through the Python API (`keras_ser.fit`, as the README shows), its printed output kept."""
    import keras_ser
    from tests.helpers import TINY_MODEL

    out = tmp_path_factory.mktemp("run_folder") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = keras_ser.fit(data={"prepared": prepared_hop}, model=TINY_MODEL,
                            train={"epochs": 2, "batch_size": 16, "seed": 1}, out=str(out))
    (out / "printed.txt").write_text(printed.getvalue())
    return run


@pytest.fixture(scope="module")
def run_dir(api_run):
    import pathlib

    return pathlib.Path(api_run.root)


def test_the_prepared_folder_s_hop_is_the_run_s(run_dir):
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["features"]["segment_hop"] == HOP


def test_predictions_csv_reproduces_the_results(run_dir):
    with open(run_dir / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    results = json.loads((run_dir / "results.json").read_text())
    speakers = json.loads((run_dir / "speakers.json").read_text())["plan"]["test"]
    assert {r["speaker"] for r in rows} == set(speakers)
    assert len({(r["corpus"], r["utterance_id"]) for r in rows}) == len(rows)
    for task, classes in (("arousal", ["low", "high"]), ("valence", ["negative", "positive"])):
        for corpus, entry in results["test"][task].items():
            if corpus == "average":
                continue
            confusion = [[0, 0], [0, 0]]
            for row in rows:
                if row["corpus"] == corpus and row[f"{task}_true"]:
                    confusion[classes.index(row[f"{task}_true"])][classes.index(row[f"{task}_predicted"])] += 1
                    assert 0.5 <= float(row[f"{task}_probability"]) <= 1.0
            assert confusion == entry["utterance"]["confusion"], (task, corpus)


def test_plots_are_pngs(run_dir):
    for name in ("curves.png", "arousal-confusion.png", "valence-confusion.png"):
        assert (run_dir / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_the_run_folder_is_printed(run_dir):
    printed = (run_dir / "printed.txt").read_text().splitlines()
    assert printed[0] == f"run folder: {run_dir}"
    assert printed[-1] == f"run folder: {run_dir} (results.md, predictions.csv, plots/)"


def test_feature_settings_contradicting_the_prepared_folder_are_refused(prepared_hop, tmp_path, capsys):
    # An explicit feature setting that contradicts the prepared folder is refused before any work.
    assert main(["--prepared", prepared_hop, "--out", str(tmp_path / "x"), "--set", "features.segment_hop=2000"]) == 2
    assert "features.segment_hop: 2000 here, 1060 in the folder" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_the_python_api_returns_the_run_and_exports_with_the_run_s_hop(api_run, run_dir, tmp_path):
    import keras_ser

    assert isinstance(api_run, keras_ser.Run) and api_run.root == str(run_dir)
    assert api_run.results == json.loads((run_dir / "results.json").read_text())
    assert api_run.results["tasks"] == ["arousal", "valence"] and len(api_run.history) == 2
    assert api_run.config.features.segment_hop == HOP
    # The README's five lines: export, load, call on a file.
    written = api_run.export(formats="tflite")
    summary = json.loads((run_dir / "export" / "export.json").read_text())
    assert summary["features"]["segment_hop"] == HOP
    recognizer = keras_ser.Recognizer.load(written["tflite_none"]["path"])
    assert recognizer.features.segment_hop == HOP
    path = write_wav(str(tmp_path / "speech.wav"), tone(1.0, 16000, 200, 0.5, seed=3), 16000)
    prediction = recognizer(path)
    assert set(prediction.probabilities) == {"arousal", "valence"}
    assert len(prediction.timeline) == 1 + (16000 - 4240) // HOP
