"""python -m keras_ser.experiments end to end on tiny tone corpora (1 seed, 1 epoch, a small network)."""

import json
import os
import shutil

import numpy as np
import pytest
import yaml

from keras_ser.experiments.__main__ import main
from tests.experiments.conftest import tiny_suite

PAPER_ROWS = ["Baseline (S)", "DANN_1 (S)", "DANN_2 (S)", "DANN_2 (S+C)"]
ROW_FOLDERS = {"Baseline (S)": "baseline-s", "DANN_1 (S)": "dann_1-s", "DANN_2 (S)": "dann_2-s",
               "DANN_2 (S+C)": "dann_2-s-c"}

# The tests sharing paper_run run on one xdist worker, so the suite trains once.
shares_paper_run = pytest.mark.xdist_group("experiments")


@pytest.fixture(scope="module")
def paper_run(tones, tmp_path_factory):
    """The paper suite (tiny network) once: multi, and cross with savee as the source. Read-only:
    a test that changes the output works on `_copy_of(paper_run, ...)`."""
    folder = tmp_path_factory.mktemp("paper")
    args = ["--suite", tiny_suite(folder), "--prepared", tones, "--seeds", "1", "--epochs", "1",
            "--cross-sources", "savee", "--out", str(folder / "out"), "--quiet"]
    assert main(args) == 0
    return folder / "out", args


def _copy_of(paper_run, folder):
    """The finished suite copied into `folder`, each run's config.yaml pointing at its copy."""
    out, args = paper_run
    copy = folder / "out"
    shutil.copytree(out, copy)
    for saved in copy.glob("runs/*/*/*/config.yaml"):
        tree = yaml.safe_load(saved.read_text())
        tree["out"] = str(saved.parent)
        saved.write_text(yaml.safe_dump(tree, sort_keys=False))
    return copy, [str(copy) if a == str(out) else a for a in args]


@shares_paper_run
@pytest.mark.slow
def test_paper_suite_writes_tables_numbers_and_plots(paper_run):
    out, _ = paper_run
    report = json.loads((out / "report.json").read_text())
    assert list(report["groups"]) == ["multi", "cross-savee"]
    assert report["groups"]["multi"]["columns"] == ["emodb", "savee", "average"]
    assert report["groups"]["cross-savee"]["columns"] == ["emodb", "average"]
    markdown = (out / "report.md").read_text()
    for key, group in report["groups"].items():
        for task in ("arousal", "valence"):
            table = group["tables"][task]
            assert list(table) == PAPER_ROWS
            for row, cells in table.items():
                # Each cell is its run's test UA (one seed), the average column the mean over corpora.
                results = json.loads((out / "runs" / key / ROW_FOLDERS[row] / "seed0" / "results.json").read_text())
                for column in group["columns"]:
                    cell = cells[column]
                    assert cell["values"] == [pytest.approx(results["test"][task][column]["utterance"]["ua"])]
                    assert cell["mean"] == pytest.approx(cell["values"][0]) and cell["std"] is None
                    assert cell["ci"][0] <= cell["mean"] + 1e-9 and cell["ci"][1] >= cell["mean"] - 1e-9
                corpora = [c for c in group["columns"] if c != "average"]
                assert cells["average"]["mean"] == pytest.approx(np.mean([cells[c]["mean"] for c in corpora]))
        for row in PAPER_ROWS:
            for label in ("corpus", "language", "gender"):
                probe = group["invariance"][row][label]
                assert probe["mean"] is None or 0 <= probe["mean"] <= 1
            assert group["invariance"][row]["corpus"]["mean"] is not None
    for row in PAPER_ROWS:
        assert markdown.count(f"| {row} |") == 2 * 3  # two protocol groups x (arousal, valence, invariance)
    assert "Multi-corpus protocol" in markdown and "source savee -> targets emodb" in markdown
    # Which normalisation each row used, in both files.
    assert report["normalisation"] == {row: ["global"] for row in PAPER_ROWS}
    assert {run["normalisation"] for run in report["runs"]} == {"global"}
    assert "- feature normalisation of each row: " + "; ".join(f"{row}: global" for row in PAPER_ROWS) in markdown
    assert "**" in markdown.split("**Arousal UA (%)**")[1].split("\n\n")[1]  # a bold best cell
    # Every linked plot exists and is a PNG.
    links = [line.split("](")[1].rstrip(")") for line in markdown.splitlines() if "](plots/" in line]
    assert len(links) >= 2 * (4 + 2 + 1)
    for link in links:
        with open(out / link, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", link
    assert (out / "plots" / "multi-embeddings.png").exists()


@shares_paper_run
@pytest.mark.slow
def test_table_cells_agree_with_each_runs_results(paper_run):
    out, _ = paper_run
    report = json.loads((out / "report.json").read_text())
    run = out / "runs" / "multi" / "dann_2-s-c" / "seed0"
    results = json.loads((run / "results.json").read_text())
    for task in ("arousal", "valence"):
        cells = report["groups"]["multi"]["tables"][task]["DANN_2 (S+C)"]
        for corpus in ("emodb", "savee", "average"):
            assert cells[corpus]["mean"] == pytest.approx(results["test"][task][corpus]["utterance"]["ua"])
    # The per-utterance predictions kept for the bootstrap reproduce the run's confusion matrix.
    with np.load(run / "analysis.npz") as arrays:
        ids, labels, predicted = (arrays[f"predictions_arousal_{k}"] for k in ("ids", "labels", "predicted"))
    emodb = np.char.startswith(ids.astype(str), "emodb/")
    confusion = np.zeros((2, 2), int)
    np.add.at(confusion, (labels[emodb], predicted[emodb]), 1)
    assert confusion.tolist() == results["test"]["arousal"]["emodb"]["utterance"]["confusion"]


@shares_paper_run
@pytest.mark.slow
def test_repeating_the_command_does_not_retrain(paper_run, tmp_path):
    out, args = _copy_of(paper_run, tmp_path)
    results = sorted(out.glob("runs/*/*/*/results.json"))
    assert len(results) == 8
    before = {p: os.stat(p).st_mtime_ns for p in results}
    weights = {p: os.stat(p.parent / "best.weights.h5").st_mtime_ns for p in results}
    # With the paper's numbers filled in for these corpora, they appear as extra rows.
    reference = tmp_path / "reference.yaml"
    reference.write_text(yaml.safe_dump({"source": "test", "corpora": ["emodb", "savee"], "tables": {
        "multi": {"arousal": {"Baseline (S)": {"emodb": 61.5, "savee": None, "average": 70.25}}}}}))
    assert main(args + ["--paper-reference", str(reference)]) == 0
    assert {p: os.stat(p).st_mtime_ns for p in results} == before
    assert {p: os.stat(p.parent / "best.weights.h5").st_mtime_ns for p in results} == weights
    report = json.loads((out / "report.json").read_text())
    assert {r["status"] for r in report["runs"]} == {"cached"}
    markdown = (out / "report.md").read_text()
    assert "| Baseline (S) [paper] | 61.50 | - | 70.25 |" in markdown
    assert markdown.count("[paper] |") == 1


@shares_paper_run
@pytest.mark.slow
def test_an_interrupted_suite_resumes_and_other_settings_are_refused(paper_run, tmp_path, capsys):
    out, args = _copy_of(paper_run, tmp_path)
    run = out / "runs" / "cross-savee" / "baseline-s" / "seed0"
    os.remove(run / "results.json")  # as if killed after training, before the test evaluation
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    statuses = {r["out"]: r["status"] for r in report["runs"]}
    assert statuses[str(run)] == "resumed" and list(statuses.values()).count("cached") == 7
    assert (run / "results.json").exists()
    # The same folder with other settings is refused, not mixed into the tables.
    assert main([a if a != "1" or i != args.index("--epochs") + 1 else "2" for i, a in enumerate(args)]) == 2
    assert "holds a run with other settings (train.epochs: 1 -> 2)" in capsys.readouterr().err


@pytest.mark.slow
def test_custom_suite_with_speaker_folds(tones, tmp_path):
    suite = tmp_path / "study.yaml"
    suite.write_text(yaml.safe_dump({
        "description": "gamma, two values",
        "base": {"model": {"preset": "dann2", "loss": "s", "conv_filters": [8, 8, 8], "lstm_units": 16,
                           "embedding_dim": 16, "domain_hidden": 16}, "train": {"batch_size": 16, "epochs": 1}},
        "protocols": {"multi": {}},
        "tasks": ["arousal"],
        "variants": [{"name": "no reversal", "overrides": {"model": {"gamma": 0.0}}},
                     {"name": "gamma 1", "overrides": {"model": {"gamma": 1.0}}}],
        "analysis": {"embedding": "pca", "embedding_samples": 200, "probe_samples": 200, "bootstrap": 100},
    }))
    out = tmp_path / "out"
    assert main(["--suite", str(suite), "--prepared", str(tones), "--folds", "2", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["folds"] == 2 and report["tasks"] == ["arousal"]
    table = report["groups"]["multi"]["tables"]["arousal"]
    assert list(table) == ["no reversal", "gamma 1"] and "valence" not in report["groups"]["multi"]["tables"]
    # Each fold tests other speakers; pooled over the folds, every speaker is tested once.
    tested = []
    for fold in (0, 1):
        plan = json.loads((out / "runs" / "multi" / "gamma-1" / f"seed0-fold{fold}" / "speakers.json").read_text())
        tested += plan["plan"]["test"]
    assert len(tested) == len(set(tested)) == 9
    # The cell pools both folds' utterances: every test utterance of a corpus counts once.
    counts = sum(json.loads((out / "runs" / "multi" / "gamma-1" / f"seed0-fold{f}" / "results.json").read_text())
                 ["test"]["arousal"]["emodb"]["utterance"]["count"] for f in (0, 1))
    assert counts == 5 * 4
    assert "| no reversal |" in (out / "report.md").read_text()


def test_a_per_task_suite_reports_each_task_from_its_own_network(tones, tmp_path):
    suite = tiny_suite(tmp_path, protocols={"multi": {}}, task_models="per_task", compare=["S+C"], seeds=1,
                       variants=[{"name": "S+C", "overrides": {"model": {"preset": "dann2", "loss": "sc"}}}])
    out = tmp_path / "out"
    assert main(["--suite", suite, "--prepared", str(tones), "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert sorted(os.listdir(out / "runs" / "multi" / "s-c")) == ["seed0-arousal", "seed0-valence"]
    for task in ("arousal", "valence"):
        results = json.loads((out / "runs" / "multi" / "s-c" / f"seed0-{task}" / "results.json").read_text())
        assert results["tasks"] == [task]
        cells = report["groups"]["multi"]["tables"][task]["S+C"]
        for corpus in ("emodb", "savee", "average"):
            assert cells[corpus]["mean"] == pytest.approx(results["test"][task][corpus]["utterance"]["ua"])
            assert cells[corpus]["ci"] is not None  # bootstrapped from that run's predictions
    assert "one network per task" in (out / "report.md").read_text()


@shares_paper_run
@pytest.mark.slow
def test_analysis_reads_the_predictions_the_network_makes(paper_run):
    """The report's per-utterance predictions come from predictions.csv: the same as predicting again."""
    from keras_ser.experiments.analysis import predicted_utterances
    from keras_ser.predictions import read_predictions
    from keras_ser.runs import load_run

    out, _ = paper_run
    for group in ("multi", "cross-savee"):
        run_dir = out / "runs" / group / "dann_2-s-c" / "seed0"
        run = load_run(str(run_dir), unroll=False)
        expected = predicted_utterances(run, run.config.tasks)
        read = read_predictions(str(run_dir / "predictions.csv"), run.config.tasks)
        assert list(read) == list(expected) == ["arousal", "valence"]
        for task in expected:
            assert len(expected[task]["ids"]) > 0
            for key in ("ids", "labels", "predicted"):
                np.testing.assert_array_equal(read[task][key], expected[task][key], err_msg=f"{group} {task} {key}")
